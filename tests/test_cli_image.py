"""`movenet image`: image formats through the command, and one still agreeing with the video run."""

from __future__ import annotations

import json

from helpers import assert_ok, run_movenet

_ok = assert_ok


def test_image_formats_and_csv(tmp_path, person_image):
    from PIL import Image

    Image.fromarray(person_image).convert("L").save(tmp_path / "gray.png")
    Image.fromarray(person_image).convert("RGBA").save(tmp_path / "alpha.webp")
    Image.fromarray(person_image).save(tmp_path / "plain.bmp")
    out = tmp_path / "out"
    _ok(run_movenet("image", tmp_path / "gray.png", tmp_path / "alpha.webp", tmp_path / "plain.bmp", "-o", out, "--csv", "-q"))
    for name in ("gray.png", "alpha.webp", "plain.bmp"):
        doc = json.loads((out / f"{name}.json").read_text())
        assert doc["frames"][0]["people"], name
        assert (out / name).exists() and (out / f"{name}.csv").exists()
