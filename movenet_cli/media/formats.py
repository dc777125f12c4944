"""What counts as an image or a video, and the largest frame accepted.

Example::

    media_kind(Path("clip.MOV"))     # "video"
    check_pixels(20000, 20000)       # raises MediaError: above the limit
"""

from __future__ import annotations

from pathlib import Path

from ..errors import MediaError

IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif", ".tif", ".tiff"})
VIDEO_EXTENSIONS = frozenset({".mp4", ".mov", ".m4v", ".mkv", ".webm", ".avi"})

# Largest image or video frame accepted, in pixels: Pillow's decompression-bomb
# threshold (about 89.5 megapixels, e.g. 9459x9459).  A frame this size takes
# 268 MB as RGB; larger inputs are refused before anything is decoded, so they
# never blow up memory.  Pillow's own guard stays on behind this check.
MAX_PIXELS = 89_478_485


def media_kind(path: Path) -> str | None:
    """``"image"``, ``"video"`` or ``None``, by the file's extension."""
    suffix = path.suffix.lower()
    if suffix in IMAGE_EXTENSIONS:
        return "image"
    if suffix in VIDEO_EXTENSIONS:
        return "video"
    return None


def check_pixels(width: int, height: int) -> None:
    """Refuse an image or video frame larger than :data:`MAX_PIXELS`, with advice."""
    if width * height > MAX_PIXELS:
        raise too_large(f"{width}x{height} pixels ({width * height / 1e6:.0f} MP)")


def too_large(size: str) -> MediaError:
    return MediaError(
        f"{size} is above the {MAX_PIXELS / 1e6:.1f} MP limit; downscale it first (e.g. ffmpeg -i IN -vf scale=4096:-2 OUT)"
    )

