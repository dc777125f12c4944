"""media/images.py: reading any common image upright as RGB, writing atomically."""

from __future__ import annotations

import os

import numpy as np
import pytest
from PIL import Image

from helpers import PERSON_JPG
from movenet_cli import media


@pytest.mark.parametrize("mode", ["L", "1", "RGBA", "LA", "P", "PA-transparent", "CMYK", "I;16"])
def test_read_image_converts_modes(tmp_path, mode):
    base = np.zeros((20, 30, 3), np.uint8)
    base[:10, :, 0] = 255
    img = Image.fromarray(base)
    path = tmp_path / "img.png"
    if mode == "PA-transparent":
        img.convert("P").save(path, transparency=0)
    elif mode == "CMYK":
        path = tmp_path / "img.jpg"
        img.convert("CMYK").save(path)
    elif mode == "I;16":
        Image.fromarray(np.full((20, 30), 65535, np.uint16)).save(path)
    elif mode in ("RGBA", "LA"):
        rgba = np.dstack([base, np.full((20, 30), 128, np.uint8)])
        Image.fromarray(rgba).convert(mode).save(path)
    else:
        img.convert(mode).save(path)

    arr = media.read_image(path)
    assert arr.shape == (20, 30, 3) and arr.dtype == np.uint8 and arr.flags["C_CONTIGUOUS"]
    if mode == "RGBA":  # half-transparent red composited on black
        assert tuple(arr[0, 0]) == (128, 0, 0)
    if mode == "I;16":
        assert (arr == 255).all()
    if mode in ("P", "CMYK"):
        assert arr[0, 0, 0] > 240 and arr[0, 0, 1] < 15 and arr[-1, -1].max() < 15


def test_read_image_applies_exif_orientation(tmp_path):
    stored = np.zeros((20, 30, 3), np.uint8)
    stored[:10] = 255  # top half white
    img = Image.fromarray(stored)
    exif = img.getexif()
    exif[0x0112] = 6  # display rotated 90 degrees clockwise
    path = tmp_path / "phone.jpg"
    img.save(path, exif=exif, quality=95)
    arr = media.read_image(path)
    assert arr.shape == (30, 20, 3)
    assert arr[:, -3:].mean() > 240 and arr[:, :3].mean() < 15  # top went to the right


def test_read_sample_photo_and_errors(tmp_path):
    arr = media.read_image(PERSON_JPG)
    assert arr.shape == (540, 960, 3)
    with pytest.raises(media.MediaError, match="file not found"):
        media.read_image(tmp_path / "nope.png")
    bad = tmp_path / "bad.png"
    bad.write_text("not an image")
    with pytest.raises(media.MediaError, match="not an image"):
        media.read_image(bad)


@pytest.mark.parametrize("ext", [".png", ".jpg", ".webp", ".bmp"])
def test_write_image_round_trip(tmp_path, ext):
    image = np.zeros((24, 32, 3), np.uint8)
    image[:, :16] = (250, 10, 10)
    path = tmp_path / f"out{ext}"
    media.write_image(path, image)
    assert os.listdir(tmp_path) == [path.name]
    back = media.read_image(path)
    assert back.shape == image.shape
    diff = np.abs(back.astype(int) - image)
    if ext in (".png", ".bmp"):
        assert diff.max() == 0
    else:
        assert diff.mean() < 8
    with pytest.raises(media.MediaError, match="unsupported"):
        media.write_image(tmp_path / "out.xyz", image)


@pytest.mark.parametrize("ext", [".png", ".jpg"])
def test_write_image_that_fails_leaves_the_old_file(tmp_path, monkeypatch, ext):
    """An encoder that fails half-way (disk full) leaves neither a half-written file under the
    final name nor a temporary one; a file already there keeps its content."""
    def failing_save(self, fp, *args, **kwargs):
        fp.write(b"half an image")
        raise OSError(28, "No space left on device")

    image = np.zeros((24, 32, 3), np.uint8)
    path = tmp_path / f"out{ext}"
    monkeypatch.setattr(Image.Image, "save", failing_save)
    with pytest.raises(OSError, match="No space left"):
        media.write_image(path, image)
    assert os.listdir(tmp_path) == []
    path.write_bytes(b"previous")
    with pytest.raises(OSError, match="No space left"):
        media.write_image(path, image)
    assert os.listdir(tmp_path) == [path.name] and path.read_bytes() == b"previous"
