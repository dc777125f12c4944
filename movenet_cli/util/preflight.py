"""Checks made before any work: inputs that can be read, outputs that can be written.

They turn the usual ways a run goes wrong at the start (a typo in a path, a file
without read permission, an empty file, an output folder that cannot be written)
into a one-line :class:`PreflightError` that names the path, says what is wrong
and what to do, before a model is loaded or a frame decoded.

Example::

    from pathlib import Path
    from movenet_cli.errors import PreflightError
    from movenet_cli.util.preflight import check_input, prepare_output_dirs

    check_input("sample_media/demo_clip.mp4", folder_hint="use `movenet dir` for folders")
    prepare_output_dirs([Path("out/clip/clip.mp4"), Path("out/clip/clip.json")])   # makes out/clip/
    try:
        check_input("sample_media")
    except PreflightError as exc:
        print(exc)                           # sample_media: is a folder; use `movenet dir` for folders
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from collections.abc import Iterable
from pathlib import Path

from ..errors import PreflightError

__all__ = ["PreflightError", "check_input", "prepare_output_dirs", "prepare_folder"]


def _reason(exc: OSError) -> str:
    return exc.strerror or os.strerror(exc.errno or errno.EIO)


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISFIFO, "a named pipe"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "not a regular file"


def check_input(path: str | os.PathLike, *, folder_hint: str = "use `movenet dir` for folders") -> None:
    """Make sure ``path`` is a regular, readable, non-empty file.

    Named pipes, devices and sockets are refused before anything opens them (reading one
    could wait for ever). Reading permission is tested by opening the file and reading one
    byte, so it holds for whoever runs the command (ACLs, read-only mounts and root
    included), not just by the mode bits.
    """
    p = Path(path)
    try:
        st = p.stat()
    except FileNotFoundError:
        if p.is_symlink():
            raise PreflightError(f"{p}: a link to {os.readlink(p)}, which does not exist; fix or remove the link") from None
        raise PreflightError(f"{p}: no such file; check the path") from None
    except OSError as exc:
        raise PreflightError(f"{p}: cannot be read ({_reason(exc)}); check the path and its permissions") from exc
    if stat.S_ISDIR(st.st_mode):
        raise PreflightError(f"{p}: is a folder; {folder_hint}")
    if not stat.S_ISREG(st.st_mode):
        raise PreflightError(f"{p}: is {_kind(st.st_mode)}, not a regular file; give a file")
    try:
        with open(p, "rb") as fh:
            fh.read(1)
    except OSError as exc:
        raise PreflightError(f"{p}: cannot be read ({_reason(exc)}); check its permissions") from exc
    if st.st_size == 0:
        raise PreflightError(f"{p}: empty file (0 bytes); re-copy or re-export it")


def prepare_folder(folder: str | os.PathLike) -> None:
    """Create ``folder`` (and its parents) if needed and check that files can be created in it.

    The check creates and deletes a hidden temporary file, so it tells the
    truth whatever the reason a write would fail.
    """
    d = Path(folder)
    try:
        d.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise PreflightError(
            f"{d}: cannot create the output folder ({_reason(exc)}); choose another output path"
        ) from exc
    if not d.is_dir():
        raise PreflightError(f"{d}: exists and is not a folder; choose another output path")
    try:
        with tempfile.TemporaryFile(dir=d, prefix=".movenet-write-test-"):
            pass
    except OSError as exc:
        raise PreflightError(
            f"{d}: output folder is not writable ({_reason(exc)}); fix its permissions or choose another output path"
        ) from exc


def prepare_output_dirs(paths: Iterable[str | os.PathLike | None]) -> None:
    """:func:`prepare_folder` for the folder of every output path (``None`` skipped)."""
    seen: set[Path] = set()
    for path in paths:
        if path is None:
            continue
        folder = Path(path).parent
        if folder not in seen:
            seen.add(folder)
            prepare_folder(folder)
