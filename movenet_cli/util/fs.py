"""Small filesystem helpers: atomic writes.

Every output file of movenet-cli is first written to a hidden temporary file
in the destination directory and then renamed over the final path with
:func:`os.replace`.  A crash or an interrupted run therefore never leaves a
half-written file under the final name; at worst a hidden ``.NAME.*.partial*``
file stays behind.

Example::

    from movenet_cli.util.fs import atomic_write, sha256_file

    with atomic_write("out/notes.txt") as fh:   # out/.notes.*.partial* until the block ends
        fh.write("done")
    print(sha256_file("out/notes.txt"))          # the file is there whole, or not at all
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import secrets
import shutil
import socket
from glob import escape as glob_escape
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, Union

from ..errors import MovenetError

PathLike = Union[str, "os.PathLike[str]"]

__all__ = [
    "Publication", "temp_folder_for", "remove_tree",
    "atomic_path", "atomic_write", "write_json_atomic", "remove_partials", "remove_quietly", "temp_path_for",
    "sha256_file", "hash_tree",
]


_NAME_MAX = 255  # bytes in one file name, on the common file systems


def _temp_stem(path: Path) -> str:
    """The NAME part of ``path``'s temporary names: its stem, cut (whole characters) so that the
    longest temporary name, ``.NAME.<8 hex>.partial-audio<suffix>``, fits in 255 bytes."""
    room = _NAME_MAX - len(f"..00000000.partial-audio{path.suffix}".encode("utf-8", "surrogateescape"))
    data = path.stem.encode("utf-8", "surrogateescape")
    if len(data) <= room:
        return path.stem
    return data[: max(1, room)].decode("utf-8", "ignore") or "x"


def temp_path_for(path: PathLike, tag: str = "partial") -> Path:
    """Return a fresh hidden temporary path next to ``path``.

    The name looks like ``.NAME.<random>.<tag><suffix>`` (e.g.
    ``.clip.3f9a1c2b.partial.mp4``): hidden, in the same directory (so the
    final rename stays on one filesystem) and ending with the original suffix
    so tools that pick a format from the extension still work. A long NAME is
    shortened so the temporary name still fits in 255 bytes.
    """
    p = Path(path)
    token = secrets.token_hex(4)
    return p.with_name(f".{_temp_stem(p)}.{token}.{tag}{p.suffix}")


def remove_quietly(path: PathLike | None) -> None:
    """Delete ``path`` if it exists; ignore every error."""
    if path is None:
        return
    with contextlib.suppress(OSError):
        os.unlink(path)


@contextlib.contextmanager
def atomic_path(path: PathLike, *, tag: str = "partial") -> Iterator[Path]:
    """Yield a temporary path to write to; rename it to ``path`` on success.

    Use this when something else (Pillow, ffmpeg, ...) writes the file by
    name.  If the body raises, the temporary file is removed and ``path`` is
    left untouched.  The destination directory must exist.

    >>> with atomic_path("out/result.json") as tmp:
    ...     tmp.write_text("{}")
    """
    final = Path(path)
    tmp = temp_path_for(final, tag)
    try:
        yield tmp
    except BaseException:
        remove_quietly(tmp)
        raise
    try:
        os.replace(tmp, final)
    except BaseException:
        remove_quietly(tmp)
        raise


@contextlib.contextmanager
def atomic_write(
    path: PathLike,
    mode: str = "w",
    *,
    encoding: str | None = None,
    newline: str | None = None,
) -> Iterator[IO[Any]]:
    """Open a temporary file for writing; rename it to ``path`` on success.

    ``mode`` is ``"w"`` (text, default UTF-8) or ``"wb"`` (binary); ``"x"``
    and ``"a"`` modes make no sense for an atomic replace and are rejected.
    The file gets the usual permissions (``0o666`` minus the umask).  On an
    exception inside the ``with`` block the temporary file is deleted and the
    exception propagates; an existing file at ``path`` is kept unchanged.

    >>> with atomic_write("out/frames.csv", newline="") as fh:
    ...     fh.write("frame,x,y\\n")
    """
    if mode not in ("w", "wt", "wb"):
        raise ValueError(f"atomic_write supports modes 'w' and 'wb', not {mode!r}")
    binary = "b" in mode
    if binary and (encoding is not None or newline is not None):
        raise ValueError("encoding/newline are only valid in text mode")
    if not binary and encoding is None:
        encoding = "utf-8"

    with atomic_path(path) as tmp:
        # O_EXCL: never clobber a file we did not create ourselves.
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
        try:
            fh = os.fdopen(fd, "wb" if binary else "w", encoding=encoding, newline=newline)
        except BaseException:
            os.close(fd)
            raise
        with fh:
            yield fh
            fh.flush()


def remove_partials(path: PathLike) -> None:
    """Delete the temporary files that an interrupted write of ``path`` left behind.

    A process killed outright (``kill -9``, a lost cluster node) cannot clean up;
    its ``.NAME.<random>.partial*SUFFIX`` files are removed before the file is
    written again.
    """
    p = Path(path)
    stem = _temp_stem(p)
    pattern = re.compile(rf"\.{re.escape(stem)}\.[0-9a-f]{{8}}\.partial(-[a-z]+)?{re.escape(p.suffix)}")
    with contextlib.suppress(OSError):
        for candidate in p.parent.glob(f".{glob_escape(stem)}.*"):
            if pattern.fullmatch(candidate.name):
                remove_quietly(candidate)


def write_json_atomic(path: PathLike, data: Any, *, indent: int | None = 2) -> None:
    """Write ``data`` as strict JSON (no NaN or Infinity) to ``path`` atomically."""
    text = json.dumps(data, indent=indent, allow_nan=False)
    with atomic_write(path) as fh:
        fh.write(text + "\n")


def sha256_file(path: PathLike, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def hash_tree(folder: Path) -> dict[str, str]:
    """SHA-256 of every file below ``folder`` (but its manifest.json), by relative path."""
    return {
        str(p.relative_to(folder)): sha256_file(p)
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != "manifest.json"
    }


class Publication:
    """Files and folders finished under temporary names, published together: all renamed into
    place, or none.

    A folder is published like a file: made whole under a hidden temporary name
    (:func:`temp_folder_for`), then renamed into place. A folder already at the final name is
    replaced whole: it is moved aside first, and removed only once everything is in place; if
    the publication fails, it is put back.

    Example::

        publication = Publication()
        publication.add(tmp_json, Path("out/a.json"))
        publication.add(tmp_folder, Path("out/a_json"))   # a folder, made under temp_folder_for(...)
        publication.publish()          # both appear, or neither (the temporary files are removed)
    """

    def __init__(self) -> None:
        self.items: list[tuple[Path, Path]] = []

    def add(self, tmp: PathLike, final: PathLike) -> None:
        self.items.append((Path(tmp), Path(final)))

    def publish(self) -> None:
        journal: list[tuple[str, Path, Path | None]] = []  # ("aside", final, where it went) / ("placed", final, None)
        try:
            for tmp, final in self.items:
                if tmp == final:
                    continue
                aside = _set_aside(final, folder=_is_folder(tmp))
                if aside is not None:
                    journal.append(("aside", final, aside))
                os.replace(tmp, final)
                journal.append(("placed", final, None))
        except BaseException:
            for step, final, aside in reversed(journal):  # undo, newest first: nothing new stays
                if step == "placed":
                    remove_tree(final)
                else:
                    with contextlib.suppress(OSError):
                        os.replace(aside, final)
            self.discard()
            raise
        for step, _, aside in journal:
            if step == "aside":
                remove_tree(aside)

    def __enter__(self) -> "Publication":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        """Leaving the block on an error discards what was added (and was not published)."""
        if exc_type is not None:
            self.discard()

    def discard(self) -> None:
        for tmp, final in self.items:
            if tmp != final:
                remove_tree(tmp)


def _is_folder(path: Path) -> bool:
    return path.is_dir() and not path.is_symlink()


def remove_tree(path: Path) -> None:
    """Remove a folder tree, or a file or link; ignore every error."""
    if _is_folder(path):
        shutil.rmtree(path, ignore_errors=True)
    else:
        remove_quietly(path)


def _set_aside(final: Path, *, folder: bool) -> Path | None:
    """Keep what ``final`` holds under a hidden name until the publication is done, so that a failure
    can put it back: a folder being replaced by a folder is moved; a file gets a second hard link
    (the rename over it then keeps the old data reachable). ``None`` when there is nothing to keep."""
    if folder and _is_folder(final):
        aside = temp_path_for(final, "partial-old")
        os.replace(final, aside)
        return aside
    if not folder and final.is_file() and not final.is_symlink():
        aside = temp_path_for(final, "partial-old")
        try:
            os.link(final, aside)
        except OSError:  # no hard links here: the old file cannot be kept
            return None
        return aside
    return None


def temp_folder_for(path: PathLike) -> Path:
    """A new, empty hidden folder beside ``path`` to build a folder of outputs in (see :class:`Publication`)."""
    tmp = temp_path_for(path)
    tmp.mkdir()
    return tmp


@contextlib.contextmanager
def run_lock(path: PathLike, *, what: str) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` for the ``with`` block, or refuse at once.

    The lock is the operating system's (``flock``), so it goes with the process that holds
    it, however that ends: a lock file left by a killed run is never in the way. The file
    names the holder (``pid`` on ``host``) for the message a second run gets.
    """
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 200).decode("utf-8", "replace").strip() or "another process"
            raise MovenetError(f"{what} ({holder}); wait for it to finish, or use another output folder") from None
        os.ftruncate(fd, 0)
        os.write(fd, f"pid {os.getpid()} on {socket.gethostname()}".encode())
        try:
            yield
        finally:
            remove_quietly(path)
    finally:
        os.close(fd)


def read_json(path: PathLike, error: type[MovenetError] = MovenetError, missing: str = "") -> Any:
    """A JSON file's data; ``error`` (one line naming the file) when it is missing, unreadable or not
    JSON. ``missing`` is added to the message of a missing file (what to do)."""
    path = Path(path)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise error(f"{path}: no such file{f' ({missing})' if missing else ''}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise error(f"{path}: cannot be read ({exc})") from None
    except json.JSONDecodeError as exc:
        raise error(f"{path}: not JSON ({exc.msg} at line {exc.lineno})") from None
    except RecursionError:
        raise error(f"{path}: JSON nested too deeply to read (arrays or objects inside each other thousands deep)") \
            from None
