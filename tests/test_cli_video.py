"""`movenet video` end to end, on the real models and the sample media, in a child process as a
user runs it: outputs that match the source, CSV equal to JSON, colours on the right sides,
frame selection, audio, the quality options."""

from __future__ import annotations

import csv
import json
import subprocess

import numpy as np
import pytest

from helpers import DEMO_CLIP, EDGES, PORTRAIT_CLIP, assert_ok, assert_one_line, run_movenet
from movenet_cli import media
from movenet_cli.render.sinks import CSV_HEADER
from movenet_cli.types import KEYPOINT_NAMES

_ok = assert_ok


def _one_line_error(result, *needles):
    return assert_one_line(result, 1, *needles)


def _count(path):
    return sum(1 for _ in media.iter_frames(path))


def _csv_rows(path) -> list[list[str]]:
    with open(path, newline="") as fh:
        return list(csv.reader(fh))


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
    assert doc["source"]["path"] == str(DEMO_CLIP)
    assert [f["index"] for f in doc["frames"]] == list(range(frames))
    assert doc["frames"][3]["time"] == pytest.approx(3 / src.fps, abs=1e-3)
    model = doc["model"]
    assert model["name"] == "multipose"
    assert model["input_size"] == [160, 256]  # 960x540 at the default 256, in multiples of 32
    assert model["threshold"] == 0.3 and model["min_pose_score"] == 0.25 and model["refine"] is None
    assert model["smoothing"] is None and model["tracker"]["type"] == "box"
    assert doc["keypoint_names"] == list(KEYPOINT_NAMES)
    people = [p for f in doc["frames"] for p in f["people"]]
    assert len(people) >= frames  # at least one person in most frames, two in many
    for person in people:
        assert len(person["keypoints"]) == 17 and len(person["bbox"]) == 4 and 0 < person["score"] <= 1


def test_csv_holds_the_json_values(demo_run):
    """Row for row, the CSV says what the JSON says: frame, time, id, score, box, then x, y, score
    of each keypoint in the order of the header."""
    out, _ = demo_run
    doc = json.loads(out.with_suffix(".json").read_text())
    rows = _csv_rows(out.with_suffix(".csv"))
    assert rows[0] == CSV_HEADER and len(CSV_HEADER) == 8 + 51
    assert CSV_HEADER[8:11] == ["nose_x", "nose_y", "nose_score"] and CSV_HEADER[-1] == "right_ankle_score"
    expected = [
        [f["index"], f["time"], p["id"], p["score"], *p["bbox"], *[v for kp in p["keypoints"] for v in kp]]
        for f in doc["frames"]
        for p in f["people"]
    ]
    assert len(rows) - 1 == len(expected) >= 90
    for row, want in zip(rows[1:], expected):
        assert int(row[0]) == want[0] and int(row[2]) == want[2]
        np.testing.assert_allclose([float(v) for v in row], want, atol=0.0051)


def _side_votes(image: np.ndarray, keypoints: np.ndarray) -> dict[str, list[int]]:
    """Red minus green at a point 40% along each long, sure limb edge, by side of the body."""
    index = {name: i for i, name in enumerate(KEYPOINT_NAMES)}
    votes: dict[str, list[int]] = {"left": [], "right": []}
    for a, b, side in EDGES:
        pa, pb = keypoints[index[a]], keypoints[index[b]]
        if side == "center" or min(pa[2], pb[2]) < 0.5 or np.hypot(*(pa[:2] - pb[:2])) < 25:
            continue
        x, y = pa[:2] * 0.6 + pb[:2] * 0.4
        r, g, _ = image[int(round(y)), int(round(x))].astype(int)
        votes[side].append(r - g)
    return votes


def test_annotated_video_draws_left_magenta_and_right_cyan(demo_run):
    """Magenta (red, no green) on each person's left limbs, cyan (green, no red) on the right."""
    out, _ = demo_run
    doc = json.loads(out.with_suffix(".json").read_text())
    votes: dict[str, list[int]] = {"left": [], "right": []}
    for frame in media.iter_frames(out, every=15):
        for person in doc["frames"][frame.index]["people"]:
            for side, found in _side_votes(frame.image, np.array(person["keypoints"])).items():
                votes[side] += found
    assert len(votes["left"]) >= 10 and len(votes["right"]) >= 10, votes
    assert np.mean([v > 100 for v in votes["left"]]) >= 0.8, votes["left"]
    assert np.mean([v < -100 for v in votes["right"]]) >= 0.8, votes["right"]


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


def test_video_tracking_options_refine_and_plot(tmp_path, clip_runs):
    from PIL import Image

    json_path, plot = tmp_path / "run.json", tmp_path / "run.png"
    _ok(run_movenet(
        "video", DEMO_CLIP, "--no-video", "--json", json_path, "--plot", plot, "--end", "0.5", "-q",
        "--refine", "thunder", "--tracker", "keypoints", "--max-age", "500", "--min-similarity", "0.3",
        "--max-tracks", "4",
    ))
    doc = json.loads(json_path.read_text())
    model = doc["model"]
    assert model["refine"] == "thunder" and model["smoothing"]["filter"] == "one-euro"
    assert model["tracker"] == {"type": "keypoints", "max_tracks": 4, "max_age_ms": 500.0, "min_similarity": 0.3}
    ids = {p["id"] for f in doc["frames"] for p in f["people"]}
    assert min(ids) == 1 and ids <= {1, 2}
    # thunder on a crop around each person is much surer than MultiPose alone
    refined = np.mean([np.mean([k[2] for k in p["keypoints"]]) for f in doc["frames"] for p in f["people"]])
    plain = clip_runs[0][: len(doc["frames"])]
    assert refined >= np.mean([p.keypoints[:, 2].mean() for r in plain for p in r.people]) + 0.1

    with Image.open(plot) as png:
        assert png.format == "PNG" and png.size[0] >= 800
        pixels = np.asarray(png.convert("RGB")).reshape(-1, 3).astype(int)
    for color in ((31, 119, 180), (255, 127, 14)):  # the two ids' lines (matplotlib C0, C1)
        assert (np.abs(pixels - color).sum(axis=1) < 30).sum() > 200

    plot.write_bytes(b"mine")
    _one_line_error(run_movenet("video", DEMO_CLIP, "--no-video", "--json", tmp_path / "b.json", "--plot", plot),
                    "run.png", "--overwrite")
    assert plot.read_bytes() == b"mine" and not (tmp_path / "b.json").exists()


def test_no_smooth_and_no_tracker(tmp_path):
    json_path = tmp_path / "raw.json"
    _ok(run_movenet("video", DEMO_CLIP, "--no-video", "--json", json_path, "--end", "0.3", "--tracker", "none", "-q"))
    model = json.loads(json_path.read_text())["model"]
    assert model["tracker"] is None and model["smoothing"] is None
    _ok(run_movenet("video", DEMO_CLIP, "--no-video", "--json", json_path, "--end", "0.3", "-m", "thunder",
                    "--no-smooth", "--overwrite", "-q"))
    model = json.loads(json_path.read_text())["model"]
    assert model["smoothing"] is None and model["crop_following"] is True


def test_no_follow_gives_singlepose_the_whole_frame(tmp_path, estimators):
    json_path = tmp_path / "whole.json"
    _ok(run_movenet("video", DEMO_CLIP, "--no-video", "--json", json_path, "--end", "0.3", "-m", "lightning",
                    "--no-follow", "--no-smooth", "--min-pose-score", "0", "-q"))
    doc = json.loads(json_path.read_text())
    assert doc["model"]["crop_following"] is False
    # each frame is then exactly what the estimator gives for the frame on its own
    est = estimators("lightning", min_pose_score=0.0)
    from movenet_cli import media

    first = next(iter(media.iter_frames(DEMO_CLIP)))
    alone = est(first.image)
    np.testing.assert_allclose(doc["frames"][0]["people"][0]["keypoints"], alone[0].keypoints, atol=0.02)


def test_no_video_gives_the_keypoints_of_the_full_run(tmp_path, demo_run):
    """--no-video decodes only the pixels the model needs, and finds exactly the same people."""
    out, _ = demo_run
    data, table, unused = tmp_path / "elsewhere" / "data.json", tmp_path / "data.csv", tmp_path / "data.mp4"
    _ok(run_movenet("video", DEMO_CLIP, "-o", unused, "--no-video", "--json", data, "--csv", table, "--end", "1",
                    "--no-smooth", "-q"))
    assert not unused.exists()
    full = json.loads(out.with_suffix(".json").read_text())["frames"]
    part = json.loads(data.read_text())["frames"]
    assert len(part) == 30 and sum(len(f["people"]) for f in part) >= 30
    assert part == full[:30]
    assert _csv_rows(table) == [r for r in _csv_rows(out.with_suffix(".csv")) if r[0] == "frame" or int(r[0]) < 30]


def test_video_batch_size_keeps_every_frame_in_order(tmp_path, demo_run):
    out, _ = demo_run
    data = tmp_path / "b3.json"
    r = run_movenet("video", DEMO_CLIP, "--no-video", "--json", data, "--end", "0.5", "--batch-size", 3, "--no-smooth")
    assert r.returncode == 0, r.stderr
    assert "15 frames in" in r.stderr  # interpreters made side by side leave stderr working
    batched = json.loads(data.read_text())["frames"]
    single = json.loads(out.with_suffix(".json").read_text())["frames"][:15]
    assert [f["index"] for f in batched] == list(range(15))
    for a, b in zip(single, batched):
        assert len(a["people"]) == len(b["people"])
        for pa, pb in zip(a["people"], b["people"]):
            assert pa["id"] == pb["id"]
            np.testing.assert_allclose(pa["keypoints"], pb["keypoints"], atol=0.02)


def _tone_clip(path, freqs=(440, 880, 1320)) -> None:
    """A 160x120 30 fps clip whose audio is one pure tone per second."""
    tones = []
    for f in freqs:
        tones += ["-f", "lavfi", "-i", f"sine=frequency={f}:duration=1:sample_rate=16000"]
    concat = "".join(f"[{n + 1}:a]" for n in range(len(freqs))) + f"concat=n={len(freqs)}:v=0:a=1[a]"
    subprocess.run(
        [media.ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i", f"testsrc=size=160x120:rate=30:duration={len(freqs)}",
         *tones, "-filter_complex", concat, "-map", "0:v", "-map", "[a]", "-c:v", "libx264", "-pix_fmt", "yuv420p",
         "-c:a", "aac", str(path)],
        check=True,
    )  # fmt: skip


def _dominant_frequencies(path, rate=16000) -> tuple[float, float]:
    """The strongest frequency of the first and the last 0.3 s of a file's audio."""
    pcm = subprocess.run(
        [media.ffmpeg_exe(), "-v", "error", "-i", str(path), "-vn", "-ac", "1", "-ar", str(rate), "-f", "s16le", "-"],
        capture_output=True, check=True,
    ).stdout  # fmt: skip
    samples = np.frombuffer(pcm, np.int16).astype(np.float64)
    assert len(samples) > rate // 2, len(samples)
    n = int(0.3 * rate)

    def peak(chunk):
        spectrum = np.abs(np.fft.rfft(chunk * np.hanning(len(chunk))))
        return float(np.fft.rfftfreq(len(chunk), 1 / rate)[spectrum.argmax()])

    return peak(samples[n // 3 : n // 3 + n]), peak(samples[-n - n // 3 : -n // 3])


def test_start_and_end_cut_the_audio_with_the_frames(tmp_path):
    """--start 1 --end 2 keeps the second second's sound (880 Hz), not the first (440 Hz)."""
    src = tmp_path / "tones.mp4"
    _tone_clip(src)
    assert _dominant_frequencies(src) == (pytest.approx(440, abs=15), pytest.approx(1320, abs=15))
    out = tmp_path / "cut.mp4"
    _ok(run_movenet("video", src, "-o", out, "--start", "1", "--end", "2", "-q"))
    info = media.probe_video(out)
    assert info.has_audio and _count(out) == 30
    assert 0.99 <= info.duration <= 1.06
    assert _dominant_frequencies(out) == (pytest.approx(880, abs=15), pytest.approx(880, abs=15))
