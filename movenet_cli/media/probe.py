"""Probing: what a video file holds (size as displayed, rotation, rate, length, audio).

Example::

    info = probe_video("sample_media/demo_clip.mp4")
    print(info.width, info.height, info.fps, info.rotation, info.has_audio)
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from typing import Union

from ..errors import MediaError
from .ffmpeg import ffmpeg_exe, last_error_line

PathLike = Union[str, "os.PathLike[str]"]

_PROBE_TIMEOUT_S = 60.0


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
class Probe:
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


def _frame_count(block: str, duration: float | None, fps: float) -> int | None:
    """The stream's frame-count tag, else its duration (or the file's) times the rate."""
    nb = _NB_FRAMES_RE.search(block)
    if nb:
        return int(nb.group(1))
    tag_dur = _TAG_DURATION_RE.search(block)
    stream_duration = _hms(tag_dur) if tag_dur else duration
    return max(1, round(stream_duration * fps)) if stream_duration else None


def _open_error(text: str, path: str) -> MediaError:
    """Why ffmpeg could not open ``path`` at all, from its log."""
    lowered = text.lower()
    if "no such file or directory" in lowered:
        return MediaError("file not found")
    if "permission denied" in lowered:
        return MediaError("permission denied")
    if "moov atom not found" in lowered and _looks_like_mp4(path):
        return MediaError(
            "incomplete MP4: its index (moov atom) is missing, as when a recording or copy is cut short; "
            "it cannot be decoded (re-copy it, or try a repair tool such as untrunc)"
        )
    if "invalid data found when processing input" in lowered:
        return MediaError("not a video file (unrecognised or corrupt data); check that it is a complete video")
    return MediaError(f"cannot open video: {last_error_line(text)}")


def _parse_probe(text: str, path: str) -> Probe:
    """Turn the stderr of ``ffmpeg -hide_banner -i PATH`` into a :class:`Probe`."""
    if "Input #0" not in text:
        raise _open_error(text, path)

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

    frame_count = _frame_count(video.block, duration, fps)

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
    return Probe(info=info, video_stream=video.index, storage_size=(stored_w, stored_h))


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


def probe(path: PathLike) -> Probe:
    return _parse_probe(_run_ffmpeg_info(path), os.fspath(path))


def probe_video(path: PathLike) -> VideoInfo:
    """Read the header of a video file.

    Runs ``ffmpeg -hide_banner -i PATH`` and parses what it prints.  Raises
    :class:`MediaError` for a missing file, a file ffmpeg cannot open, a
    still image or a file without a video stream.
    """
    return probe(path).info
