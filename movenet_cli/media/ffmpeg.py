"""The ffmpeg executable: finding it, starting and stopping its children, reading its errors.

ffmpeg (from ``imageio-ffmpeg``; ``IMAGEIO_FFMPEG_EXE`` picks another) always runs in its
own process and process group, so Ctrl-C reaches only Python, which then stops it.

Example::

    from subprocess import DEVNULL, PIPE
    from movenet_cli.media.ffmpeg import ffmpeg_exe, start_ffmpeg, stop

    proc = start_ffmpeg([ffmpeg_exe(), "-version"], stdin=DEVNULL, stdout=PIPE, stderr=PIPE)
    print(proc.stdout.readline().decode())   # ffmpeg version ...
    stop(proc, proc.stdout, proc.stderr)
"""

from __future__ import annotations

import logging
import re
import subprocess
import sys
from fractions import Fraction
from functools import cache
from typing import Any

from ..errors import MediaError

logger = logging.getLogger(__name__)

def ffmpeg_exe() -> str:
    """Path of the ffmpeg executable used for all video work."""
    try:
        import imageio_ffmpeg
    except ImportError as exc:  # pragma: no cover - dependency of the package
        raise MediaError("imageio-ffmpeg is not installed; it is needed for video files") from exc
    try:
        return imageio_ffmpeg.get_ffmpeg_exe()
    except RuntimeError as exc:  # pragma: no cover - broken installation
        raise MediaError(f"no usable ffmpeg executable found: {exc}") from exc


@cache
def ffmpeg_version() -> tuple[int, int]:
    """(major, minor) of the ffmpeg in use; (99, 0) for git builds without a release number."""
    try:
        import imageio_ffmpeg

        text = imageio_ffmpeg.getffmpeg_version()
    except Exception:  # pragma: no cover - very unusual ffmpeg builds
        return (99, 0)
    match = re.match(r"n?(\d+)\.(\d+)", text.strip())
    if not match:
        return (99, 0)
    return int(match.group(1)), int(match.group(2))


def passthrough_args() -> list[str]:
    """ffmpeg options that output every decoded frame once (no duplicates, no drops)."""
    if ffmpeg_version() >= (5, 1):
        return ["-fps_mode", "passthrough"]
    return ["-vsync", "0"]  # pragma: no cover - old system ffmpeg


def popen_kwargs() -> dict[str, Any]:
    """Run ffmpeg in its own process group so that Ctrl-C in a terminal reaches
    only Python, which then stops ffmpeg in an orderly way."""
    if sys.platform.startswith("win"):  # pragma: no cover
        return {"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP}
    return {"start_new_session": True}


def start_ffmpeg(cmd: list[str], *, stdin: Any, stdout: Any, stderr: Any) -> subprocess.Popen:
    """Start an ffmpeg child in its own process group; a failure to start is a MediaError."""
    try:
        return subprocess.Popen(cmd, stdin=stdin, stdout=stdout, stderr=stderr, **popen_kwargs())
    except OSError as exc:
        raise MediaError(f"cannot start ffmpeg: {exc}") from exc


def last_error_line(text: str) -> str:
    """The most useful single line of an ffmpeg error log: a line that names a reason the user
    can act on (a full disk, a permission) wins over the last line."""
    lines = [ln.strip() for ln in text.replace("\r", "\n").splitlines() if ln.strip()]
    useful = []
    for line in lines:
        if line.startswith(("frame=", "size=", "[out#", "Press [q]", "Last message repeated")):
            continue
        if line.startswith(("Conversion failed", "=== stderr ===", "... showing only")):
            continue
        # Drop the "[libx264 @ 0x55...] " style prefix.
        useful.append(re.sub(r"^\[[^\]]+ @ 0x[0-9a-f]+\]\s*", "", line))
    for reason in ("No space left on device", "Permission denied", "Disk quota exceeded"):
        if any(reason in line for line in useful):
            return reason.lower()
    return useful[-1][:200] if useful else "unknown ffmpeg error"


def fps_fraction(fps: float | Fraction) -> Fraction:
    """A frame rate as an exact fraction (29.97002997 -> 30000/1001)."""
    if isinstance(fps, Fraction):
        return fps
    return Fraction(fps).limit_denominator(10000)


def seconds_arg(value: float) -> str:
    return f"{max(value, 0.0):.6f}"


def stop(proc: subprocess.Popen | None, *pipes: Any) -> None:
    """Kill ``proc`` if it still runs, close ``pipes`` and reap it."""
    if proc is None:
        return
    if proc.poll() is None:
        try:
            proc.kill()
        except OSError:
            pass
    for pipe in pipes:
        try:
            if pipe is not None:
                pipe.close()
        except OSError:
            pass
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:  # pragma: no cover
        logger.warning("ffmpeg did not exit after being killed (pid %s)", proc.pid)
