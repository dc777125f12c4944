"""Network inputs: ``http://``, ``https://`` and ``rtsp://`` URLs given to ``movenet video``.

A URL is read once, by the decoder, as it arrives; nothing is downloaded first. Every wait on the
server is bounded: ffmpeg gets ``-rw_timeout`` (http/https) or ``-timeout`` (rtsp) in microseconds,
the probe opens the URL with the same limit, so a server that is down or silent fails in one line
("could not connect", "timed out") instead of hanging. What needs the whole input before the
run (the timestamp pre-pass, the audio copy, an exact frame count) is left out, with a warning.

Example::

    from movenet_cli.media.url import display_url, input_args, is_url

    source = "rtsp://cam:secret@192.168.1.20/stream1"
    if is_url(source):
        print(input_args(source, 15.0))      # ['-timeout', '15000000'] (http/https: -rw_timeout)
        print(display_url(source))           # rtsp://cam:***@192.168.1.20/stream1
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit

from ..errors import redact

__all__ = ["URL_SCHEMES", "is_url", "input_args", "display_url"]

URL_SCHEMES = ("http", "https", "rtsp")


def is_url(source: object) -> bool:
    """Whether ``source`` is a string naming an http, https or rtsp URL (a Path never is)."""
    if not isinstance(source, str):
        return False
    scheme, sep, _ = source.partition("://")
    return bool(sep) and scheme.lower() in URL_SCHEMES


def timeout_option(url: str) -> str:
    """The ffmpeg option that bounds each wait on the server for this URL's protocol."""
    return "timeout" if urlsplit(url).scheme.lower() == "rtsp" else "rw_timeout"


def input_args(url: str, timeout_s: float) -> list[str]:
    """ffmpeg input options for ``url``: its wait limit in microseconds."""
    return [f"-{timeout_option(url)}", str(max(1, round(timeout_s * 1_000_000)))]


def display_url(url: str | os.PathLike) -> str:
    """``url`` as it may be printed or recorded: credentials replaced by ``***``
    (:func:`~movenet_cli.errors.redact`, the one place every output goes through)."""
    return redact(os.fspath(url))
