"""Video decoding that can be trusted: real timestamps, damage reports, a watched ffmpeg.

:func:`movenet_cli.media.iter_frames` hands out a :class:`FrameStream`.  It runs
one ffmpeg process that writes raw RGB frames to a pipe, and reads ffmpeg's log
beside it, so that:

* every frame carries its real presentation time.  A quick pass over the file
  without decoding (``-c copy -f framecrc``, about 0.1 s for 80 MB) lists the
  presentation timestamps of all frames (:class:`Timeline`), and the decoder
  reports the timestamp of each frame it outputs (``showinfo``).  Variable
  frame rate videos therefore get exact times and source indices, also after
  ``start`` seeks;
* a file that decodes only in part (truncated MP4, corrupt packets) still
  yields the frames that decode, and afterwards :attr:`FrameStream.problem`
  says what was missing (fewer frames than the file indexes, decoder errors);
* an ffmpeg that exits with an error or dies on a signal (a crash on a hostile
  file) raises :class:`~movenet_cli.media.MediaError` for this file instead of
  looking like the end of the video.

Example::

    stream = media.iter_frames("clip.mp4")
    for frame in stream:
        print(frame.index, frame.time)
    if stream.problem:
        print("incomplete:", stream.problem)
"""

from __future__ import annotations

import bisect
import logging
import os
import queue
import re
import signal
import subprocess
import tempfile
import threading
import time
from array import array
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from .media import Frame, _Probe

logger = logging.getLogger(__name__)

__all__ = ["Timeline", "read_timeline", "FrameStream", "pixel_maps"]

# AV_PKT_FLAG_DISCARD: packets the demuxer marks as not to be shown (edit lists).
_DISCARD = 0x4
_NOPTS = -(2**63)
# How long to wait for the log line of a frame that is already in the pipe,
# and for ffmpeg's output header (it comes before the first frame).
_PTS_WAIT_S = 30.0
_HEADER_WAIT_S = 10.0
# Decoder log lines kept for the damage report.
_MAX_ERRORS = 20
_EPS = 1e-6

_SHOWINFO_FRAME_RE = re.compile(r"Parsed_showinfo.*?\bn:\s*(\d+)\s+pts:\s*(-?\d+|NOPTS)")
_SHOWINFO_TB_RE = re.compile(r"Parsed_showinfo.*config in time_base:\s*(\d+)/(\d+)")
_OUTPUT_SIZE_RE = re.compile(r"Stream #0:0.*: Video: rawvideo.*?,\s(\d+)x(\d+)[,\s]")
_LEVEL_RE = re.compile(r"\[(error|fatal|panic)\]\s*(.*)")


@dataclass(frozen=True)
class Timeline:
    """Presentation times (seconds) of every frame of a video stream, in display order.

    ``times`` are relative to the file's start time, as ffmpeg counts them
    (so ``-ss`` positions can be computed from them); :meth:`relative` gives
    the times from the first frame, which is what ``Frame.time`` reports.
    """

    times: np.ndarray  # float64, sorted

    def __len__(self) -> int:
        return len(self.times)

    def relative(self, index: int) -> float:
        return float(self.times[index] - self.times[0])

    def first_at(self, seconds: float) -> int:
        """Index of the first frame shown at or after ``seconds`` from the first frame."""
        return bisect.bisect_left(self.times, self.times[0] + seconds - _EPS) if len(self) else 0

    def nearest(self, seconds: float) -> int:
        """Index of the frame whose (file-relative) time is nearest to ``seconds``."""
        i = bisect.bisect_left(self.times, seconds)
        if i == len(self.times) or (i > 0 and seconds - self.times[i - 1] <= self.times[i] - seconds):
            return i - 1
        return i

    def midpoint_before(self, index: int) -> float:
        """A file-relative time between frame ``index - 1`` and frame ``index``."""
        return float((self.times[index - 1] + self.times[index]) / 2)


def read_timeline(ffmpeg: str, path: str, stream: int) -> Timeline | None:
    """List the presentation times of the video stream ``stream`` without decoding it.

    Returns ``None`` when ffmpeg cannot list them (then callers fall back to
    ``index / fps``); the decoding pass reports real problems with the file.
    """
    cmd = [
        ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "fatal", "-i", path,
        "-map", f"0:{stream}", "-c", "copy", "-f", "framecrc", "-",
    ]  # fmt: skip
    tb: Fraction | None = None
    pts = array("q")  # 8 bytes a frame, parsed as it streams: flat memory for long videos
    try:
        proc = subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, start_new_session=True
        )
    except OSError:
        return None
    with proc:
        assert proc.stdout is not None
        for raw in proc.stdout:
            line = raw.decode("ascii", "replace")
            if line.startswith("#"):
                if line.startswith("#tb 0:"):
                    num, den = line.split(":", 1)[1].strip().split("/")
                    tb = Fraction(int(num), int(den))
                continue
            fields = line.split(",")
            if len(fields) < 6:
                continue
            flags = int(fields[6].strip()[2:], 16) if len(fields) > 6 and fields[6].strip().startswith("F=") else 0
            if not flags & _DISCARD:
                pts.append(int(fields[2]))
    if proc.returncode != 0 or tb is None or not pts or _NOPTS in pts:
        return None
    ticks = np.sort(np.frombuffer(pts, dtype=np.int64))
    if len(ticks) > 1 and not (np.diff(ticks) > 0).all():
        return None  # repeated timestamps: cannot tell the frames apart
    return Timeline(ticks.astype(np.float64) * float(tb))


def pixel_maps(pixels: tuple, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """The x and y maps of ffmpeg's ``remap`` filter that pick ``image[rows][:, cols]``
    out of a ``width`` x ``height`` frame, for ``pixels=(rows, cols)``."""
    rows, cols = (np.asarray(a).astype(np.int64).ravel() for a in pixels)
    if not len(rows) or not len(cols):
        raise ValueError("pixels needs at least one row and one column")
    if rows.min() < 0 or rows.max() >= height or cols.min() < 0 or cols.max() >= width:
        raise ValueError(f"pixels must lie inside the {width}x{height} frame")
    shape = (len(rows), len(cols))
    return np.broadcast_to(cols[None, :], shape).astype("<u2"), np.broadcast_to(rows[:, None], shape).astype("<u2")


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


class _LogReader(threading.Thread):
    """Drains ffmpeg's stderr: per-frame timestamps, the output size, errors."""

    def __init__(self, pipe):
        super().__init__(name="movenet-ffmpeg-log", daemon=True)
        self._pipe = pipe
        self.pts: queue.Queue = queue.Queue()
        self.time_base: Fraction | None = None
        self.size: tuple[int, int] | None = None
        self.header = threading.Event()
        self._in_output = False
        self.errors: list[str] = []
        self.error_count = 0
        # Errors logged before the first frame came out (seeking into a stream
        # without a keyframe index, e.g. MPEG-TS, costs a few such errors).
        self.errors_before_first: int | None = None
        self.tail: list[str] = []

    def run(self) -> None:
        try:
            for raw in iter(self._pipe.readline, b""):
                self._line(raw.decode("utf-8", "replace").rstrip())
        except (OSError, ValueError):
            pass
        finally:
            self.header.set()

    def _line(self, line: str) -> None:
        if not line:
            return
        match = _SHOWINFO_FRAME_RE.search(line)
        if match:
            if self.errors_before_first is None:
                self.errors_before_first = self.error_count
            self.pts.put(None if match.group(2) == "NOPTS" else int(match.group(2)))
            return
        if "Parsed_showinfo" in line:
            tb = _SHOWINFO_TB_RE.search(line)
            if tb and self.time_base is None and int(tb.group(2)):
                self.time_base = Fraction(int(tb.group(1)), int(tb.group(2)))
            return
        if "Output #0" in line:
            self._in_output = True
        elif self.size is None and self._in_output:
            size = _OUTPUT_SIZE_RE.search(line)
            if size:
                self.size = (int(size.group(1)), int(size.group(2)))
                self.header.set()
                return
        self.tail = (self.tail + [line])[-8:]
        level = _LEVEL_RE.search(line)
        if level:
            self.error_count += 1
            if len(self.errors) < _MAX_ERRORS:
                text = re.sub(r"^(\[[^\]]*\]\s*)+", "", level.group(2)).strip()
                self.errors.append(text or line)


class FrameStream:
    """Frames of one video, decoded by one ffmpeg process; see the module docs.

    Iterate over it (or call ``next``) for :class:`~movenet_cli.media.Frame`
    objects; :meth:`close` (or the end of a ``with`` block, or exhaustion)
    stops ffmpeg.  After the last frame, :attr:`problem` is ``None`` for a
    clean decode or a one-line description of what was missing.
    ``decoded`` counts the frames handed out, ``expected`` is the number of
    frames the file indexes for the requested range (``None`` if unknown).
    """

    def __init__(
        self,
        path: str,
        probe: _Probe,
        *,
        start: float | None,
        end: float | None,
        every: int,
        size: tuple[int, int] | None,
        maps: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> None:
        self.path = path
        self.probe = probe
        self.start = start
        self.end = end
        self.every = every
        self.maps = maps  # (x, y) source pixel of each output pixel: see pixel_maps
        self.size = size if maps is None else (maps[0].shape[1], maps[0].shape[0])
        self._map_dir: tempfile.TemporaryDirectory | None = None
        self.decoded = 0
        self.expected: int | None = None
        self.problem: str | None = None
        self.timeline: Timeline | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: _LogReader | None = None
        self._started = False
        self._finished = False
        self._use_pts = True

    # -- iterator protocol ------------------------------------------------
    def __iter__(self) -> FrameStream:
        return self

    def __next__(self) -> Frame:
        if not self._started:
            self._start()
        if self._finished:
            raise StopIteration
        frame = self._read()
        if frame is None:
            self._finish()
            raise StopIteration
        return frame

    def __enter__(self) -> FrameStream:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass

    def close(self) -> None:
        """Stop ffmpeg (if still running) and release the pipes."""
        self._finished = True
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            try:
                proc.kill()
            except OSError:
                pass
        for pipe in (proc.stdout, proc.stderr):
            try:
                if pipe is not None:
                    pipe.close()
            except OSError:
                pass
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:  # pragma: no cover
            logger.warning("ffmpeg did not exit after being killed (pid %s)", proc.pid)
        if self._map_dir is not None:
            self._map_dir.cleanup()

    # -- setup --------------------------------------------------------------
    def _start(self) -> None:
        from . import media

        self._started = True
        info = self.probe.info
        fps = info.fps
        self._first = max(0, int(np.ceil((self.start or 0.0) * fps - _EPS)))
        self._stop: int | None = int(np.ceil(self.end * fps - _EPS)) if self.end is not None else None
        self.timeline = read_timeline(media.ffmpeg_exe(), self.path, self.probe.video_stream)
        self._seek = 0.0
        input_params: list[str] = []
        tl = self.timeline
        if tl is not None:
            self._first = tl.first_at(self.start or 0.0)
            self._stop = tl.first_at(self.end) if self.end is not None else len(tl)
            if self._first > 0 and self._first < len(tl):
                self._seek = tl.midpoint_before(self._first)
                input_params += ["-ss", media._ffmpeg_seconds(self._seek)]
            if self._stop < len(tl):
                input_params += ["-t", media._ffmpeg_seconds(tl.midpoint_before(self._stop) - self._seek)]
            self.expected = len(range(self._first, self._stop, self.every))
        else:
            # No timeline: frames are taken to be 1/fps apart, as the header says.
            if self._first > 0:
                input_params += ["-ss", media._ffmpeg_seconds((self._first - 0.5) / fps)]
            if self._stop is not None:
                length = (self._stop - self._first) / fps if self._first > 0 else (self._stop - 0.5) / fps
                input_params += ["-t", media._ffmpeg_seconds(length)]
        if self._stop is not None and self._stop <= self._first:
            self._finished = True
            self.expected = 0
            return

        modern = media._ffmpeg_version() >= (5, 0)
        filters = []
        if self.every > 1:
            filters.append(f"select=not(mod(n\\,{self.every}))")
        filters.append("showinfo=checksum=0" if modern else "showinfo")
        if self.maps is None:
            if self.size is not None:
                filters.append(f"scale={self.size[0]}:{self.size[1]}")
            graph = ["-map", f"0:{self.probe.video_stream}", "-vf", ",".join(filters)]
        else:
            graph = self._remap_args(filters)
        cmd = [
            media.ffmpeg_exe(), "-hide_banner", "-nostdin", "-nostats",
            "-loglevel", "level+info" if modern else "info",
            *input_params, "-i", self.path, *graph,
            "-an", "-sn", "-dn", *media._passthrough_args(), "-f", "rawvideo", "-pix_fmt", "rgb24", "-",
        ]  # fmt: skip
        self._proc = media.start_ffmpeg(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self._log = _LogReader(self._proc.stderr)
        self._log.start()
        self._width, self._height = self.size or (info.width, info.height)
        self._index = self._first

    def _remap_args(self, filters: list[str]) -> list[str]:
        """Inputs and graph that hand over the mapped pixels of each RGB frame (``remap``)."""
        assert self.maps is not None
        self._map_dir = tempfile.TemporaryDirectory(prefix="movenet-maps-")
        args = []
        for name, plane in zip("xy", self.maps):  # inputs 1 and 2: one 16-bit frame each
            file = os.path.join(self._map_dir.name, f"{name}map.raw")
            plane.tofile(file)
            args += ["-f", "rawvideo", "-pix_fmt", "gray16le", "-s", f"{plane.shape[1]}x{plane.shape[0]}", "-i", file]
        # The maps' one frame has time 0, so the frames' times start there too (after showinfo read them).
        chain = ",".join([*filters, "setpts=PTS-STARTPTS", "format=rgb24"])
        graph = f"[0:{self.probe.video_stream}]{chain}[frame];[frame][1:v][2:v]remap[out]"
        return [*args, "-filter_complex", graph, "-map", "[out]"]

    # -- reading ------------------------------------------------------------
    def _read(self) -> Frame | None:
        from .media import Frame

        assert self._proc is not None and self._log is not None
        if self.decoded == 0:
            # ffmpeg prints the output header before the first frame; should the
            # header not be recognised, go on with the size from the probe.
            deadline = time.monotonic() + _HEADER_WAIT_S
            while not self._log.header.wait(0.05):
                if self._proc.poll() is not None or time.monotonic() > deadline:
                    break
            if self._log.size is not None and self._log.size != (self._width, self._height):
                logger.debug("ffmpeg decodes %s at %dx%d", self.path, *self._log.size)
                self._width, self._height = self._log.size
        nbytes = self._width * self._height * 3
        buf = bytearray(nbytes)
        view = memoryview(buf)
        got = 0
        stdout = self._proc.stdout
        assert stdout is not None
        while got < nbytes:
            n = stdout.readinto(view[got:])
            if not n:
                break
            got += n
        if got < nbytes:
            self._check_exit(partial=got > 0)
            return None
        index, seconds = self._locate()
        if self._stop is not None and index >= self._stop:
            self._finish()
            return None
        self.decoded += 1
        image = np.frombuffer(buf, dtype=np.uint8).reshape(self._height, self._width, 3)
        return Frame(image=image, index=index, time=seconds)

    def _locate(self) -> tuple[int, float]:
        """Source index and time (from the first frame) of the frame just read."""
        assert self._log is not None
        counted = self._index
        self._index += self.every
        pts = None
        if self._use_pts:
            try:
                pts = self._log.pts.get(timeout=_PTS_WAIT_S)
            except queue.Empty:
                logger.warning("no timestamps from ffmpeg for %s; assuming a constant frame rate", self.path)
                self._use_pts = False
        tl = self.timeline
        tb = self._log.time_base
        if tl is not None and pts is not None and tb is not None:
            index = tl.nearest(float(pts * tb) + self._seek)
            if index >= counted - self.every + 1 or self.decoded == 0:  # never back to an index already given
                self._index = index + self.every
                return index, tl.relative(index)
        if tl is not None and counted < len(tl):
            return counted, tl.relative(counted)
        return counted, counted / self.probe.info.fps

    # -- the end ------------------------------------------------------------
    def _check_exit(self, *, partial: bool) -> None:
        from .media import MediaError, _last_error_line

        assert self._proc is not None and self._log is not None
        try:
            code = self._proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            code = None
        self._log.join(timeout=5)
        detail = self._log.errors[-1] if self._log.errors else _last_error_line("\n".join(self._log.tail))
        if code is None or code < 0:
            how = "stopped responding" if code is None else f"crashed ({_signal_name(-code)})"
            self.close()
            raise MediaError(f"ffmpeg {how} while decoding, after {self.decoded} frames; the file may be hostile or damaged")
        if code > 0 or partial:
            self.close()
            if self.decoded == 0 and "received no packets" in detail:
                raise MediaError(
                    "no frames could be read: the video stream is empty, or the file was cut short; "
                    "re-copy or re-export it"
                )
            if self.decoded == 0:
                raise MediaError(f"no frames could be decoded ({detail})")
            raise MediaError(f"ffmpeg failed after {self.decoded} frames ({detail})")

    def _finish(self) -> None:
        log = self._log
        if log is not None:
            errors = log.error_count
            if self._seek > 0 and log.errors_before_first is not None:
                errors -= log.errors_before_first
            missing = self.expected is not None and self.decoded < self.expected
            if missing or (errors and self.decoded):
                total, about = self.expected, ""
                promised = self.probe.info.frame_count
                if self.start is None and self.end is None and promised and promised > (total or 0):
                    total, about = promised, "about "
                counted = f"{self.decoded} of {about}{total}" if total is not None else f"{self.decoded}"
                reason = ""
                if errors and log.errors:
                    first = log.errors[min(log.error_count - errors, len(log.errors) - 1)].rstrip(".")
                    reason = f" ({errors} decoder errors, first: {first})"
                self.problem = f"damaged or truncated video: {counted} frames decoded{reason}"
        self.close()
