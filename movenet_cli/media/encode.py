"""Encoding: annotated frames to an H.264 MP4, with the source's audio muxed back.

Example::

    from movenet_cli.media import VideoWriter, iter_frames

    clip = "sample_media/demo_clip.mp4"
    with VideoWriter("out/copy.mp4", 960, 540, 30.0, audio_source=clip, audio_end=1.0) as writer:
        for frame in iter_frames(clip, end=1.0):
            writer.write(frame.image)        # uint8 (540, 960, 3), RGB
"""

from __future__ import annotations

import logging
import os
import subprocess
import tempfile
from fractions import Fraction
from pathlib import Path
from typing import Any, Union

import numpy as np

from .. import settings
from ..errors import MediaError
from ..util.fs import remove_quietly, temp_path_for
from .ffmpeg import ffmpeg_exe, fps_fraction, last_error_line, popen_kwargs, seconds_arg, start_ffmpeg, stop
from .probe import VideoInfo, probe_video
from .yuv import Yuv420

logger = logging.getLogger(__name__)

PathLike = Union[str, "os.PathLike[str]"]

# Audio codecs that go into an MP4 container by stream copy and play in
# common players.  Anything else is re-encoded to AAC.
_MP4_COPY_AUDIO_CODECS = frozenset({"aac", "mp3", "ac3", "eac3", "alac", "opus", "flac"})
_AAC_BITRATE = "160k"
# x264 options added to a preset. On annotated footage (bench/encoder.py: the drawn bench clip against
# its lossless encode) veryfast with subpixel refinement 1 and diamond motion search gave the same
# SSIM and PSNR as plain veryfast, 7% larger, for two thirds of its CPU.
X264_TUNING = {"veryfast": "subme=1:me=dia"}
# How much longer than the video a muxed file may be (one or two audio packets).
_AUDIO_OVERHANG_S = 0.1


def scaled_size(width: int, height: int, scale: float) -> tuple[int, int]:
    """The even frame size of a video written at ``scale`` times ``width`` x ``height`` (at least 2x2)."""
    if scale == 1:
        return width + width % 2, height + height % 2
    return max(2, 2 * round(width * scale / 2)), max(2, 2 * round(height * scale / 2))


def _encoder_command(width: int, height: int, fps: Fraction, sar: Fraction | None, preset: str, crf: int,
                     out: Path, yuv: bool = False, threads: int | None = None, scale: float = 1.0) -> list[str]:
    """ffmpeg reading RGB frames (``yuv``: BT.709 limited-range yuv420p frames, taken as they are)
    on stdin and writing H.264 yuv420p BT.709 to ``out`` (``scale`` < 1: resized, bilinear)."""
    filters = []
    if not yuv and (width % 2 or height % 2) and scale == 1:
        filters.append(f"pad={width + width % 2}:{height + height % 2}:0:0:color=black")
    if scale != 1:
        filters.append("scale={}:{}:flags=bilinear".format(*scaled_size(width, height, scale)))
    if sar is not None and sar != 1:  # anamorphic: shown as the source is
        filters.append(f"setsar={sar.numerator}/{sar.denominator}")
    # RGB -> BT.709 limited-range YUV, tagged as such (the tags live on the
    # frames in current ffmpeg, hence setparams rather than -color_* only).
    filters.append(
        ("" if yuv else "scale=out_color_matrix=bt709:out_range=tv,format=yuv420p,")
        + "setparams=range=tv:color_primaries=bt709:color_trc=bt709:colorspace=bt709"
    )
    return [
        ffmpeg_exe(), "-hide_banner", "-nostats", "-loglevel", "error", "-y",
        "-f", "rawvideo", "-pix_fmt", "yuv420p" if yuv else "rgb24", "-s", f"{width}x{height}",
        "-framerate", str(fps), "-i", "pipe:0",
        "-an", "-vf", ",".join(filters),
        "-c:v", "libx264", *(["-threads", str(threads)] if threads else []),
        "-preset", str(preset), *(["-x264-params", X264_TUNING[preset]] if preset in X264_TUNING else []),
        "-crf", str(crf), "-pix_fmt", "yuv420p",
        "-colorspace", "bt709", "-color_primaries", "bt709", "-color_trc", "bt709",
        "-color_range", "tv", "-movflags", "+faststart", "-f", "mp4", os.path.abspath(out),
    ]  # fmt: skip


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

    With ``pix_fmt="yuv420p"`` it takes :class:`~movenet_cli.media.yuv.Yuv420` frames (BT.709,
    limited range, even sizes) instead, and encodes their planes without any conversion.
    ``threads``: libx264's threads (default: x264's own choice). ``scale`` < 1: a smaller video (a
    preview; :func:`scaled_size`), frames still written at ``width`` x ``height``, resized in ffmpeg.
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
        audio_info: VideoInfo | None = None,
        sample_aspect_ratio: Fraction | None = None,
        preset: str = settings.PRESET,
        crf: int = settings.CRF,
        pix_fmt: str = "rgb24",
        threads: int | None = None,
        scale: float = 1.0,
    ) -> None:
        width, height = int(width), int(height)
        if width < 1 or height < 1:
            raise ValueError("width and height must be positive")
        if pix_fmt not in ("rgb24", "yuv420p") or (pix_fmt == "yuv420p" and (width % 2 or height % 2)):
            raise ValueError(f"cannot encode {pix_fmt} frames of {width}x{height}")
        self.yuv = pix_fmt == "yuv420p"
        if not 0 < scale <= 1:
            raise ValueError(f"scale must be above 0 and at most 1, got {scale}")
        if not fps or float(fps) <= 0:
            raise ValueError("fps must be positive")
        self.path = Path(path)
        self.width = width
        self.height = height
        self.fps = fps_fraction(fps)
        self.audio_source = os.fspath(audio_source) if audio_source is not None else None
        self.audio_start = audio_start
        self.audio_end = audio_end
        self.audio_info = audio_info
        self.frames_written = 0
        self._closed = False
        self._proc: subprocess.Popen[bytes] | None = None
        self._tmp = temp_path_for(self.path)
        self._tmp_mux: Path | None = None

        parent = self.path.parent
        if not parent.is_dir():
            raise MediaError(f"output directory does not exist: {parent}")

        cmd = _encoder_command(width, height, self.fps, sample_aspect_ratio, preset, crf, self._tmp, self.yuv, threads,
                               float(scale))
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

    def write(self, image: np.ndarray | Yuv420) -> None:
        """Append one ``uint8`` RGB frame of shape ``(height, width, 3)`` (or one :class:`Yuv420`)."""
        if self._closed or self._proc is None:
            raise ValueError("write to a closed VideoWriter")
        arr = self._checked(image)
        assert self._proc.stdin is not None
        try:
            self._proc.stdin.write(arr.data)
        except (BrokenPipeError, OSError) as exc:
            reason = self._error_text()
            self.abort()
            raise MediaError(f"ffmpeg stopped while encoding: {reason}") from exc
        self.frames_written += 1

    def _checked(self, image) -> np.ndarray:
        """The bytes of one frame, in the layout ffmpeg was told."""
        if self.yuv:
            if not isinstance(image, Yuv420) or (image.width, image.height) != (self.width, self.height):
                raise ValueError(f"frame must be {self.width}x{self.height} yuv420p planes")
            return np.ascontiguousarray(image.data)
        arr = np.asarray(image)
        if arr.dtype != np.uint8 or arr.shape != (self.height, self.width, 3):
            raise ValueError(
                f"frame must be uint8 of shape {(self.height, self.width, 3)}, got {arr.dtype} {arr.shape}"
            )
        return np.ascontiguousarray(arr)

    def _error_text(self) -> str:
        try:
            if self._proc is not None:
                try:
                    self._proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    pass
            self._stderr.seek(0)
            return last_error_line(self._stderr.read().decode("utf-8", "replace"))
        except (OSError, ValueError):
            return "unknown ffmpeg error"

    def close(self) -> None:
        """Finish the file and move it to its final path."""
        if not self._closed:
            result = self.finish()
            try:
                os.replace(result, self.path)
            except BaseException:
                remove_quietly(result)
                raise

    def finish(self) -> Path:
        """Encode the last frames and add the audio; return the finished file, still under a
        temporary name (:meth:`close` renames it; a caller publishing several files does)."""
        proc = self._proc
        assert proc is not None and proc.stdin is not None and not self._closed
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
                self._tmp_mux = temp_path_for(self.path, "partial-audio")
                video_length = float(self.frames_written / self.fps)
                info = self.audio_info or probe_video(self.audio_source)
                span = (self.audio_start, self.audio_end)
                result = mux_audio(self._tmp, self._tmp_mux, self.audio_source, info, span, video_length)
        except BaseException:
            self.abort()
            raise
        if result != self._tmp:
            remove_quietly(self._tmp)
        self._release()
        return result

    def abort(self) -> None:
        """Stop ffmpeg and delete the temporary file; the final path is not touched."""
        proc = self._proc
        if proc is not None:
            stop(proc, proc.stdin)
        self._finish()

    def _finish(self) -> None:
        self._release()
        remove_quietly(self._tmp)
        remove_quietly(self._tmp_mux)

    def _release(self) -> None:
        self._closed = True
        try:
            self._stderr.close()
        except (OSError, AttributeError):
            pass


def _audio_window(info: VideoInfo, span: tuple[float | None, float | None], video_length: float):
    """Where the audio that goes with the written frames starts in the source, and how long it is.

    ``span`` is in seconds from the first video frame; the audio stream may start before or
    after the video stream (its start time), so the audio is cut from the same instant.
    Returns ``(seek, delay, length)``: seek into the audio, or delay it when it starts later.
    """
    start = max(0.0, span[0] or 0.0)
    lead = info.audio_lead or 0.0  # seconds by which the audio starts before the video
    seek, delay = max(0.0, start + lead), max(0.0, -(start + lead))
    length = video_length - delay if span[1] is None else min(video_length, span[1] - start) - delay
    if info.duration is not None:
        length = min(length, info.duration - seek)
    return seek, delay, length


def _mux_command(video: Path, out: Path, source: str, stream: int, window, codec: str) -> list[str]:
    seek, delay, length = window
    audio_args = ["-c:a", "copy"] if codec == "copy" else ["-c:a", "aac", "-b:a", _AAC_BITRATE]
    return [
        ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
        "-i", os.path.abspath(video), *(["-ss", seconds_arg(seek)] if seek > 0 else []),
        *(["-itsoffset", seconds_arg(delay)] if delay > 0 else []),
        "-t", seconds_arg(length), "-i", os.path.abspath(source),
        "-map", "0:v:0", "-map", f"1:{stream}", "-c:v", "copy", *audio_args,
        "-movflags", "+faststart", "-f", "mp4", os.path.abspath(out),
    ]  # fmt: skip


def mux_audio(video: Path, out: Path, source: str, info: VideoInfo, span: tuple[float | None, float | None],
              video_length: float) -> Path:
    """Mux the audio stream of ``source`` that goes with the written frames (``span``, seconds from
    its first video frame, never longer than the video) into a copy of ``video`` at ``out``; return
    the file to publish (``video`` when the source has no audio for that span).

    A source whose audio cannot be added is an error (:class:`MediaError` with ffmpeg's reason):
    a video published without the audio it should have would be a silent loss.
    """
    if not info.has_audio or info.audio_stream_index is None:
        return video
    window = _audio_window(info, span, video_length)
    if window[2] <= 0.01:
        return video
    codecs = ["copy", "aac"] if info.audio_codec in _MP4_COPY_AUDIO_CODECS else ["aac"]
    error = ""
    for codec in codecs:
        cmd = _mux_command(video, out, source, info.audio_stream_index, window, codec)
        proc = subprocess.run(
            cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **popen_kwargs()
        )
        if proc.returncode == 0:
            # Copied audio may overhang the video by a packet; anything
            # more means ffmpeg did not honour the cut: try re-encoding.
            muxed = probe_video(out).duration  # in the probe child: PyAV never loads in this process
            if muxed is None or muxed <= video_length + _AUDIO_OVERHANG_S:
                return out
            error = f"audio came out {muxed:.2f}s long for {video_length:.2f}s of video"
            logger.debug("audio mux with -c:a %s: %s", codec, error)
            continue
        error = last_error_line(proc.stderr.decode("utf-8", "replace"))
        logger.debug("audio mux with -c:a %s failed: %s", codec, error)
        if error == "no space left on device":
            break
    remove_quietly(out)
    raise MediaError(f"could not add the audio to the video: {error}")
