"""Video decoding that can be trusted: real timestamps, damage reports, a watched ffmpeg.

:func:`iter_frames` hands out a :class:`FrameStream`.  It runs
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
  file) raises :class:`~movenet_cli.errors.MediaError` for this file instead of
  looking like the end of the video.

Example::

    from movenet_cli.media import iter_frames

    stream = iter_frames("sample_media/demo_clip.mp4", end=1.0)
    for frame in stream:
        print(frame.index, frame.time)       # 0 0.0, 1 0.0333..., ...
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
from array import array
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from .. import settings
from ..errors import MediaError
from .ffmpeg import ffmpeg_exe, ffmpeg_version, last_error_line, passthrough_args, seconds_arg, start_ffmpeg, stop
from .formats import check_pixels
from .probe import PathLike, VideoInfo, probe_video
from .url import display_url, input_args, is_url
from .yuv import Yuv420, frame_bytes, plane_filter


logger = logging.getLogger(__name__)

__all__ = ["Frame", "Timeline", "read_timeline", "FrameStream", "pixel_maps", "iter_frames", "count_frames"]

# AV_PKT_FLAG_DISCARD: packets the demuxer marks as not to be shown (edit lists).
_DISCARD = 0x4
_NOPTS = -(2**63)
# How long to wait for the log line of a frame that is already in the pipe.
_PTS_WAIT_S = 30.0
# Decoder log lines kept for the damage report.
_MAX_ERRORS = 20
_EPS = 1e-6

_SHOWINFO_FRAME_RE = re.compile(r"Parsed_showinfo.*?\bn:\s*(\d+)\s+pts:\s*(-?\d+|NOPTS)")
_SHOWINFO_TB_RE = re.compile(r"Parsed_showinfo.*config in time_base:\s*(\d+)/(\d+)")
_LEVEL_RE = re.compile(r"\[(error|fatal|panic)\]\s*(.*)")


@dataclass(frozen=True, eq=False)
class Frame:
    """One decoded video frame.

    ``image`` is a writable, C-contiguous ``uint8`` array ``(H, W, 3)`` in RGB
    order, upright (rotation metadata applied); from a stream decoding with ``yuv=True`` it
    is a :class:`~movenet_cli.media.yuv.Yuv420` (the planes) instead.  ``index`` is the position of
    the frame in the source video (0-based), counting every frame even when
    frames are skipped with ``every`` or a ``start`` time.  ``time`` is the
    presentation time in seconds from the first frame of the video, taken
    from the file's timestamps (so it is exact for variable frame rates too).
    """

    image: np.ndarray
    index: int
    time: float


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
    """Drains ffmpeg's stderr: per-frame timestamps and errors. Nothing else is taken from the log:
    a file's own tags are echoed there, and may look like any line ffmpeg writes."""

    def __init__(self, pipe):
        super().__init__(name="movenet-ffmpeg-log", daemon=True)
        self._pipe = pipe
        self.pts: queue.Queue = queue.Queue()
        self.time_base: Fraction | None = None
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
        self.tail = (self.tail + [line])[-8:]
        level = _LEVEL_RE.search(line)
        if level:
            self.error_count += 1
            if len(self.errors) < _MAX_ERRORS:
                text = re.sub(r"^(\[[^\]]*\]\s*)+", "", level.group(2)).strip()
                self.errors.append(text or line)


@dataclass
class _Range:
    """Which frames of the file a stream hands out, and how ffmpeg is told so."""

    first: int
    stop: int | None
    seek: float = 0.0
    expected: int | None = None
    input_params: list[str] = field(default_factory=list)


def _frame_range(info, timeline: Timeline | None, start: float | None, end: float | None, every: int) -> _Range:
    fps = info.fps
    first = max(0, int(np.ceil((start or 0.0) * fps - _EPS)))
    stop_at = int(np.ceil(end * fps - _EPS)) if end is not None else None
    if timeline is None:
        # No timeline: frames are taken to be 1/fps apart, as the header says.
        params = []
        if first > 0:
            params += ["-ss", seconds_arg((first - 0.5) / fps)]
        if stop_at is not None:
            length = (stop_at - first) / fps if first > 0 else (stop_at - 0.5) / fps
            params += ["-t", seconds_arg(length)]
        return _Range(first, stop_at, input_params=params)
    first = timeline.first_at(start or 0.0)
    stop_at = timeline.first_at(end) if end is not None else len(timeline)
    span = _Range(first, stop_at, expected=len(range(first, stop_at, every)))
    if 0 < first < len(timeline):
        span.seek = timeline.midpoint_before(first)
        span.input_params += ["-ss", seconds_arg(span.seek)]
    if stop_at < len(timeline):
        span.input_params += ["-t", seconds_arg(timeline.midpoint_before(stop_at) - span.seek)]
    return span


def _remap_graph(stream: int, filters: list[str], maps, folder: str) -> list[str]:
    """Inputs and graph that hand over the mapped pixels of each RGB frame (``remap``)."""
    args = []
    for name, plane in zip("xy", maps):  # inputs 1 and 2: one 16-bit frame each
        file = os.path.join(folder, f"{name}map.raw")
        plane.tofile(file)
        args += ["-f", "rawvideo", "-pix_fmt", "gray16le", "-s", f"{plane.shape[1]}x{plane.shape[0]}", "-i", file]
    # The maps' one frame has time 0, so the frames' times start there too (after showinfo read them).
    chain = ",".join([*filters, "setpts=PTS-STARTPTS", "format=rgb24"])
    graph = f"[0:{stream}]{chain}[frame];[frame][1:v][2:v]remap[out]"
    return [*args, "-filter_complex", graph, "-map", "[out]"]


def _exit_error(code: int | None, log: _LogReader, decoded: int, partial: bool) -> MediaError | None:
    """The error for a decoder that stopped before the end of the frames (``None``: a clean end)."""
    detail = log.errors[-1] if log.errors else last_error_line("\n".join(log.tail))
    if code is None or code < 0:
        how = "stopped responding" if code is None else f"crashed ({_signal_name(-code)})"
        return MediaError(f"ffmpeg {how} while decoding, after {decoded} frames; the file may be hostile or damaged")
    if not (code > 0 or partial):
        return None
    if decoded == 0 and "received no packets" in detail:
        return MediaError(
            "no frames could be read: the video stream is empty, or the file was cut short; re-copy or re-export it"
        )
    if decoded == 0:
        return MediaError(f"no frames could be decoded ({detail})")
    return MediaError(f"ffmpeg failed after {decoded} frames ({detail})")


def _damage(stream: "FrameStream", log: _LogReader) -> str | None:
    """What a finished stream missed: frames the file indexes but did not decode, decoder errors."""
    errors = log.error_count
    if stream.span.seek > 0 and log.errors_before_first is not None:
        errors -= log.errors_before_first
    missing = stream.expected is not None and stream.decoded < stream.expected
    if not (missing or (errors and stream.decoded)):
        return None
    total, about = stream.expected, ""
    promised = stream.info.frame_count
    if stream.start is None and stream.end is None and promised and promised > (total or 0):
        total, about = promised, "about "
    counted = f"{stream.decoded} of {about}{total}" if total is not None else f"{stream.decoded}"
    reason = ""
    if errors and log.errors:
        first = log.errors[min(log.error_count - errors, len(log.errors) - 1)].rstrip(".")
        reason = f" ({errors} decoder errors, first: {first})"
    return f"damaged or truncated video: {counted} frames decoded{reason}"


class FrameStream:
    """Frames of one video, decoded by one ffmpeg process; see the module docs.

    Iterate over it (or call ``next``) for :class:`Frame` objects; :meth:`close`
    (or the end of a ``with`` block, or exhaustion) stops ffmpeg.  After the last
    frame, :attr:`problem` is ``None`` for a clean decode or a one-line description
    of what was missing. ``decoded`` counts the frames handed out, ``expected`` is the
    number of frames the file indexes for the requested range (``None`` if unknown).
    """

    def __init__(self, path: str, info: VideoInfo, *, start: float | None, end: float | None, every: int,
                 size: tuple[int, int] | None, maps: tuple[np.ndarray, np.ndarray] | None = None,
                 url_timeout: float = settings.URL_TIMEOUT_S, yuv: bool = False, table=None) -> None:
        self.path = path
        # A URL is read once, as it arrives: no timestamp pre-pass; each wait on the server is bounded.
        self.url_args = input_args(path, url_timeout) if is_url(path) else None
        self._first_pts: int | None = None
        self.info = info
        self.start, self.end, self.every = start, end, every
        self.maps = maps  # (x, y) source pixel of each output pixel: see pixel_maps
        self.size = size if maps is None else (maps[0].shape[1], maps[0].shape[0])
        self._map_dir: tempfile.TemporaryDirectory | None = None
        self.yuv = yuv  # frames as yuv420p planes, not RGB
        self.table = table  # the ColourTable the planes carry
        self.decoded = 0
        self.expected: int | None = None
        self.problem: str | None = None
        self.timeline: Timeline | None = None
        self.span = _Range(0, None)
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: _LogReader | None = None
        self._started = self._finished = False
        self._use_pts = True

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
        stop(proc, proc.stdout, proc.stderr)
        if self._map_dir is not None:
            self._map_dir.cleanup()

    def _start(self) -> None:
        self._started = True
        info = self.info
        if self.url_args is None:
            self.timeline = read_timeline(ffmpeg_exe(), self.path, info.stream_index)
        self.span = _frame_range(info, self.timeline, self.start, self.end, self.every)
        self.expected = self.span.expected
        if self.span.stop is not None and self.span.stop <= self.span.first:
            self._finished, self.expected = True, 0
            return
        modern = ffmpeg_version() >= (5, 0)
        filters = [f"select=not(mod(n\\,{self.every}))"] if self.every > 1 else []
        filters.append("showinfo=checksum=0" if modern else "showinfo")
        conversion = plane_filter(info) if self.yuv else None
        if conversion:
            filters.append(conversion)  # converted once, here, to the planes' layout
        self._width, self._height = self.size or (info.width, info.height)
        if self.maps is None:
            # ffmpeg is told the frame size (the probe's upright size unless asked for another):
            # the frames' size never comes from its log, which echoes the file's own tags.
            filters.append(f"scale={self._width}:{self._height}")
            graph = ["-map", f"0:{self.info.stream_index}", "-vf", ",".join(filters)]
        else:
            self._map_dir = tempfile.TemporaryDirectory(prefix="movenet-maps-")
            graph = _remap_graph(self.info.stream_index, filters, self.maps, self._map_dir.name)
        cmd = [
            ffmpeg_exe(), "-hide_banner", "-nostdin", "-nostats", "-loglevel", "level+info" if modern else "info",
            *self.span.input_params, *(self.url_args or []), "-i", self.path, *graph,
            "-an", "-sn", "-dn", *passthrough_args(), "-f", "rawvideo", "-pix_fmt", "yuv420p" if self.yuv else "rgb24", "-",
        ]  # fmt: skip
        self._proc = start_ffmpeg(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self._log = _LogReader(self._proc.stderr)
        self._log.start()
        self._index = self.span.first

    def _read(self) -> Frame | None:
        assert self._proc is not None and self._log is not None
        nbytes = frame_bytes(self._width, self._height) if self.yuv else self._width * self._height * 3
        buf = np.empty(nbytes, np.uint8)  # filled by the pipe: no need to zero it first
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
        if self.span.stop is not None and index >= self.span.stop:
            self._finish()
            return None
        self.decoded += 1
        if self.yuv:
            return Frame(image=Yuv420(buf, self._width, self._height, self.table), index=index, time=seconds)
        image = buf.reshape(self._height, self._width, 3)
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
                logger.warning("no timestamps from ffmpeg for %s; assuming a constant frame rate", display_url(self.path))
                self._use_pts = False
        tl = self.timeline
        tb = self._log.time_base
        if tl is None and self.url_args is not None and pts is not None and tb is not None:
            return counted, self._stream_time(pts, tb, counted)
        if tl is not None and pts is not None and tb is not None:
            index = tl.nearest(float(pts * tb) + self.span.seek)
            if index >= counted - self.every + 1 or self.decoded == 0:  # never back to an index already given
                self._index = index + self.every
                return index, tl.relative(index)
        if tl is not None and counted < len(tl):
            return counted, tl.relative(counted)
        return counted, counted / self.info.fps

    def _stream_time(self, pts: int, tb: Fraction, counted: int) -> float:
        """A URL's frame time from the decoder's own timestamps: seconds since the first frame handed
        out, plus where that frame sits (frames before a ``start`` seek taken as 1/fps apart)."""
        if self._first_pts is None:
            self._first_pts = pts
        return float((pts - self._first_pts) * tb) + self.span.first / self.info.fps

    def _check_exit(self, *, partial: bool) -> None:
        assert self._proc is not None and self._log is not None
        try:
            code = self._proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            code = None
        self._log.join(timeout=5)
        error = _exit_error(code, self._log, self.decoded, partial)
        if error is not None:
            self.close()
            raise error

    def _finish(self) -> None:
        if self._log is not None:
            self.problem = _damage(self, self._log)
        self.close()


def _check_frame_args(start, end, every: int, size, pixels, yuv: bool) -> tuple[int, int] | None:
    """Raise ValueError for arguments of :func:`iter_frames` that cannot work; the size as ints."""
    if every < 1:
        raise ValueError("every must be >= 1")
    if start is not None and start < 0:
        raise ValueError("start must be >= 0")
    if end is not None and start is not None and end <= start:
        raise ValueError("end must be after start")
    if size is not None:
        if len(size) != 2 or int(size[0]) < 1 or int(size[1]) < 1:
            raise ValueError("size must be (width, height) with positive values")
        size = (int(size[0]), int(size[1]))
    if pixels is not None and size is not None:
        raise ValueError("size and pixels cannot be combined")
    if yuv and (pixels is not None or size is not None):
        raise ValueError("yuv frames are whole frames: no size or pixels")
    return size


def iter_frames(
    path: PathLike,
    *,
    start: float | None = None,
    end: float | None = None,
    every: int = 1,
    size: tuple[int, int] | None = None,
    pixels: tuple[np.ndarray, np.ndarray] | None = None,
    info: VideoInfo | None = None,
    url_timeout: float = settings.URL_TIMEOUT_S,
    yuv: bool = False,
    table=None,
) -> FrameStream:
    """Decode a video into upright RGB frames.

    ``start``/``end`` (seconds) select the frames whose time is in
    ``[start, end)``; ffmpeg seeks to ``start`` without decoding the part
    before it, yet ``Frame.index`` and ``Frame.time`` stay relative to the
    start of the video.  ``every=N`` keeps every Nth frame, counted from the
    first selected frame (dropped frames are never converted or copied).
    ``size=(width, height)`` scales the (already rotated) frames on the
    ffmpeg side.  ``pixels=(rows, cols)`` hands over only those rows and
    columns of each upright frame, exactly ``image[rows][:, cols]`` (picked
    inside ffmpeg, so the rest of the frame never crosses the pipe; e.g. the
    pixels a resize reads). ``yuv=True`` hands over each frame as yuv420p planes
    (:class:`~movenet_cli.media.yuv.Yuv420`: 8-bit 4:2:0 BT.709 limited range, converted to that
    in the decoder where the source differs; the source must be planar YUV with even sizes, see
    :func:`~movenet_cli.media.yuv.plane_filter`), not converted to RGB; each carries ``table``
    (a :class:`~movenet_cli.media.yuv.ColourTable`, for the RGB of the pixels it is asked for).

    The file is probed and the arguments are checked when this function is
    called (:class:`MediaError` / :class:`ValueError` are raised right away);
    decoding starts with the first ``next()``.  The result is a
    :class:`FrameStream`: iterate over it; closing it
    early (``close()``, a ``with`` block) stops the ffmpeg process, and once
    it is exhausted its ``problem`` says whether the file decoded only in
    part.  A crash of ffmpeg raises :class:`~movenet_cli.errors.MediaError`.

    ``path`` may be an ``http://``, ``https://`` or ``rtsp://`` URL: it is read once, as it
    arrives, each wait on the server limited to ``url_timeout`` seconds; frame times then come
    from the decoder's per-frame timestamps (there is no pre-pass over the whole input).
    """
    size = _check_frame_args(start, end, every, size, pixels, yuv)
    url = is_url(path)
    info = info or probe_video(path, url_timeout=url_timeout)
    check_pixels(info.width, info.height)
    maps = None if pixels is None else pixel_maps(pixels, info.width, info.height)
    if yuv and plane_filter(info) is None:
        raise ValueError(f"frames of {info.width}x{info.height} {info.pix_fmt} ({info.color_space or 'no matrix'}) "
                         "cannot be handed over as yuv420p planes")
    return FrameStream(path if url else os.path.abspath(path), info, start=start, end=end, every=every, size=size,
                       maps=maps, url_timeout=url_timeout, yuv=yuv, table=table)


def count_frames(path: PathLike) -> int:
    """Exact number of frames in the video stream, as a player shows them.

    Reads the whole file without decoding it (a stream-copy pass listing the
    packets), so it is fast but proportional to the file size.  Frames that an
    edit list hides (a file trimmed by stream copy starts at a keyframe before
    the cut) are not counted.  A URL is refused: counting would read the whole stream once more.
    """
    if is_url(path):
        raise MediaError(f"{display_url(path)}: cannot count the frames of a URL without reading all of it; "
                         "the run's JSON gives the frames processed")
    timeline = read_timeline(ffmpeg_exe(), os.path.abspath(path), probe_video(path).stream_index)
    if timeline is None:
        raise MediaError("cannot count frames: ffmpeg could not list the video packets")
    return len(timeline)
