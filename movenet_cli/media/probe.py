"""Read a video's container and stream properties as typed values, through FFmpeg's libraries.

Sizes, rotation, rates, start times and stream flags come from libavformat's own
structures via PyAV (``av``), never from a text log, so nothing a file stores as a
title or a tag can change what it is taken to be.  The probe runs in a short-lived
child Python process (:func:`probe_video`): a file that crashes or hangs the
demuxer or decoder fails alone, with a one-line :class:`~movenet_cli.errors.MediaError`,
and the batch goes on.  :func:`probe_in_process` does the same work without the
child, for files that are known to be sound (e.g. one this program just wrote);

Which stream: the real video streams (attached pictures such as cover art are not
video) with the default disposition, else all of them; among those the largest
(width x height), ties to the lower index.  ``stream_reason`` says which rule
decided: ``"only"``, ``"default"`` or ``"largest"``.

Example::

    from movenet_cli.media import probe_video

    info = probe_video("sample_media/portrait_clip.mp4")
    print(info.width, info.height, info.rotation, info.storage_size)  # 360 640 90 (640, 360)
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from fractions import Fraction
from pathlib import Path
from typing import Any, Union

from ..errors import MediaError, first_line, safe_name
from .url import display_url, is_url, timeout_option

__all__ = [
    "PROBE_TIMEOUT_S",
    "VideoInfo",
    "probe_video",
    "probe_in_process",
    "choose_stream",
    "clockwise_rotation",
    "mp4_index_missing",
]

PathLike = Union[str, "os.PathLike[str]"]

PROBE_TIMEOUT_S = 60.0
# ffmpeg's own fallback when a stream states no frame rate at all.
_FALLBACK_FPS = Fraction(25)
# Packets fed to the decoder to get the first frame (its display matrix).
_MAX_PACKETS_FOR_FIRST_FRAME = 256
# Top-level boxes an MP4/MOV file may start with.
_MP4_FIRST_BOXES = (b"ftyp", b"mdat", b"moov", b"free", b"skip", b"wide", b"pnot")

_MSG_NOT_FOUND = "file not found"
_MSG_DIRECTORY = "is a directory, not a video file"
_MSG_PERMISSION = "permission denied"
_MSG_NO_MOOV = (
    "incomplete MP4: its index (moov atom) is missing, as when a recording or copy is cut short; "
    "it cannot be decoded (re-copy it, or try a repair tool such as untrunc)"
)
_MSG_NOT_VIDEO = "not a video file (unrecognised or corrupt data); check that it is a complete video"
_MSG_STILL = "not a video file (it is a still image); use `movenet image`"
_MSG_COVER_ONLY = "no video stream (only cover art); give a file with video"
_MSG_AUDIO_ONLY = "no video stream (audio only?); give a file with video"
_MSG_TIMEOUT = "timed out while reading the video header"
_MSG_URL_TIMEOUT = "timed out after {:g} s waiting for the server"
_MSG_URL_REFUSED = "could not connect (connection refused); check the address and that the server runs"
_MSG_URL_FAILED = "could not connect ({}); check the address and the network"


@dataclass(frozen=True)
class VideoInfo:
    """What :func:`probe_video` found out about a video file.

    ``width``/``height`` are the size of the frames as displayed by rotation, i.e.
    the stored size (``storage_size``) with width and height swapped for a rotation
    of 90 or 270; ``rotation`` is the clockwise rotation in degrees (0, 90, 180,
    270) a player applies.  The sample aspect ratio is *not* applied to them:
    coordinates in these pixels are storage pixels; :attr:`display_size` gives the
    size a player shows when ``sample_aspect_ratio`` is not 1.  ``fps`` is the
    stream's average frame rate.  ``frame_count`` is an estimate (the container's
    count, else duration x fps); ``duration`` is the container's, in seconds.
    ``stream_index`` is the absolute index of the video stream chosen and
    ``stream_reason`` why (``"only"``, ``"default"``, ``"largest"``).
    ``video_start``/``audio_start`` are the start times of the chosen video
    stream and of the audio stream ``audio_stream_index`` in seconds (edit lists
    applied by the demuxer), ``None`` when unknown; ``time_base`` is the video
    stream's time base and ``container`` the demuxer's name. ``pix_fmt``, ``color_space`` and
    ``color_range`` are the stream's pixel format (``"yuv420p"``), colour matrix (``"bt709"``)
    and range (``"tv"``/``"pc"``), ``None`` where the file does not say.
    """

    path: str
    width: int
    height: int
    fps: float
    frame_count: int | None
    duration: float | None
    rotation: int
    has_audio: bool
    codec: str | None
    audio_codec: str | None = None
    stream_index: int = 0
    stream_reason: str = "only"
    storage_size: tuple[int, int] = (0, 0)
    sample_aspect_ratio: Fraction = Fraction(1)
    video_start: float | None = None
    audio_start: float | None = None
    time_base: Fraction | None = None
    container: str = ""
    audio_stream_index: int | None = None
    pix_fmt: str | None = None
    color_space: str | None = None
    color_range: str | None = None

    @property
    def display_size(self) -> tuple[int, int]:
        """``(width, height)`` as a player shows the frames: sample aspect ratio and rotation applied."""
        stored_w, stored_h = self.storage_size if self.storage_size != (0, 0) else self._unrotated()
        shown_w = max(1, round(stored_w * self.sample_aspect_ratio))
        return (stored_h, shown_w) if self.rotation in (90, 270) else (shown_w, stored_h)

    @property
    def audio_lead(self) -> float | None:
        """How many seconds the audio starts before the video (negative: after); None if unknown."""
        if self.video_start is None or self.audio_start is None:
            return None
        return self.video_start - self.audio_start

    def _unrotated(self) -> tuple[int, int]:
        return (self.height, self.width) if self.rotation in (90, 270) else (self.width, self.height)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict; fractions become ``"num/den"`` strings, ``storage_size`` a list."""
        out = asdict(self)
        for key in ("sample_aspect_ratio", "time_base"):
            if out[key] is not None:
                out[key] = f"{out[key].numerator}/{out[key].denominator}"
        out["storage_size"] = list(self.storage_size)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> VideoInfo:
        """The inverse of :meth:`to_dict`."""
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        for key in ("sample_aspect_ratio", "time_base"):
            if values.get(key) is not None:
                values[key] = Fraction(values[key])
        if "storage_size" in values:
            values["storage_size"] = tuple(int(v) for v in values["storage_size"])
        return cls(**values)


# --------------------------------------------------------------------------
# Pure rules (plain data in, plain data out)
# --------------------------------------------------------------------------


def choose_stream(candidates: Sequence[tuple[int, int, int, bool]]) -> tuple[int, str]:
    """Pick a video stream from ``(index, width, height, is_default)`` tuples of real video streams.

    The default-disposition streams if any, else all; the largest area among them,
    ties to the lower index.  Returns ``(index, reason)`` with reason ``"only"``,
    ``"default"`` or ``"largest"``.

    >>> choose_stream([(0, 160, 90, False), (1, 960, 540, True)])
    (1, 'default')
    """
    if not candidates:
        raise ValueError("no video stream to choose from")
    if len(candidates) == 1:
        return candidates[0][0], "only"
    defaults = [c for c in candidates if c[3]]
    pool = defaults or list(candidates)
    best = min(pool, key=lambda c: (-(c[1] * c[2]), c[0]))
    return best[0], "default" if defaults else "largest"


def clockwise_rotation(counter_clockwise_degrees: float) -> int:
    """A display-matrix angle (counter-clockwise, as FFmpeg reports it) as 0/90/180/270 clockwise."""
    return int(round(-counter_clockwise_degrees / 90.0)) % 4 * 90


def mp4_index_missing(path: PathLike) -> bool:
    """Whether ``path`` starts like an MP4/MOV file but its top-level ``moov`` box is absent or cut short.

    Walks the top-level box headers only; nothing else of the file is read.
    """
    try:
        with open(path, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            pos, boxes = 0, 0
            while pos + 8 <= size and boxes < 100_000:
                fh.seek(pos)
                head = fh.read(16)
                box_size, kind = int.from_bytes(head[:4], "big"), head[4:8]
                if boxes == 0 and kind not in _MP4_FIRST_BOXES:
                    return False
                if box_size == 1 and len(head) == 16:
                    box_size = int.from_bytes(head[8:16], "big")
                elif box_size == 0:
                    box_size = size - pos
                if kind == b"moov":
                    return pos + box_size > size  # an index cut short is missing too
                if box_size < 8:
                    break
                pos, boxes = pos + box_size, boxes + 1
            return boxes > 0
    except OSError:
        return False


def _seconds(value: int | None, time_base: Fraction | None) -> float | None:
    if value is None or time_base is None:
        return None
    return float(value * time_base)


def _hms_seconds(text: str | None) -> float | None:
    """``"00:00:01.100000000"`` (Matroska statistics tags) -> 1.1; None if it is not that shape."""
    parts = (text or "").strip().split(":")
    try:
        if len(parts) == 3:
            return int(parts[0]) * 3600 + int(parts[1]) * 60 + float(parts[2])
    except ValueError:
        pass
    return None


def _frame_count(stream: Any, fps: Fraction, container_duration: float | None) -> int | None:
    """The stream's frame count, else its duration x fps, else the container's duration x fps."""
    if stream.frames and stream.frames > 0:
        return int(stream.frames)
    tags = {k.upper(): v for k, v in (stream.metadata or {}).items()}
    if str(tags.get("NUMBER_OF_FRAMES", "")).isdigit():
        return int(tags["NUMBER_OF_FRAMES"])
    for seconds in (_seconds(stream.duration, stream.time_base), _hms_seconds(tags.get("DURATION")), container_duration):
        if seconds is not None and seconds > 0:
            return max(1, round(seconds * fps))
    return None


# --------------------------------------------------------------------------
# The probe itself (PyAV)
# --------------------------------------------------------------------------


def _check_path(path: str) -> None:
    """Refuse what is plainly not a readable file before FFmpeg sees it (a URL is not a file)."""
    if is_url(path):
        return
    if not os.path.exists(path):
        raise MediaError(_named(path, _MSG_NOT_FOUND))
    if os.path.isdir(path):
        raise MediaError(_named(path, _MSG_DIRECTORY))
    if not os.access(path, os.R_OK):
        raise MediaError(_named(path, _MSG_PERMISSION))


def _named(path: str, message: str) -> str:
    return f"{safe_name(display_url(path))}: {message}"


def _open_url(url: str, timeout: float | None) -> Any:
    """``av.open`` of a network URL, each wait on the server bounded by ``timeout`` seconds."""
    import av

    options = {"metadata_errors": "replace"}
    if timeout is not None:
        options.update(timeout=timeout, options={timeout_option(url): str(max(1, round(timeout * 1_000_000)))})
    started = time.monotonic()
    try:
        return av.open(url, mode="r", **options)
    except (av.error.ExitError, TimeoutError) as exc:
        raise MediaError(_named(url, _MSG_URL_TIMEOUT.format(timeout or 0))) from exc
    except ConnectionRefusedError as exc:
        raise MediaError(_named(url, _MSG_URL_REFUSED)) from exc
    except (av.error.FFmpegError, OSError, ValueError) as exc:
        if timeout is not None and time.monotonic() - started >= timeout * 0.95:
            raise MediaError(_named(url, _MSG_URL_TIMEOUT.format(timeout))) from exc
        if isinstance(exc, av.error.InvalidDataError):
            raise MediaError(_named(url, _MSG_NOT_VIDEO)) from exc
        reason = (getattr(exc, "strerror", None) or first_line(exc)).lower()
        if isinstance(exc, av.error.HTTPError) or "http" in reason or "server returned" in reason:
            raise MediaError(_named(url, f"the server refused the video ({reason})")) from exc
        raise MediaError(_named(url, _MSG_URL_FAILED.format(reason))) from exc


def _open(path: str, url_timeout: float | None = None) -> Any:
    """``av.open`` with FFmpeg's failures turned into one-line reasons."""
    import av

    if is_url(path):
        return _open_url(path, url_timeout)
    try:
        # an absolute path: a name such as "pipe:x.mp4" is a file, never a protocol
        return av.open(os.path.abspath(path), mode="r", metadata_errors="replace")
    except FileNotFoundError as exc:
        raise MediaError(_named(path, _MSG_NOT_FOUND)) from exc
    except IsADirectoryError as exc:
        raise MediaError(_named(path, _MSG_DIRECTORY)) from exc
    except PermissionError as exc:
        raise MediaError(_named(path, _MSG_PERMISSION)) from exc
    except av.error.InvalidDataError as exc:
        raise MediaError(_named(path, _MSG_NO_MOOV if mp4_index_missing(path) else _MSG_NOT_VIDEO)) from exc
    except (av.error.FFmpegError, OSError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or first_line(exc)
        raise MediaError(_named(path, f"cannot open video: {reason}")) from exc


def _codec_name(stream: Any) -> str | None:
    try:
        return stream.codec_context.name if stream.codec_context is not None else stream.codec.name
    except Exception:  # no decoder for this codec in PyAV's FFmpeg
        return None


def _is_default(stream: Any) -> bool:
    import av

    return bool(stream.disposition & av.stream.Disposition.default)


def _real_videos(container: Any, path: str) -> list[Any]:
    """The video streams that are not attached pictures; refuse stills, audio and cover art."""
    import av

    name = container.format.name or ""
    if name == "image2" or name.endswith("_pipe"):
        raise MediaError(_named(path, _MSG_STILL))
    videos = [s for s in container.streams if s.type == "video"]
    real = [s for s in videos if not s.disposition & av.stream.Disposition.attached_pic]
    if not real:
        raise MediaError(_named(path, _MSG_COVER_ONLY if videos else _MSG_AUDIO_ONLY))
    return real


def _first_frame_rotation(container: Any, stream: Any) -> int:
    """Clockwise rotation from the display matrix FFmpeg attaches to the first decoded frame.

    PyAV does not expose a stream's coded side data; its decoder copies the
    stream's display matrix (and any in-band orientation) onto each frame.
    A stream whose first frame cannot be decoded is taken as unrotated.
    """
    import av

    stream.codec_context.thread_count = 1
    try:
        for count, packet in enumerate(container.demux(stream)):
            for frame in packet.decode():
                return clockwise_rotation(frame.rotation)
            if count >= _MAX_PACKETS_FOR_FIRST_FRAME:
                break
    except (av.error.FFmpegError, ValueError):
        pass
    return 0


def _pick_audio(container: Any) -> Any | None:
    audios = list(container.streams.audio)
    defaults = [s for s in audios if _is_default(s)]
    return (defaults or audios or [None])[0]


def _frame_rate(stream: Any) -> Fraction:
    for rate in (stream.average_rate, stream.base_rate, stream.guessed_rate):
        if rate and rate > 0:
            return Fraction(rate)
    return _FALLBACK_FPS


def _describe(container: Any, path: str) -> VideoInfo:
    """Build the :class:`VideoInfo` of an open container."""
    real = _real_videos(container, path)
    index, reason = choose_stream([(s.index, s.width or 0, s.height or 0, _is_default(s)) for s in real])
    video = container.streams[index]
    stored_w, stored_h = int(video.width or 0), int(video.height or 0)
    if stored_w <= 0 or stored_h <= 0:
        raise MediaError(_named(path, "cannot determine the video frame size"))
    fps = _frame_rate(video)
    duration = container.duration / 1_000_000 if container.duration is not None else None
    audio = _pick_audio(container)
    sar = video.sample_aspect_ratio
    rotation = _first_frame_rotation(container, video)
    width, height = (stored_h, stored_w) if rotation in (90, 270) else (stored_w, stored_h)
    return VideoInfo(
        path=path,
        width=width,
        height=height,
        fps=float(fps),
        frame_count=_frame_count(video, fps, duration),
        duration=duration,
        rotation=rotation,
        has_audio=audio is not None,
        codec=_codec_name(video),
        audio_codec=_codec_name(audio) if audio is not None else None,
        stream_index=index,
        stream_reason=reason,
        storage_size=(stored_w, stored_h),
        sample_aspect_ratio=Fraction(sar) if sar and sar > 0 else Fraction(1),
        video_start=_seconds(video.start_time, video.time_base),
        audio_start=_seconds(audio.start_time, audio.time_base) if audio is not None else None,
        time_base=Fraction(video.time_base) if video.time_base else None,
        container=container.format.name or "",
        audio_stream_index=audio.index if audio is not None else None,
        **_colours(video),
    )


# FFmpeg's AVColorSpace and AVColorRange numbers, by the names its filters use.
_COLOR_SPACES = {0: "gbr", 1: "bt709", 4: "fcc", 5: "bt470bg", 6: "smpte170m", 7: "smpte240m", 8: "ycgco",
                 9: "bt2020nc", 10: "bt2020c", 11: "smpte2085", 12: "chroma-derived-nc", 13: "chroma-derived-c",
                 14: "ictcp"}  # fmt: skip (2: unspecified)
_COLOR_RANGES = {1: "tv", 2: "pc"}


def _colours(stream: Any) -> dict[str, Any]:
    """The stored pixel format, colour matrix and range (``None`` where unknown or unspecified)."""
    context = stream.codec_context
    matrix = getattr(context, "colorspace", None)
    return {
        "pix_fmt": getattr(context, "pix_fmt", None),
        "color_space": None if matrix is None else _COLOR_SPACES.get(int(matrix)),
        "color_range": _COLOR_RANGES.get(int(getattr(context, "color_range", 0) or 0)),
    }


def probe_in_process(path: PathLike, *, url_timeout: float | None = None) -> VideoInfo:
    """Probe ``path`` in this process (no isolation: a crash in FFmpeg ends this process).

    Opens the container, reads its streams and decodes the first frame of the
    chosen video stream for its display matrix.  Raises :class:`MediaError`.
    ``url_timeout`` bounds each wait on the server when ``path`` is a URL.
    """
    p = os.fspath(path)
    _check_path(p)
    container = _open(p, url_timeout)
    try:
        return _describe(container, p)
    finally:
        container.close()


# --------------------------------------------------------------------------
# Isolation: the probe in a child process
# --------------------------------------------------------------------------

# The child imports only this module (and errors.py), not the package's heavy
# __init__: its parent packages are registered as bare modules with their folders.
# With a path argument it probes that file; without, it serves JSON lines on stdin.
_CHILD_CODE = """
import json, sys, types
for name, folder in json.loads(sys.argv[1]):
    module = types.ModuleType(name)
    module.__path__ = [folder]
    sys.modules[name] = module
probe = __import__(sys.argv[2], fromlist=["_child_main"])
sys.exit(probe._child_main(sys.argv[3:]))
"""


def _reply(path: str, url_timeout: float | None = None) -> dict[str, Any]:
    """The child's answer for one file: ``{"info": ...}`` or ``{"error": "one line"}``."""
    try:
        return {"info": probe_in_process(path, url_timeout=url_timeout).to_dict()}
    except MediaError as exc:
        return {"error": exc.format_message()}
    except Exception as exc:  # FFmpeg/PyAV failures not foreseen above still fail only this file
        return {"error": _named(path, f"cannot probe video: {type(exc).__name__}: {first_line(exc)}")}


def _child_main(args: list[str]) -> int:
    """Entry point of the child: probe ``args[0]`` (a URL with ``args[1]``: its wait limit in
    seconds), or each JSON-encoded path read from stdin."""
    # Replies go to a private copy of stdout; anything a library prints lands on stderr.
    out = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    paths = args[:1] or (json.loads(line) for line in sys.stdin)
    url_timeout = float(args[1]) if len(args) > 1 else None
    for path in paths:
        out.write(json.dumps(_reply(path, url_timeout)) + "\n")
        out.flush()
    return 0


def _child_command(*args: str) -> list[str]:
    return [sys.executable, "-c", _CHILD_CODE, json.dumps(_parent_packages()), __name__, *args]


def _decode_reply(line: bytes) -> VideoInfo:
    """A reply line as a :class:`VideoInfo`, or its error raised; ValueError if it is not a reply."""
    reply = json.loads(line.decode("utf-8"))
    if "error" in reply:
        raise MediaError(str(reply["error"]))
    return VideoInfo.from_dict(reply["info"])


def _parent_packages() -> list[tuple[str, str]]:
    """``[(package, folder)]`` for each package above this module, outermost first."""
    parts = __name__.split(".")[:-1]
    here = Path(__file__).resolve().parent
    folders = [here.parents[i - 1] if i else here for i in range(len(parts))][::-1]
    return [(".".join(parts[: i + 1]), str(folder)) for i, folder in enumerate(folders)]


def _child_failure(path: str, returncode: int | None, stderr: bytes) -> MediaError:
    """The error for a child that ended without a reply (killed by a signal, or a broken setup)."""
    if returncode is not None and returncode < 0:
        try:
            sig = signal.Signals(-returncode).name
        except ValueError:
            sig = f"signal {-returncode}"
        return MediaError(_named(path, f"the video crashed FFmpeg while its header was read ({sig}); the file is damaged"))
    detail = first_line(stderr.decode("utf-8", "replace")) or f"exit status {returncode}"
    return MediaError(_named(path, f"cannot probe video: {detail[:200]}"))


def probe_video(path: PathLike, *, timeout: float = PROBE_TIMEOUT_S, isolate: bool = True,
                url_timeout: float | None = None) -> VideoInfo:
    """Probe a video file or an http/https/rtsp URL; raise :class:`MediaError` with a one-line reason naming it.

    With ``isolate`` (the default) the probe runs in a child Python process that is
    killed after ``timeout`` seconds, so a hostile file can neither crash nor hang
    the caller.  ``isolate=False`` is :func:`probe_in_process`.  For a URL, ``url_timeout``
    bounds each wait on the server (connecting, each read).
    """
    p = os.fspath(path)
    _check_path(p)
    if not isolate:
        return probe_in_process(p, url_timeout=url_timeout)
    extra = [repr(float(url_timeout))] if url_timeout is not None and is_url(p) else []
    try:
        proc = subprocess.run(
            _child_command(p, *extra), stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout, start_new_session=True
        )
    except subprocess.TimeoutExpired as exc:
        raise MediaError(_named(p, _MSG_TIMEOUT)) from exc
    except OSError as exc:
        raise MediaError(_named(p, f"cannot start the video probe: {exc}")) from exc
    lines = proc.stdout.strip().splitlines()
    try:
        return _decode_reply(lines[-1])
    except (ValueError, IndexError, KeyError, TypeError):
        raise _child_failure(p, proc.returncode, proc.stderr) from None
