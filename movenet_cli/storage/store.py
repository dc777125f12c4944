"""One bucket prefix as a folder: list, read, publish, lock (see the package doc).

Credentials are redacted by :func:`movenet_cli.errors.redact`, the one place every output goes through.

Example::

    from movenet_cli.storage.store import redact

    print(redact("could not reach http://me:hunter2@127.0.0.1:9000/x?X-Amz-Signature=abc&part=1"))
    # could not reach http://me:***@127.0.0.1:9000/x?X-Amz-Signature=***&part=1
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import tempfile
from pathlib import Path
from typing import Iterator

from ..errors import StorageError, redact

# scheme -> the extra that brings its fsspec back end
SCHEMES = {"s3": "s3", "s3a": "s3", "gs": "gcs", "gcs": "gcs", "az": "azure", "abfs": "azure", "abfss": "azure",
           "memory": "s3"}  # memory: fsspec's in-process store (bench/storage.py measures our side with it)
_URL = re.compile(r"^(%s):/+" % "|".join(SCHEMES), re.IGNORECASE)


def as_url(path: object) -> str | None:
    """The bucket URL ``path`` names, or None for a local path.

    A :class:`~pathlib.Path` made from ``s3://b/k`` reads ``s3:/b/k``; it is given back as the URL."""
    if path is None:
        return None
    text = os.fspath(path) if isinstance(path, os.PathLike) else str(path)
    match = _URL.match(text)
    if not match:
        return None
    return f"{match.group(1).lower()}://{text[match.end():]}".rstrip("/") or None


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return redact(text)


class Store:
    """A bucket prefix (``s3://bucket/prefix``) that lists, reads, publishes and locks like a folder."""

    def __init__(self, url: str):
        self.url = url.rstrip("/")
        self.name = redact(self.url)
        scheme = self.url.split(":", 1)[0].lower()
        try:
            from fsspec.core import url_to_fs

            self.fs, self.root = url_to_fs(self.url)
        except ImportError:
            raise StorageError(f"{self.name}: reading {scheme}:// needs its back end: "
                               f"pip install 'movenet-cli[{SCHEMES.get(scheme, scheme)}]'") from None
        except Exception as exc:  # noqa: BLE001 - back ends raise many kinds; the user needs one line
            raise StorageError(f"{self.name}: {_reason(exc)}") from None
        self.root = self.root.rstrip("/")

    def key(self, rel: str) -> str:
        return f"{self.root}/{rel}" if rel else self.root

    def url_of(self, rel: str) -> str:
        return f"{self.url}/{rel}" if rel else self.url

    @contextlib.contextmanager
    def _errors(self, rel: str, doing: str) -> Iterator[None]:
        try:
            yield
        except StorageError:
            raise
        except Exception as exc:  # noqa: BLE001 - one line, credentials removed
            raise StorageError(f"{redact(self.url_of(rel))}: cannot {doing} ({_reason(exc)})") from None

    def listing(self) -> dict[str, int]:
        """Every object under the prefix, by path relative to it, with its size: one listing."""
        with self._errors("", "list"):
            found = self.fs.find(self.root, detail=True)
        cut = len(self.root) + 1
        return {name[cut:]: int(info.get("size") or 0) for name, info in found.items()
                if info.get("type", "file") == "file" and name.startswith(self.root + "/")}

    def check_writable(self) -> None:
        """Fail in one line when objects cannot be written (and removed) under the prefix."""
        rel = f".movenet-probe.{socket.gethostname()}.{os.getpid()}"
        with self._errors("", "write here"):
            self.fs.pipe_file(self.key(rel), b"")
            self.fs.rm_file(self.key(rel))

    def fetch(self, rel: str, local: str | os.PathLike) -> None:
        """Copy the object to ``local`` (written under a temporary name, renamed when whole)."""
        local = Path(local)
        local.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=local.parent, prefix=f".{local.name}.", suffix=".partial")
        os.close(fd)
        try:
            with self._errors(rel, "read"):
                self.fs.get_file(self.key(rel), tmp)
            os.replace(tmp, local)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)

    def size(self, rel: str) -> int:
        """The object's size (fails in one line when it cannot be read)."""
        with self._errors(rel, "read"):
            return int(self.fs.info(self.key(rel)).get("size") or 0)

    def read_bytes(self, rel: str) -> bytes | None:
        """The object's content, or None when there is none."""
        try:
            with self._errors(rel, "read"):
                return self.fs.cat_file(self.key(rel))
        except StorageError:
            if not self.fs.exists(self.key(rel)):
                return None
            raise

    def publish(self, local: str | os.PathLike, rel: str) -> None:
        """Upload a finished file to its final key; the object appears only when whole."""
        with self._errors(rel, "write"):
            self.fs.put_file(os.fspath(local), self.key(rel))

    def remove(self, rels: list[str]) -> None:
        """Delete these objects (those that exist)."""
        if rels:
            with self._errors(rels[0], "delete"):
                self.fs.rm([self.key(rel) for rel in rels])

    def lock(self, rel: str, holder: str, *, what: str) -> None:
        """Create ``rel`` only if no object is there (a conditional write); else refuse, naming the holder."""
        try:
            self.fs.pipe_file(self.key(rel), holder.encode(), mode="create")
        except FileExistsError:
            held = (self.read_bytes(rel) or b"").decode("utf-8", "replace").strip()
            raise StorageError(f"{what} ({held or 'unknown holder'}; if that run is gone, delete "
                               f"{redact(self.url_of(rel))})") from None
        except TypeError:
            raise StorageError(f"{self.name}: this store's back end has no conditional write") from None
        except Exception as exc:  # noqa: BLE001 - one line, credentials removed
            raise StorageError(f"{redact(self.url_of(rel))}: cannot lock ({_reason(exc)})") from None

    def presign(self, rel: str, seconds: int = 3600) -> str:
        """An HTTPS URL that reads the object for ``seconds`` (never print it: it is a credential)."""
        with self._errors(rel, "sign a URL for"):
            return self.fs.sign(self.key(rel), expiration=seconds)
