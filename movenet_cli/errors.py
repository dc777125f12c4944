"""Every error the user may cause, under one base with its exit code.

The command line prints a :class:`MovenetError` as one line (``movenet: error: ...``)
and exits with its ``exit_code``; anything else is a bug and is reported as an
unexpected error. Library callers catch :class:`MovenetError`.

Example::

    from pathlib import Path
    from movenet_cli import PoseEstimator
    from movenet_cli.errors import MovenetError
    from movenet_cli.pipeline import Outputs, process_video

    try:
        process_video(PoseEstimator("multipose"), "sample_media/missing.mp4", Outputs(json=Path("out/m.json")))
    except MovenetError as exc:
        print(exc.format_message(), exc.exit_code)   # sample_media/missing.mp4: no such file ... 1
"""

from __future__ import annotations

import errno
import os
import re

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_EXPECTATION = 3
EXIT_INTERRUPTED = 130


def first_line(exc: BaseException | str) -> str:
    """The first non-empty line of an error's message (its type name if it has none)."""
    text = str(exc).strip()
    if not text:
        return type(exc).__name__ if isinstance(exc, BaseException) else ""
    return text.splitlines()[0]


# Credentials in a URL anywhere in a text: the userinfo of ``scheme://user:password@host``, and
# query or fragment parameters named like a secret (``?token=...``, S3/GCS/Azure signatures).
_USERINFO = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.-]*://)(?P<info>[^\s/?#]*)@")
_SECRET_PARAMS = re.compile(
    r"(?P<key>[?&;#](?:[\w.-]*[_.-])?(?:pass|passwd|password|pwd|secret|token|auth|authorization|apikey|key|"
    r"sig|signature|credential|session|awsaccesskeyid|x-amz-[a-z-]+|x-goog-[a-z-]+))=(?P<value>[^&;#\s]+)",
    re.IGNORECASE)
# Azure's URLs name a container, not a user, before the @ (abfs://container@account.dfs...).
_CONTAINER_SCHEMES = ("abfs://", "abfss://", "az://")
# Credentials of the storage back ends' environments: their values are never shown either.
SECRET_ENV = ("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_ACCESS_KEY_ID",
              "AZURE_STORAGE_KEY", "AZURE_STORAGE_ACCOUNT_KEY", "AZURE_STORAGE_CONNECTION_STRING",
              "AZURE_STORAGE_SAS_TOKEN", "AZURE_CLIENT_SECRET", "GOOGLE_OAUTH_ACCESS_TOKEN")


def redact(text: object) -> str:
    """``text`` with every credential in a URL replaced by ``***``: the password of ``user:password@``
    (a userinfo with no password, often a token, entirely; not Azure's ``container@``), query
    parameters named like a secret, and the values of the storage credential variables (:data:`SECRET_ENV`). Every line, report and file the tool writes goes through this (via :func:`safe_name`).

    >>> redact("rtsp://cam:secret@10.0.0.2/live failed; see https://h/x.mp4?X-Amz-Signature=ab12&n=1")
    'rtsp://cam:***@10.0.0.2/live failed; see https://h/x.mp4?X-Amz-Signature=***&n=1'
    """
    text = str(text)
    for name in SECRET_ENV:  # the values of the storage credential variables, wherever they appear
        value = os.environ.get(name)
        if value and len(value) >= 4 and value in text:
            text = text.replace(value, "***")
    if "://" not in text:
        return text

    def userinfo(m: re.Match) -> str:
        user, colon, _ = m.group("info").partition(":")
        if colon:
            return f"{m.group('scheme')}{user}:***@"
        return m.group(0) if m.group("scheme").lower() in _CONTAINER_SCHEMES else f"{m.group('scheme')}***@"

    text = _USERINFO.sub(userinfo, text)
    return _SECRET_PARAMS.sub(lambda m: f"{m.group('key')}=***", text)


def safe_name(path: str | os.PathLike) -> str:
    """A path or message as it may be printed on one terminal line: credentials in URLs redacted
    (:func:`redact`), control characters and undecodable bytes of file names escaped."""
    text = redact(os.fspath(path))
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


# What an OS error means, in words that point at the fix (the errno's own text otherwise).
_OS_REASONS = {
    errno.EEXIST: "Something already exists there and is in the way",
    errno.ENOTDIR: "A part of the path is a file, not a folder",
    errno.EFBIG: "File too large for this file system or limit",
}


def os_reason(exc: OSError) -> str:
    """What an ``OSError`` means, without its errno number or the paths (see :func:`describe`)."""
    return _OS_REASONS.get(exc.errno, exc.strerror or first_line(exc))


def describe(exc: BaseException | str, path: str | os.PathLike | None = None, *, doing: str | None = None) -> str:
    """One line for the user: the error's first line, prefixed by ``path`` unless it names it already.

    An ``OSError`` says what it means, which file it concerns and, with ``doing``, what was being
    done: ``describe(err, doing="creating the model cache (MOVENET_HOME)")`` gives
    ``/data/mh: creating the model cache (MOVENET_HOME): Something already exists there and is in the way``
    rather than ``[Errno 17] File exists``.
    """
    if isinstance(exc, OSError) and exc.errno is not None:
        files = [safe_name(f) for f in (exc.filename, exc.filename2) if f is not None]
        message = ": ".join([" -> ".join(files)] if files else [])
        message = ": ".join(part for part in (message, doing, os_reason(exc)) if part)
    else:
        message = first_line(exc)
        if doing:
            message = f"{doing}: {message}"
    if path is not None:
        name = safe_name(path)
        if name not in message:
            message = f"{name}: {message}"
    return message


class MovenetError(Exception):
    """An error the user can act on; its message is one line, ``exit_code`` what the command exits with."""

    exit_code = EXIT_FAILED

    def __init__(self, message: str = "", *, exit_code: int | None = None):
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code

    def format_message(self) -> str:
        return first_line(self)


class UsageError(MovenetError):
    """Options or arguments that cannot work together (exit 2)."""

    exit_code = EXIT_USAGE


class MediaError(MovenetError):
    """An image or video that cannot be read or written (e.g. 'not a video file', 'no video stream')."""


class IncompleteInput(MediaError):
    """A video that decoded only in part; its outputs exist and say ``"complete": false``."""


class ModelStoreError(MovenetError):
    """A model could not be fetched, imported or verified."""


class PreflightError(MovenetError):
    """An input or output path that cannot be used; the message names it."""


class OutputExistsError(MovenetError):
    """An output that would replace a file it may not (an existing file, an input, another output)."""


class FolderRunError(MovenetError):
    """A folder run cannot start or go on; single files fail on their own."""


class StorageError(FolderRunError):
    """A bucket that cannot be listed, read, written or locked; one line, credentials removed."""


class EvalError(MovenetError):
    """Ground truth or images for ``eval`` that cannot be used; the message names the file."""


class PlotError(MovenetError):
    """The plot cannot be made (e.g. matplotlib is missing)."""


class ReportError(MovenetError):
    """A report that cannot be built (no manifest, unreadable results, unwritable folder); names the file."""


class ExpectationError(MovenetError):
    """A run whose results did not meet the expectations asked for (exit 3)."""

    exit_code = EXIT_EXPECTATION
