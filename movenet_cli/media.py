"""Decoding and encoding of images and videos.

This module is the only place in movenet-cli that touches media files:

* still images are read and written with Pillow;
* videos are probed, decoded and encoded with the ffmpeg executable shipped
  by the ``imageio-ffmpeg`` package (``imageio_ffmpeg.get_ffmpeg_exe()``; set
  ``IMAGEIO_FFMPEG_EXE`` to use another one).  ffmpeg always runs in its own
  process, which is stopped as soon as the caller is done with it.

All frames handed out are ``uint8`` arrays of shape ``(H, W, 3)`` in RGB order,
upright as a viewer would display them (EXIF orientation of photos and the
rotation metadata of phone videos are applied).

Failures caused by the input (missing file, unsupported format, corrupt data)
raise :class:`MediaError` with a short, user-facing reason.
"""

from __future__ import annotations

import logging
import math
import os
import re
import subprocess
import sys
import tempfile
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from functools import cache
from pathlib import Path
from typing import Any, Union

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from .decode import FrameStream, pixel_maps, read_timeline
from .fsutil import atomic_write, remove_quietly, temp_path_for

__all__ = [
    "IMAGE_EXTENSIONS",
    "VIDEO_EXTENSIONS",
    "MAX_PIXELS",
    "MediaError",
    "Frame",
    "VideoInfo",
    "ffmpeg_exe",
    "check_pixels",
    "read_image",
    "write_image",
    "probe_video",
    "count_frames",
    "iter_frames",
    "VideoWriter",
]

logger = logging.getLogger(__name__)

PathLike = Union[str, "os.PathLike[str]"]

IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif", ".tif", ".tiff"})
VIDEO_EXTENSIONS = frozenset({".mp4", ".mov", ".m4v", ".mkv", ".webm", ".avi"})

# Audio codecs that go into an MP4 container by stream copy and play in
# common players.  Anything else is re-encoded to AAC.
_MP4_COPY_AUDIO_CODECS = frozenset({"aac", "mp3", "ac3", "eac3", "alac", "opus", "flac"})
_AAC_BITRATE = "160k"
_PROBE_TIMEOUT_S = 60.0
# How much longer than the video a muxed file may be (one or two audio packets).
_AUDIO_OVERHANG_S = 0.1

# Largest image or video frame accepted, in pixels: Pillow's decompression-bomb
# threshold (about 89.5 megapixels, e.g. 9459x9459).  A frame this size takes
# 268 MB as RGB; larger inputs are refused before anything is decoded, so they
# never blow up memory.  Pillow's own guard stays on behind this check.
MAX_PIXELS = 89_478_485


class MediaError(Exception):
    """Raised with a one-line, user-facing reason (e.g. 'not a video file', 'no video stream')."""


@dataclass(frozen=True, eq=False)
class Frame:
    """One decoded video frame.

    ``image`` is a writable, C-contiguous ``uint8`` array ``(H, W, 3)`` in RGB
    order, upright (rotation metadata applied).  ``index`` is the position of
    the frame in the source video (0-based), counting every frame even when
    frames are skipped with ``every`` or a ``start`` time.  ``time`` is the
    presentation time in seconds from the first frame of the video, taken
    from the file's timestamps (so it is exact for variable frame rates too).
    """

    image: np.ndarray
    index: int
    time: float


@dataclass(frozen=True)
class VideoInfo:
    """What :func:`probe_video` found out about a video file.

    ``width``/``height`` are the size of the frames as displayed (and as
    yielded by :func:`iter_frames`), i.e. after rotation.  ``rotation`` is
    the clockwise rotation in degrees (0, 90, 180 or 270) that a player
    applies to the stored frames; it is the value of the classic ``rotate``
    tag, so a portrait phone video recorded with a landscape sensor has 90.
    ``frame_count`` is an estimate (frame-count tag, or duration x fps) and
    may be off by a frame or two; use :func:`count_frames` for an exact count.
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


# --------------------------------------------------------------------------
# ffmpeg helpers
# --------------------------------------------------------------------------


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
def _ffmpeg_version() -> tuple[int, int]:
    """(major, minor) of the ffmpeg in use; (99, 0) for git builds without a release number."""
    try:
        import imageio_ffmpeg

        text = imageio_ffmpeg.get_ffmpeg_version()
    except Exception:  # pragma: no cover - very unusual ffmpeg builds
        return (99, 0)
    match = re.match(r"n?(\d+)\.(\d+)", text.strip())
    if not match:
        return (99, 0)
    return int(match.group(1)), int(match.group(2))


def _passthrough_args() -> list[str]:
    """ffmpeg options that output every decoded frame once (no duplicates, no drops)."""
    if _ffmpeg_version() >= (5, 1):
        return ["-fps_mode", "passthrough"]
    return ["-vsync", "0"]  # pragma: no cover - old system ffmpeg


def _popen_kwargs() -> dict[str, Any]:
    """Run ffmpeg in its own process group so that Ctrl-C in a terminal reaches
    only Python, which then stops ffmpeg in an orderly way."""
    if sys.platform.startswith("win"):  # pragma: no cover
        return {"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP}
    return {"start_new_session": True}


def start_ffmpeg(cmd: list[str], *, stdin: Any, stdout: Any, stderr: Any) -> subprocess.Popen:
    """Start an ffmpeg child in its own process group; a failure to start is a MediaError."""
    try:
        return subprocess.Popen(cmd, stdin=stdin, stdout=stdout, stderr=stderr, **_popen_kwargs())
    except OSError as exc:
        raise MediaError(f"cannot start ffmpeg: {exc}") from exc


def _last_error_line(text: str) -> str:
    """The most useful single line of an ffmpeg error log."""
    lines = [ln.strip() for ln in text.replace("\r", "\n").splitlines() if ln.strip()]
    for line in reversed(lines):
        if line.startswith(("frame=", "size=", "[out#", "Press [q]")):
            continue
        if line.startswith(("Conversion failed", "=== stderr ===", "... showing only")):
            continue
        # Drop the "[libx264 @ 0x55...] " style prefix.
        line = re.sub(r"^\[[^\]]+ @ 0x[0-9a-f]+\]\s*", "", line)
        return line[:200]
    return "unknown ffmpeg error"


def _fps_fraction(fps: float | Fraction) -> Fraction:
    """A frame rate as an exact fraction (29.97002997 -> 30000/1001)."""
    if isinstance(fps, Fraction):
        return fps
    return Fraction(fps).limit_denominator(10000)


def _ffmpeg_seconds(value: float) -> str:
    return f"{max(value, 0.0):.6f}"


# --------------------------------------------------------------------------
# Probing
# --------------------------------------------------------------------------

_STREAM_RE = re.compile(
    r"^\s*Stream #(?P<file>\d+):(?P<index>\d+)(?:\[[^\]]*\])?(?:\([^)]*\))?:\s*"
    r"(?P<kind>Video|Audio|Subtitle|Data|Attachment):\s*(?P<rest>.*)$"
)
_SIZE_RE = re.compile(r"\s(\d+)x(\d+)(?=[,\s\[]|$)")
_RATE_RE = r"(\d+(?:\.\d+)?)(k?) {}\b"
_DISPLAYMATRIX_RE = re.compile(r"display\s*matrix:\s*rotation of\s*(-?\d+(?:\.\d+)?)\s*degrees", re.I)
_ROTATE_TAG_RE = re.compile(r"^\s*rotate\s*:\s*(-?\d+(?:\.\d+)?)\s*$", re.I | re.M)
_DURATION_RE = re.compile(r"Duration:\s*(\d+):(\d+):(\d+(?:\.\d+)?)")
_TAG_DURATION_RE = re.compile(r"^\s*DURATION(?:-\w+)?\s*:\s*(\d+):(\d+):(\d+(?:\.\d+)?)\s*$", re.M)
_NB_FRAMES_RE = re.compile(r"^\s*NUMBER_OF_FRAMES(?:-\w+)?\s*:\s*(\d+)\s*$", re.M)
_INPUT_RE = re.compile(r"^Input #0, (?P<format>.+?), from ", re.M)


@dataclass
class _Stream:
    index: int
    kind: str
    line: str
    block: str  # the stream line plus its indented metadata / side-data lines


def _split_streams(text: str) -> list[_Stream]:
    """Split the ``Input #0`` part of ``ffmpeg -i`` output into streams.

    Each stream keeps the lines indented below it (metadata, side data such
    as the display matrix), so per-stream tags are not mixed up.
    """
    streams: list[_Stream] = []
    current: _Stream | None = None
    in_input = False
    for line in text.splitlines():
        indent = len(line) - len(line.lstrip(" "))
        if indent == 0:
            current = None
            if line.startswith("Input #"):
                in_input = line.startswith("Input #0,")
            elif line.startswith(("Output #", "Stream mapping:", "At least one output")):
                in_input = False
            continue
        if not in_input:
            continue
        match = _STREAM_RE.match(line)
        if match and match.group("file") == "0":
            current = _Stream(int(match.group("index")), match.group("kind"), match.group("rest"), line)
            streams.append(current)
        elif indent <= 2:
            # "  Duration:", "  Chapters:", "  Program 1", ...: not stream data.
            current = None
        elif current is not None:
            # Older ffmpeg indents a stream's Metadata/Side data as deep as
            # the Stream line itself, newer ffmpeg deeper: take both.
            current.block += "\n" + line
    return streams


def _parse_rate(text: str, unit: str) -> float | None:
    match = re.search(_RATE_RE.format(unit), text)
    if not match:
        return None
    value = float(match.group(1)) * (1000.0 if match.group(2) else 1.0)
    return value if value > 0 else None


def _exact_fps(value: float) -> float:
    """Undo ffmpeg's two-decimal rounding of NTSC rates (29.97 -> 30000/1001)."""
    if value.is_integer():
        return value
    base = round(value * 1.001)
    if base > 0 and abs(base / 1.001 - value) < 0.006:
        return base * 1000 / 1001
    return value


def _hms(match: re.Match[str]) -> float:
    return int(match.group(1)) * 3600 + int(match.group(2)) * 60 + float(match.group(3))


def _normalise_rotation(clockwise_degrees: float) -> int:
    return int(round(clockwise_degrees / 90.0)) % 4 * 90


@dataclass
class _Probe:
    info: VideoInfo
    video_stream: int
    storage_size: tuple[int, int]


def _looks_like_mp4(path: str) -> bool:
    """Whether the file starts like an MP4/MOV (a top-level box such as ``ftyp``)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(8)
    except OSError:
        return False
    return len(head) == 8 and head[4:8] in (b"ftyp", b"mdat", b"moov", b"free", b"skip", b"wide", b"pnot")


def _parse_probe(text: str, path: str) -> _Probe:
    """Turn the stderr of ``ffmpeg -hide_banner -i PATH`` into a :class:`_Probe`."""
    if "Input #0" not in text:
        lowered = text.lower()
        if "no such file or directory" in lowered:
            raise MediaError("file not found")
        if "permission denied" in lowered:
            raise MediaError("permission denied")
        if "moov atom not found" in lowered and _looks_like_mp4(path):
            raise MediaError(
                "incomplete MP4: its index (moov atom) is missing, as when a recording or copy is cut short; "
                "it cannot be decoded (re-copy it, or try a repair tool such as untrunc)"
            )
        if "invalid data found when processing input" in lowered:
            raise MediaError("not a video file (unrecognised or corrupt data); check that it is a complete video")
        raise MediaError(f"cannot open video: {_last_error_line(text)}")

    fmt_match = _INPUT_RE.search(text)
    container = fmt_match.group("format") if fmt_match else ""
    if container == "image2" or container.endswith("_pipe"):
        raise MediaError("not a video file (it is a still image); use `movenet image`")

    streams = _split_streams(text)
    videos = [s for s in streams if s.kind == "Video"]
    real_videos = [s for s in videos if "(attached pic)" not in s.line]
    audios = [s for s in streams if s.kind == "Audio"]
    if not real_videos:
        if videos:
            raise MediaError("no video stream (only cover art); give a file with video")
        raise MediaError("no video stream (audio only?); give a file with video")
    video = real_videos[0]

    codec = video.line.split(None, 1)[0].rstrip(",") if video.line.strip() else None
    size_match = _SIZE_RE.search(" " + video.line)
    if not size_match:
        raise MediaError("cannot determine the video frame size")
    stored_w, stored_h = int(size_match.group(1)), int(size_match.group(2))

    rotation = 0
    dm = _DISPLAYMATRIX_RE.search(video.block)
    if dm:
        # ffmpeg reports the display matrix angle counter-clockwise.
        rotation = _normalise_rotation(-float(dm.group(1)))
    else:
        tag = _ROTATE_TAG_RE.search(video.block)
        if tag:
            rotation = _normalise_rotation(float(tag.group(1)))
    width, height = (stored_h, stored_w) if rotation in (90, 270) else (stored_w, stored_h)

    fps = _parse_rate(video.line, "fps") or _parse_rate(video.line, "tbr")
    fps = _exact_fps(fps) if fps else 25.0  # ffmpeg's own fallback rate

    duration_match = _DURATION_RE.search(text)
    duration = _hms(duration_match) if duration_match else None

    frame_count: int | None = None
    nb = _NB_FRAMES_RE.search(video.block)
    if nb:
        frame_count = int(nb.group(1))
    else:
        tag_dur = _TAG_DURATION_RE.search(video.block)
        stream_duration = _hms(tag_dur) if tag_dur else duration
        if stream_duration:
            frame_count = max(1, round(stream_duration * fps))

    audio_codec = audios[0].line.split(None, 1)[0].rstrip(",") if audios else None
    info = VideoInfo(
        path=path,
        width=width,
        height=height,
        fps=fps,
        frame_count=frame_count,
        duration=duration,
        rotation=rotation,
        has_audio=bool(audios),
        codec=codec,
        audio_codec=audio_codec,
    )
    return _Probe(info=info, video_stream=video.index, storage_size=(stored_w, stored_h))


def _run_ffmpeg_info(path: PathLike) -> str:
    """stderr of ``ffmpeg -hide_banner -i PATH`` (ffmpeg exits 1 here: no output file)."""
    p = os.fspath(path)
    if not os.path.exists(p):
        raise MediaError("file not found")
    if os.path.isdir(p):
        raise MediaError("is a directory, not a video file")
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", p]
    try:
        proc = subprocess.run(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            timeout=_PROBE_TIMEOUT_S,
        )
    except subprocess.TimeoutExpired as exc:
        raise MediaError("timed out while reading the video header") from exc
    return proc.stderr.decode("utf-8", "replace")


def _probe(path: PathLike) -> _Probe:
    return _parse_probe(_run_ffmpeg_info(path), os.fspath(path))


def probe_video(path: PathLike) -> VideoInfo:
    """Read the header of a video file.

    Runs ``ffmpeg -hide_banner -i PATH`` and parses what it prints.  Raises
    :class:`MediaError` for a missing file, a file ffmpeg cannot open, a
    still image or a file without a video stream.
    """
    return _probe(path).info


def count_frames(path: PathLike) -> int:
    """Exact number of frames in the video stream, as a player shows them.

    Reads the whole file without decoding it (a stream-copy pass listing the
    packets), so it is fast but proportional to the file size.  Frames that an
    edit list hides (a file trimmed by stream copy starts at a keyframe before
    the cut) are not counted.
    """
    probe = _probe(path)
    timeline = read_timeline(ffmpeg_exe(), os.fspath(path), probe.video_stream)
    if timeline is None:
        raise MediaError("cannot count frames: ffmpeg could not list the video packets")
    return len(timeline)


# --------------------------------------------------------------------------
# Decoding
# --------------------------------------------------------------------------


def iter_frames(
    path: PathLike,
    *,
    start: float | None = None,
    end: float | None = None,
    every: int = 1,
    size: tuple[int, int] | None = None,
    pixels: tuple[np.ndarray, np.ndarray] | None = None,
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
    pixels a resize reads).

    The file is probed and the arguments are checked when this function is
    called (:class:`MediaError` / :class:`ValueError` are raised right away);
    decoding starts with the first ``next()``.  The result is a
    :class:`~movenet_cli.decode.FrameStream`: iterate over it; closing it
    early (``close()``, a ``with`` block) stops the ffmpeg process, and once
    it is exhausted its ``problem`` says whether the file decoded only in
    part.  A crash of ffmpeg raises :class:`MediaError`.
    """
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

    probe = _probe(path)
    check_pixels(probe.info.width, probe.info.height)
    maps = None if pixels is None else pixel_maps(pixels, probe.info.width, probe.info.height)
    return FrameStream(os.fspath(path), probe, start=start, end=end, every=every, size=size, maps=maps)


# --------------------------------------------------------------------------
# Images
# --------------------------------------------------------------------------

_PIL_FORMATS = {
    ".jpg": "JPEG",
    ".jpeg": "JPEG",
    ".png": "PNG",
    ".webp": "WEBP",
    ".bmp": "BMP",
    ".tif": "TIFF",
    ".tiff": "TIFF",
    ".gif": "GIF",
}


def check_pixels(width: int, height: int) -> None:
    """Refuse an image or video frame larger than :data:`MAX_PIXELS`, with advice."""
    if width * height > MAX_PIXELS:
        raise _too_large(f"{width}x{height} pixels ({width * height / 1e6:.0f} MP)")


def _too_large(size: str) -> MediaError:
    return MediaError(
        f"{size} is above the {MAX_PIXELS / 1e6:.1f} MP limit; downscale it first (e.g. ffmpeg -i IN -vf scale=4096:-2 OUT)"
    )


def _high_depth_to_uint8(img: Image.Image) -> np.ndarray:
    """Gray images with 16/32-bit integer or float samples -> uint8 (H, W)."""
    arr = np.asarray(img)
    if img.mode == "F":
        arr = arr.astype(np.float64)
        finite = arr[np.isfinite(arr)]
        scale = 255.0 if finite.size and finite.max() <= 1.0 else 1.0
        return np.clip(np.nan_to_num(arr) * scale, 0, 255).round().astype(np.uint8)
    # "I;16*" and "I" (16-bit PNG/TIFF): full 16-bit range.
    arr = np.clip(arr.astype(np.int64), 0, 65535)
    return ((arr * 255 + 32767) // 65535).astype(np.uint8)


def _to_rgb_array(img: Image.Image) -> np.ndarray:
    mode = img.mode
    if mode == "P":
        img = img.convert("RGBA" if "transparency" in img.info else "RGB")
        mode = img.mode
    elif mode in ("PA",):
        img = img.convert("RGBA")
        mode = "RGBA"

    if mode == "RGB":
        arr = np.asarray(img)
    elif mode in ("RGBA", "LA", "La", "RGBa"):
        # Composite on black: premultiply colour by alpha.
        rgba = np.asarray(img.convert("RGBA"), dtype=np.uint16)
        alpha = rgba[..., 3:4]
        arr = ((rgba[..., :3] * alpha + 127) // 255).astype(np.uint8)
    elif mode.startswith("I") or mode == "F":
        gray = _high_depth_to_uint8(img)
        arr = np.repeat(gray[..., None], 3, axis=2)
    else:  # "1", "L", "CMYK", "YCbCr", "LAB", "HSV", ...
        try:
            arr = np.asarray(img.convert("RGB"))
        except (ValueError, OSError) as exc:
            raise MediaError(f"unsupported image mode {mode}") from exc
    return np.ascontiguousarray(arr, dtype=np.uint8)


def read_image(path: PathLike) -> np.ndarray:
    """Read a still image as an upright ``uint8`` RGB array ``(H, W, 3)``.

    EXIF orientation is applied.  Palette, grayscale, CMYK and 16-bit images
    are converted; transparent images are composited on black.  Animated
    formats give their first frame.
    """
    p = os.fspath(path)
    if not os.path.exists(p):
        raise MediaError("file not found")
    if os.path.isdir(p):
        raise MediaError("is a directory, not an image file")
    try:
        with warnings.catch_warnings():
            # Between 1x and 2x Pillow's limit it only warns; check_pixels refuses those.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            img = Image.open(p)
        with img:
            check_pixels(*img.size)
            img.load()
            try:
                upright = ImageOps.exif_transpose(img)
            except Exception:  # malformed EXIF: keep the stored orientation
                logger.debug("ignoring unreadable EXIF orientation in %s", p)
                upright = img
            return _to_rgb_array(upright)
    except MediaError:
        raise
    except UnidentifiedImageError as exc:
        raise MediaError("not an image file (unrecognised format); check that it is a complete image") from exc
    except Image.DecompressionBombError as exc:
        pixels = re.search(r"\((\d+) pixels\)", str(exc))
        raise _too_large(f"an image of {int(pixels.group(1)) / 1e6:.0f} MP" if pixels else "the image") from exc
    except PermissionError as exc:
        raise MediaError("permission denied") from exc
    except Exception as exc:  # Pillow's decoders raise many kinds on damaged files
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise MediaError(f"corrupt or truncated image ({detail})") from exc


def write_image(path: PathLike, image: np.ndarray) -> None:
    """Write a ``uint8`` image atomically; the format follows the extension.

    Accepts ``(H, W)``, ``(H, W, 3)`` RGB and ``(H, W, 4)`` RGBA arrays.
    JPEG is written at quality 92 (alpha dropped), WebP at quality 92, PNG,
    BMP and TIFF losslessly.
    """
    ext = Path(path).suffix.lower()
    fmt = _PIL_FORMATS.get(ext)
    if fmt is None:
        raise MediaError(f"unsupported image format {ext or '(no extension)'}")
    arr = np.asarray(image)
    if arr.dtype != np.uint8:
        raise ValueError(f"image must be uint8, got {arr.dtype}")
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[..., 0]
    if not (arr.ndim == 2 or (arr.ndim == 3 and arr.shape[2] in (3, 4))):
        raise ValueError(f"image must be (H, W), (H, W, 3) or (H, W, 4), got shape {arr.shape}")
    img = Image.fromarray(np.ascontiguousarray(arr))
    if fmt in ("JPEG", "BMP") and img.mode == "RGBA":
        img = img.convert("RGB")
    options: dict[str, Any] = {}
    if fmt == "JPEG" or fmt == "WEBP":
        options = {"quality": 92}
    elif fmt == "TIFF":
        options = {"compression": "tiff_deflate"}
    try:
        with atomic_write(path, "wb") as fh:
            img.save(fh, format=fmt, **options)
    except FileNotFoundError as exc:
        raise MediaError("output directory does not exist") from exc
    except PermissionError as exc:
        raise MediaError("permission denied") from exc


# --------------------------------------------------------------------------
# Encoding
# --------------------------------------------------------------------------


class VideoWriter:
    """Write RGB frames to an H.264 MP4 file, atomically.

    The video is encoded with libx264 (``preset``, ``crf``), ``yuv420p``,
    BT.709 colours, ``+faststart``, at exactly ``fps`` and ``width x height``.
    ``yuv420p`` needs even dimensions: for an odd width or height one black
    pixel column/row is added on the right/bottom (1767x993 is stored as
    1768x994); the picture itself is never rescaled.

    With ``audio_source``, the first audio stream of that file (if it has
    one) is added to the output, cut to ``[audio_start, audio_end)`` and never
    longer than the written video.  It is stream-copied when the codec fits
    in MP4 (AAC, MP3, AC-3, Opus, ...) and re-encoded to AAC otherwise.  The
    audio is muxed in a second, quick ffmpeg pass once all frames are written,
    so the video keeps exactly the frames written.

    Frames go to a hidden temporary file next to ``path``, which is renamed
    to ``path`` only by a successful :meth:`close` (or ``with`` exit without
    an exception).  An exception inside the ``with`` block or :meth:`abort`
    kills ffmpeg and deletes the temporary file, so ``path`` never holds a
    half-written video.
    """

    def __init__(
        self,
        path: PathLike,
        width: int,
        height: int,
        fps: float | Fraction,
        *,
        audio_source: PathLike | None = None,
        audio_start: float | None = None,
        audio_end: float | None = None,
        preset: str = "veryfast",
        crf: int = 23,
    ) -> None:
        width, height = int(width), int(height)
        if width < 1 or height < 1:
            raise ValueError("width and height must be positive")
        if not fps or float(fps) <= 0:
            raise ValueError("fps must be positive")
        self.path = Path(path)
        self.width = width
        self.height = height
        self.fps = _fps_fraction(fps)
        self.audio_source = os.fspath(audio_source) if audio_source is not None else None
        self.audio_start = audio_start
        self.audio_end = audio_end
        self.frames_written = 0
        self._closed = False
        self._proc: subprocess.Popen[bytes] | None = None
        self._tmp = temp_path_for(self.path)
        self._tmp_mux: Path | None = None

        parent = self.path.parent
        if not parent.is_dir():
            raise MediaError(f"output directory does not exist: {parent}")

        filters = []
        if width % 2 or height % 2:
            filters.append(f"pad={width + width % 2}:{height + height % 2}:0:0:color=black")
        # RGB -> BT.709 limited-range YUV, tagged as such (the tags live on the
        # frames in current ffmpeg, hence setparams rather than -color_* only).
        filters.append(
            "scale=out_color_matrix=bt709:out_range=tv,format=yuv420p,"
            "setparams=range=tv:color_primaries=bt709:color_trc=bt709:colorspace=bt709"
        )
        cmd = [
            ffmpeg_exe(), "-hide_banner", "-nostats", "-loglevel", "error", "-y",
            "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{width}x{height}",
            "-framerate", str(self.fps), "-i", "pipe:0",
            "-an", "-vf", ",".join(filters),
            "-c:v", "libx264", "-preset", str(preset), "-crf", str(crf), "-pix_fmt", "yuv420p",
            "-colorspace", "bt709", "-color_primaries", "bt709", "-color_trc", "bt709",
            "-color_range", "tv", "-movflags", "+faststart", "-f", "mp4", str(self._tmp),
        ]  # fmt: skip
        self._stderr = tempfile.TemporaryFile()
        try:
            self._proc = start_ffmpeg(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=self._stderr)
        except MediaError:
            self._stderr.close()
            raise

    # -- context manager -------------------------------------------------

    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is not None:
            self.abort()
        else:
            self.close()

    def __del__(self) -> None:  # last resort: never leave ffmpeg running
        try:
            if not self._closed:
                self.abort()
        except Exception:
            pass

    # -- writing ---------------------------------------------------------

    def write(self, image: np.ndarray) -> None:
        """Append one ``uint8`` RGB frame of shape ``(height, width, 3)``."""
        if self._closed or self._proc is None:
            raise ValueError("write to a closed VideoWriter")
        arr = np.asarray(image)
        if arr.dtype != np.uint8 or arr.shape != (self.height, self.width, 3):
            raise ValueError(
                f"frame must be uint8 of shape {(self.height, self.width, 3)}, got {arr.dtype} {arr.shape}"
            )
        arr = np.ascontiguousarray(arr)
        assert self._proc.stdin is not None
        try:
            self._proc.stdin.write(arr.data)
        except (BrokenPipeError, OSError) as exc:
            reason = self._error_text()
            self.abort()
            raise MediaError(f"ffmpeg stopped while encoding: {reason}") from exc
        self.frames_written += 1

    def _error_text(self) -> str:
        try:
            if self._proc is not None:
                try:
                    self._proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    pass
            self._stderr.seek(0)
            return _last_error_line(self._stderr.read().decode("utf-8", "replace"))
        except (OSError, ValueError):
            return "unknown ffmpeg error"

    def close(self) -> None:
        """Finish the file and move it to its final path."""
        if self._closed:
            return
        proc = self._proc
        assert proc is not None and proc.stdin is not None
        try:
            try:
                proc.stdin.close()
            except OSError:
                pass
            returncode = proc.wait()
            if returncode != 0:
                raise MediaError(f"ffmpeg failed to encode the video: {self._error_text()}")
            if self.frames_written == 0:
                raise MediaError("no frames were written")
            result = self._tmp
            if self.audio_source is not None:
                result = self._add_audio(self._tmp)
            os.replace(result, self.path)
        except BaseException:
            self.abort()
            raise
        self._finish()

    def abort(self) -> None:
        """Stop ffmpeg and delete the temporary file; the final path is not touched."""
        proc = self._proc
        if proc is not None and proc.poll() is None:
            try:
                proc.kill()
            except OSError:
                pass
        if proc is not None:
            try:
                if proc.stdin is not None:
                    proc.stdin.close()
            except OSError:
                pass
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:  # pragma: no cover
                logger.warning("ffmpeg did not exit after being killed (pid %s)", proc.pid)
        self._finish()

    def _finish(self) -> None:
        self._closed = True
        remove_quietly(self._tmp)
        remove_quietly(self._tmp_mux)
        try:
            self._stderr.close()
        except (OSError, AttributeError):
            pass

    # -- audio -----------------------------------------------------------

    def _add_audio(self, video_path: Path) -> Path:
        """Mux the source audio into ``video_path``; return the file to publish."""
        assert self.audio_source is not None
        try:
            probe = _probe(self.audio_source)
        except MediaError as exc:
            logger.warning("not copying audio from %s: %s", self.audio_source, exc)
            return video_path
        if not probe.info.has_audio:
            return video_path

        start = max(0.0, self.audio_start or 0.0)
        video_length = float(self.frames_written / self.fps)
        length = video_length
        if self.audio_end is not None:
            length = min(length, self.audio_end - start)
        if probe.info.duration is not None:
            length = min(length, probe.info.duration - start)
        if length <= 0.01:
            return video_path

        self._tmp_mux = temp_path_for(self.path, "partial-audio")
        codecs = ["copy", "aac"] if probe.info.audio_codec in _MP4_COPY_AUDIO_CODECS else ["aac"]
        error = ""
        for codec in codecs:
            audio_args = ["-c:a", "copy"] if codec == "copy" else ["-c:a", "aac", "-b:a", _AAC_BITRATE]
            cmd = [
                ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
                "-i", str(video_path),
                *(["-ss", _ffmpeg_seconds(start)] if start > 0 else []),
                "-t", _ffmpeg_seconds(length), "-i", self.audio_source,
                "-map", "0:v:0", "-map", "1:a:0", "-c:v", "copy", *audio_args,
                "-movflags", "+faststart", "-f", "mp4", str(self._tmp_mux),
            ]  # fmt: skip
            proc = subprocess.run(
                cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **_popen_kwargs()
            )
            if proc.returncode == 0:
                # Copied audio may overhang the video by a packet; anything
                # more means ffmpeg did not honour the cut: try re-encoding.
                muxed = _probe(self._tmp_mux).info.duration
                if muxed is None or muxed <= video_length + _AUDIO_OVERHANG_S:
                    return self._tmp_mux
                error = f"audio came out {muxed:.2f}s long for {video_length:.2f}s of video"
                logger.debug("audio mux with -c:a %s: %s", codec, error)
                continue
            error = _last_error_line(proc.stderr.decode("utf-8", "replace"))
            logger.debug("audio mux with -c:a %s failed: %s", codec, error)
        logger.warning("could not add the audio of %s (%s); writing video only", self.audio_source, error)
        remove_quietly(self._tmp_mux)
        return video_path
