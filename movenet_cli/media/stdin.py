"""A video piped in on stdin (``movenet video -``), spooled to a temporary file first.

Why a file and not the pipe itself: the probe reads the container in a child process,
the decoder reads it again in ffmpeg, and the audio copy reads it a third time; a pipe
can be read once. MP4s written without ``+faststart`` keep their index at the end, which a
pipe only delivers last. With the bytes on disk every step sees exactly what a file would
give, so ``cat in.mp4 | movenet video -`` gives the keypoints ``movenet video in.mp4`` gives,
audio included. The cost: processing starts once the pipe is closed, and the video takes
its size in the temporary folder (``TMPDIR``) until the command ends.

Example::

    from pathlib import Path
    from movenet_cli import PoseEstimator
    from movenet_cli.media.stdin import spooled_stdin
    from movenet_cli.pipeline import Outputs, process_video

    with open("sample_media/demo_clip.mp4", "rb") as piped, spooled_stdin(piped) as path:   # default: sys.stdin
        process_video(PoseEstimator("multipose"), path, Outputs(json=Path("out/stdin.json")), source_name="-", end=1.0)
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import IO, Iterator

from ..errors import MediaError, UsageError, describe

STDIN = "-"
_CHUNK = 1 << 20


@contextlib.contextmanager
def spooled_stdin(stream: IO[bytes] | None = None) -> Iterator[Path]:
    """The bytes of ``stream`` (stdin) in a temporary file, removed when the block ends."""
    stream = stream if stream is not None else sys.stdin.buffer
    if hasattr(stream, "isatty") and stream.isatty():
        raise UsageError("-: stdin is a terminal; pipe a video in (e.g. `cat in.mp4 | movenet video - ...`)")
    folder = tempfile.gettempdir()
    doing = f"spooling stdin to a temporary file in {folder} (TMPDIR)"
    try:
        fd, name = tempfile.mkstemp(prefix="movenet-stdin-", suffix=".video")
    except OSError as exc:
        raise MediaError(f"-: {describe(exc, doing=doing)}; set TMPDIR to a writable folder") from None
    try:
        try:
            with os.fdopen(fd, "wb") as out:
                shutil.copyfileobj(stream, out, _CHUNK)
                size = out.tell()
        except OSError as exc:
            raise MediaError(f"-: {describe(exc, doing=doing)}; set TMPDIR to a folder with room for the whole video") \
                from None
        if size == 0:
            raise MediaError("-: stdin held no data; pipe a video in (e.g. `cat in.mp4 | movenet video - ...`)")
        yield Path(name)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(name)
