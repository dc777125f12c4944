"""End to end through the `movenet` command, on the real models and the sample media."""

from __future__ import annotations

import csv
import json
import shutil

import numpy as np
import pytest

from helpers import DEMO_CLIP, PERSON_JPG, PORTRAIT_CLIP, diagonal, run_movenet
from movenet_cli import media
from movenet_cli.render.sinks import CSV_HEADER


def _ok(result):
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return result


def _one_line_error(result, code, *needles):
    assert result.returncode == code, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    for needle in needles:
        assert str(needle) in lines[0]


def _count(path):
    return sum(1 for _ in media.iter_frames(path))


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory, store):
    """One full `movenet video` run on the clip with audio (unsmoothed, so frames compare with stills)."""
    out = tmp_path_factory.mktemp("demo") / "annotated.mp4"
    result = _ok(run_movenet("video", DEMO_CLIP, "-o", out, "--quiet", "--no-smooth"))
    return out, result


def test_video_outputs_match_the_source(demo_run):
    out, _ = demo_run
    src, dst = media.probe_video(DEMO_CLIP), media.probe_video(out)
    assert (dst.width, dst.height) == (src.width, src.height)
    assert dst.fps == pytest.approx(src.fps, rel=1e-3)
    assert src.has_audio and dst.has_audio
    assert dst.codec == "h264"
    frames = _count(DEMO_CLIP)
    assert _count(out) == frames

    doc = json.loads(out.with_suffix(".json").read_text())
    assert doc["schema"] == "movenet/1" and doc["complete"] is True
    assert doc["source"]["frame_count"] == len(doc["frames"]) == frames
    assert [f["index"] for f in doc["frames"]] == list(range(frames))
    assert doc["frames"][3]["time"] == pytest.approx(3 / src.fps, abs=1e-3)
    assert doc["model"]["name"] == "multipose" and doc["model"]["input_size"] == [160, 256] or doc["model"][
        "input_size"
    ][1] == 256
    people = [p for f in doc["frames"] for p in f["people"]]
    assert len(people) >= frames  # at least one person in most frames, two in many
    for person in people[:50]:
        assert len(person["keypoints"]) == 17 and len(person["bbox"]) == 4 and 0 < person["score"] <= 1

    with open(out.with_suffix(".csv"), newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == CSV_HEADER and len(CSV_HEADER) == 8 + 51
    assert len(rows) - 1 == len(people)
    assert {int(r[0]) for r in rows[1:]} <= set(range(frames))


def test_annotated_video_shows_the_skeleton(demo_run):
    """Skeleton colours appear near the detected people in the annotated frames."""
    out, _ = demo_run
    doc = json.loads(out.with_suffix(".json").read_text())
    for frame in media.iter_frames(out, start=1.0, end=1.04):
        people = doc["frames"][frame.index]["people"]
        assert people
        x0, y0, x1, y1 = (int(v) for v in people[0]["bbox"])
        crop = frame.image[max(0, y0) : y1, max(0, x0) : x1].astype(int)
        magenta = (crop[..., 0] > 200) & (crop[..., 1] < 80) & (crop[..., 2] > 200)
        cyan = (crop[..., 0] < 80) & (crop[..., 1] > 200) & (crop[..., 2] > 200)
        assert magenta.sum() > 20 and cyan.sum() > 20


def test_image_and_video_agree_on_the_same_frame(tmp_path, demo_run):
    out, _ = demo_run
    frame = next(f for f in media.iter_frames(DEMO_CLIP) if f.index == 30)
    png = tmp_path / "frame30.png"
    media.write_image(png, frame.image)
    _ok(run_movenet("image", png, "-o", tmp_path / "annotated.png", "--accuracy", "standard", "--quiet"))
    still = json.loads((tmp_path / "annotated.json").read_text())["frames"][0]["people"]
    video = json.loads(out.with_suffix(".json").read_text())["frames"][30]["people"]
    assert len(still) == len(video) >= 1
    for a, b in zip(still, video):
        np.testing.assert_allclose(a["keypoints"], b["keypoints"], atol=0.02)
        assert a["bbox"] == pytest.approx(b["bbox"], abs=0.02)


def test_portrait_clip_comes_out_upright(tmp_path):
    out = tmp_path / "portrait.mp4"
    _ok(run_movenet("video", PORTRAIT_CLIP, "-o", out, "--quiet"))
    info = media.probe_video(out)
    assert info.height > info.width and info.rotation == 0
    doc = json.loads(out.with_suffix(".json").read_text())
    src = doc["source"]
    assert src["rotation"] == 90 and src["height"] > src["width"]
    assert (info.width, info.height) == (src["width"], src["height"])
    people = [p for f in doc["frames"] for p in f["people"]]
    assert people
    confident = np.array([kp for p in people for kp in p["keypoints"] if kp[2] > 0.3])
    assert (confident[:, 0] >= -2).all() and (confident[:, 0] <= src["width"] + 2).all()
    assert (confident[:, 1] >= -2).all() and (confident[:, 1] <= src["height"] + 2).all()


def test_odd_sized_video(tmp_path):
    import subprocess

    # 4:4:4 H.264 is one of the few common formats that stores odd sizes.
    src = tmp_path / "odd_src.mp4"
    subprocess.run(
        [media.ffmpeg_exe(), "-v", "error", "-i", DEMO_CLIP, "-t", "0.4", "-vf", "scale=1767:993",
         "-c:v", "libx264", "-pix_fmt", "yuv444p", "-an", src],
        check=True,
    )
    assert (media.probe_video(src).width, media.probe_video(src).height) == (1767, 993)
    out = tmp_path / "odd_out.mp4"
    _ok(run_movenet("video", src, "-o", out, "--quiet"))
    doc = json.loads(out.with_suffix(".json").read_text())
    assert (doc["source"]["width"], doc["source"]["height"]) == (1767, 993)
    assert len(doc["frames"]) == _count(src) == _count(out)
    assert any(f["people"] for f in doc["frames"])
    # yuv420p needs even sizes: the annotated video is padded by one pixel, never scaled.
    assert (media.probe_video(out).width, media.probe_video(out).height) == (1768, 994)


def test_start_end_every_keep_source_indices(tmp_path):
    out = tmp_path / "part.mp4"
    _ok(run_movenet("video", DEMO_CLIP, "-o", out, "--start", "1", "--end", "2", "--every", "3", "--quiet"))
    doc = json.loads(out.with_suffix(".json").read_text())
    fps = doc["source"]["fps"]
    indices = [f["index"] for f in doc["frames"]]
    assert indices == list(range(int(fps), int(2 * fps), 3))
    for f in doc["frames"]:
        assert f["time"] == pytest.approx(f["index"] / fps, abs=1e-3)
    info = media.probe_video(out)
    assert info.fps == pytest.approx(fps / 3, rel=1e-3)
    assert _count(out) == len(indices)
    assert info.has_audio


def test_no_video_writes_data_only(tmp_path):
    out = tmp_path / "data.mp4"
    json_path = tmp_path / "elsewhere" / "k.json"
    _ok(run_movenet("video", DEMO_CLIP, "-o", out, "--no-video", "--json", json_path, "--end", "0.5", "-q"))
    assert not out.exists()
    assert json_path.exists() and out.with_suffix(".csv").exists()


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


def test_dir_mirrors_inputs_and_survives_a_bad_file(tmp_path):
    src = tmp_path / "footage"
    (src / "a" / "b").mkdir(parents=True)
    shutil.copy(PERSON_JPG, src / "a" / "same.jpg")
    media.write_image(src / "a" / "same.png", media.read_image(PERSON_JPG))
    shutil.copy(PORTRAIT_CLIP, src / "a" / "b" / "clip.mp4")
    (src / "broken.mp4").write_text("this is not a video\n")
    (src / "notes.txt").write_text("ignored")
    out = tmp_path / "out"
    result = run_movenet("dir", src, "-o", out, "-q")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "broken.mp4" in result.stderr and "3 done, 1 failed" in result.stderr
    assert (out / "a" / "same.jpg").exists() and (out / "a" / "same.png").exists()
    assert (out / "a" / "same.jpg.json").exists() and (out / "a" / "same.png.json").exists()
    assert (out / "a" / "b" / "clip.mp4").exists() and (out / "a" / "b" / "clip.mp4.json").exists()
    assert not list(out.glob("broken*")) and not list(out.rglob(".*partial*"))
    doc = json.loads((out / "a" / "b" / "clip.mp4.json").read_text())
    assert doc["source"]["path"].endswith("clip.mp4")


def test_errors_are_one_line(tmp_path):
    _one_line_error(run_movenet("video", tmp_path / "missing.mp4", "-o", tmp_path / "o.mp4"), 1, "missing.mp4")
    _one_line_error(run_movenet("video", tmp_path, "-o", tmp_path / "o.mp4"), 1, str(tmp_path))
    bad = tmp_path / "bad.jpg"
    bad.write_text("not an image")
    _one_line_error(run_movenet("image", bad, "-o", tmp_path / "bad_out.jpg"), 1, "bad.jpg")
    assert not (tmp_path / "bad_out.jpg").exists() and not (tmp_path / "bad_out.json").exists()


def test_existing_outputs_are_kept_unless_overwrite(tmp_path):
    target = tmp_path / "p.jpg"
    target.write_bytes(b"precious")
    _one_line_error(run_movenet("image", PERSON_JPG, "-o", target), 1, "p.jpg", "--overwrite")
    assert target.read_bytes() == b"precious"
    _ok(run_movenet("image", PERSON_JPG, "-o", target, "--overwrite", "-q"))
    assert target.read_bytes() != b"precious"
    same = tmp_path / "in.jpg"
    shutil.copy(PERSON_JPG, same)
    _one_line_error(run_movenet("image", same, "-o", same, "--overwrite"), 1, "in.jpg")


def test_models_commands(store):
    listing = _ok(run_movenet("models", "list")).stdout
    for name in ("lightning", "thunder", "multipose"):
        assert name in listing
    path = _ok(run_movenet("models", "path", "thunder")).stdout.strip()
    assert path == str(store.path("thunder"))
    assert "Usage" in run_movenet("--help").stdout
