"""Still images: read upright as RGB with Pillow, written atomically.

Example::

    from movenet_cli.media import read_image, write_image

    image = read_image("sample_media/person.jpg")     # uint8 (H, W, 3), EXIF orientation applied
    write_image("out/person.png", image)             # the format from the extension, written atomically
"""

from __future__ import annotations

import logging
import os
import re
import warnings
from pathlib import Path
from typing import Any, Union

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from ..errors import MediaError
from ..util.fs import atomic_write
from .formats import IMAGE_FORMATS, check_pixels, too_large

logger = logging.getLogger(__name__)

PathLike = Union[str, "os.PathLike[str]"]





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


def check_image_size(path: PathLike) -> None:
    """Refuse an image above :data:`~movenet_cli.media.formats.MAX_PIXELS` from its header alone,
    before any model is loaded or pixel decoded; files Pillow does not recognise are left to
    :func:`read_image`, which says what is wrong with them."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(os.fspath(path)) as img:
                size = img.size
    except Image.DecompressionBombError as exc:
        pixels = re.search(r"\((\d+) pixels\)", str(exc))
        raise too_large(f"an image of {int(pixels.group(1)) / 1e6:.0f} MP" if pixels else "the image") from exc
    except (UnidentifiedImageError, OSError, ValueError):
        return
    check_pixels(*size)


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
        raise too_large(f"an image of {int(pixels.group(1)) / 1e6:.0f} MP" if pixels else "the image") from exc
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
    fmt = IMAGE_FORMATS.get(ext)
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

