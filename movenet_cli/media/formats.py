"""What counts as an image or a video, and the largest frame accepted.

Example::

    from pathlib import Path
    from movenet_cli.errors import MediaError
    from movenet_cli.media.formats import check_pixels, media_kind

    print(media_kind(Path("clip.MOV")))      # video (by the extension alone)
    try:
        check_pixels(20000, 20000)
    except MediaError as exc:
        print(exc)                           # 20000x20000 pixels: above the limit ...
"""

from __future__ import annotations

from pathlib import Path

from ..errors import MediaError

# Still images, by the format Pillow writes them back in (the annotated image keeps its format).
IMAGE_FORMATS = {
    ".jpg": "JPEG", ".jpeg": "JPEG", ".jpe": "JPEG", ".jfif": "JPEG",
    ".png": "PNG", ".webp": "WEBP", ".bmp": "BMP", ".tif": "TIFF", ".tiff": "TIFF", ".gif": "GIF",
}  # fmt: skip
IMAGE_EXTENSIONS = frozenset(IMAGE_FORMATS)
# Video containers ffmpeg reads that cameras, phones, editors and the web write.
VIDEO_EXTENSIONS = frozenset({
    ".mp4", ".m4v", ".mov", ".qt", ".mkv", ".webm", ".avi", ".wmv", ".asf", ".flv", ".f4v",
    ".mpg", ".mpeg", ".m2v", ".vob", ".ts", ".mts", ".m2ts", ".3gp", ".3g2", ".ogv", ".mxf", ".dv", ".y4m",
})  # fmt: skip

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


def sniff_kind(path: Path) -> str | None:
    """``"image"`` or ``"video"`` by the file's first bytes, for a name whose extension says
    neither (``None``: neither). Images are what Pillow recognises; anything else is left to
    the video probe."""
    return "image" if image_extension(path) else "video"


def image_extension(path: Path) -> str | None:
    """The extension of the still-image format the file's content is in (``None``: not an image
    format that can be written back)."""
    from PIL import Image, UnidentifiedImageError

    if not path.is_file():  # a named pipe would block the read
        return None
    try:
        with Image.open(path) as img:
            fmt = img.format
    except (UnidentifiedImageError, OSError, ValueError):
        return None
    return next((ext for ext, name in IMAGE_FORMATS.items() if name == fmt), None)


def check_pixels(width: int, height: int) -> None:
    """Refuse an image or video frame larger than :data:`MAX_PIXELS`, with advice."""
    if width * height > MAX_PIXELS:
        raise too_large(f"{width}x{height} pixels ({width * height / 1e6:.0f} MP)")


def too_large(size: str) -> MediaError:
    return MediaError(
        f"{size} is above the {MAX_PIXELS / 1e6:.1f} MP limit; downscale it first (e.g. ffmpeg -i IN -vf scale=4096:-2 OUT)"
    )

