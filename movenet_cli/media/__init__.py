"""Everything that touches media files: probing, decoding and encoding video with ffmpeg in
its own processes, reading and writing still images with Pillow.

All frames handed out are ``uint8`` arrays of shape ``(H, W, 3)`` in RGB order, upright as a
viewer would display them (EXIF orientation of photos and the rotation metadata of phone
videos are applied); ``iter_frames(..., yuv=True)`` hands out yuv420p planes instead
(:mod:`movenet_cli.media.yuv`), which ``VideoWriter(..., pix_fmt="yuv420p")`` encodes as they are. Failures caused by the input raise
:class:`~movenet_cli.errors.MediaError` with a short, user-facing reason.

Example::

    from movenet_cli.media import iter_frames, probe_video, read_image

    info = probe_video("sample_media/demo_clip.mp4")
    for frame in iter_frames("sample_media/demo_clip.mp4", end=1.0):
        print(frame.index, frame.time, frame.image.shape)
"""

from ..errors import MediaError
from .decode import Frame, FrameStream, count_frames, iter_frames
from .encode import VideoWriter
from .ffmpeg import ffmpeg_exe
from .formats import IMAGE_EXTENSIONS, MAX_PIXELS, VIDEO_EXTENSIONS, check_pixels, media_kind
from .images import read_image, write_image
from .probe import VideoInfo, probe_video

__all__ = [
    "IMAGE_EXTENSIONS",
    "VIDEO_EXTENSIONS",
    "MAX_PIXELS",
    "MediaError",
    "Frame",
    "FrameStream",
    "VideoInfo",
    "ffmpeg_exe",
    "check_pixels",
    "media_kind",
    "read_image",
    "write_image",
    "probe_video",
    "count_frames",
    "iter_frames",
    "VideoWriter",
]
