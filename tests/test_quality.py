"""Video-grade quality on the real models: eval, refinement, tracking, smoothing, crop following, plot."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest

from helpers import DEMO_CLIP, ROOT, run_movenet
from movenet_cli.pose.crops import Crop, crop_region, crop_resize
from movenet_cli.evaluate import evaluate, load_ground_truth, score
from movenet_cli.pipeline import Outputs, process_video
from movenet_cli.pose.letterbox import Letterbox, letterbox
from movenet_cli.settings import VideoQuality
from movenet_cli.temporal.smoothing import DEFAULT_PARAMS, keypoint_jitter, person_lag, steady_lag
from movenet_cli.temporal.tracking import make_tracker

COCO_DEV = ROOT / "tests" / "data" / "coco-dev"
GT = COCO_DEV / "test_coco.json"
# COCO keypoint AP on coco-dev as measured when these features were built; TFLite and
# TensorFlow agree to three decimals. The margin only absorbs backend float noise.
MULTIPOSE_AP = 0.414
REFINE_THUNDER_AP = 0.739
AP_NOISE = 0.01


def _ok(result):
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return result


def _one_line_error(result, *needles):
    assert result.returncode == 1, (result.returncode, result.stderr)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    for needle in needles:
        assert str(needle) in lines[0]


def _run(estimator, quality, **kw):
    results = []
    process_video(estimator, DEMO_CLIP, Outputs(), progress=False, on_result=results.append, quality=quality, **kw)
    return results


def _mean_keypoint_score(results):
    return float(np.mean([p.keypoints[:, 2].mean() for r in results for p in r.people]))


# -- movenet eval and refinement ---------------------------------------------------------------


def test_eval_reports_coco_ap_and_saves_predictions(tmp_path):
    preds = tmp_path / "preds.json"
    out = _ok(run_movenet("eval", GT, COCO_DEV, "--save-predictions", preds, "-q")).stdout
    stats = {name: float(value) for name, value in (line.split() for line in out.splitlines()[1:])}
    assert set(stats) == {"AP", "AP50", "AP75", "AR"}
    assert stats["AP"] >= MULTIPOSE_AP - AP_NOISE, stats
    predictions = json.loads(preds.read_text())
    gt = load_ground_truth(GT)
    assert {p["image_id"] for p in predictions} == {img["id"] for img in gt["images"]}
    assert all(len(p["keypoints"]) == 51 and p["category_id"] == 1 for p in predictions)
    # the saved file is plain COCO results: pycocotools scores it the same
    assert score(gt, predictions)["AP"] == pytest.approx(stats["AP"], abs=1e-3)
    _one_line_error(run_movenet("eval", GT, COCO_DEV, "--save-predictions", preds), "preds.json", "--overwrite")


def test_refinement_raises_ap(estimators):
    plain = evaluate(estimators("multipose"), GT, COCO_DEV)
    refined = evaluate(estimators("multipose", refine="thunder"), GT, COCO_DEV)
    assert plain.ap >= MULTIPOSE_AP - AP_NOISE
    assert refined.ap >= REFINE_THUNDER_AP - AP_NOISE
    assert refined.ap >= plain.ap + 0.08, (plain.summary(), refined.summary())


def test_eval_errors_are_one_line(tmp_path):
    _one_line_error(run_movenet("eval", tmp_path / "none.json", COCO_DEV), "none.json", "no such file")
    _one_line_error(run_movenet("eval", GT, tmp_path / "nowhere"), "nowhere")
    broken = json.loads(GT.read_text())
    broken["annotations"][0]["image_id"] = 12345
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(broken))
    _one_line_error(run_movenet("eval", bad, COCO_DEV), "bad.json", "12345")
    missing = json.loads(GT.read_text())
    missing["images"][0]["file_name"] = "gone.jpg"
    bad.write_text(json.dumps(missing))
    _one_line_error(run_movenet("eval", bad, COCO_DEV), "gone.jpg")


# -- tracking and smoothing on the sample clip -------------------------------------------------


@pytest.fixture(scope="module")
def clip_runs(estimators):
    """MultiPose over the sample clip, tracked, without and with smoothing."""
    est = estimators("multipose")
    return _run(est, VideoQuality(smooth=False)), _run(est, VideoQuality())


def _centres(results):
    """id -> {frame index: box centre x}"""
    out: dict[int, dict[int, float]] = {}
    for r in results:
        for p in r.people:
            out.setdefault(p.id, {})[r.index] = (p.bbox[0] + p.bbox[2]) / 2
    return out


def test_tracking_gives_each_person_one_id(clip_runs):
    """A woman walks right to left past a man standing on a box; MultiPose loses him now
    and then (never for a second), so there are two ids, each staying on one person."""
    raw, smoothed = clip_runs
    for r in raw:
        ids = [p.id for p in r.people]
        assert len(ids) == len(set(ids))
    tracks = _centres(raw)
    assert sorted(tracks) == [1, 2]
    width = 960
    for pid, centres in tracks.items():
        frames = sorted(centres)
        steps = [abs(centres[b] - centres[a]) for a, b in zip(frames, frames[1:])]
        assert max(steps) < 0.05 * width, (pid, max(steps))  # never jumps to the other person
    walker = max(tracks, key=lambda pid: len(tracks[pid]))
    assert len(tracks[walker]) >= len(raw) - 5  # she is found in nearly every frame
    assert tracks[walker][0] - tracks[walker][len(raw) - 1] > 300
    # the tracker sees the poses before smoothing, so smoothing never changes ids
    assert [[p.id for p in r.people] for r in raw] == [[p.id for p in r.people] for r in smoothed]


@pytest.mark.parametrize("kind", ["box", "keypoints"])
def test_ids_start_at_one_and_are_never_reused(estimators, kind):
    from movenet_cli.media import iter_frames

    first = next(iter_frames(DEMO_CLIP)).image
    height, width = first.shape[:2]
    people = estimators("multipose")(first)
    assert len(people) == 2
    tracker = make_tracker(kind, width, height, max_age=500)

    def ids(poses, ms):
        return sorted(p.id for p in tracker.apply(copy.deepcopy(poses), ms))

    assert ids(people, 0) == [1, 2]
    assert ids(people, 33) == [1, 2]
    assert ids([], 300) == []
    assert ids(people, 500) == [1, 2]  # unseen for less than max_age: same people
    moved = copy.deepcopy(people)
    for p in moved:  # the same poses a frame width away are other people
        p.keypoints[:, 0] += width
        p.bbox = (p.bbox[0] + width, p.bbox[1], p.bbox[2] + width, p.bbox[3])
    assert ids(moved, 533) == [3, 4]
    assert ids(people, 1200) == [5, 6]  # the first two were gone for longer than max_age
    assert tracker.ids == {5, 6}


def test_smoothing_cuts_jitter_with_under_a_frame_of_lag(clip_runs):
    raw, smoothed = clip_runs
    jitter_raw, jitter_smooth = keypoint_jitter(raw), keypoint_jitter(smoothed)
    assert jitter_smooth <= 0.6 * jitter_raw, (jitter_raw, jitter_smooth)  # measured: 48% less
    lag, _, speed = person_lag(raw, smoothed)  # the walking woman's mid-hip
    assert abs(speed) > 3 and 0 <= lag <= 1.0, (lag, speed)
    for speed in (0.01, 0.05, 0.2, 1.0):  # frame sizes per second, at 30 fps
        assert 0 < steady_lag(DEFAULT_PARAMS, speed, 30.0) <= 1.0


# -- SinglePose crop following ---------------------------------------------------------------


def test_crop_resize_maps_back_exactly():
    image = np.zeros((300, 500, 3), np.uint8)
    image[121:124, 371:374] = 255  # a dot centred on (372.5, 122.5)
    crop = Crop.around(350, 140, 120, 192)
    out = crop_resize(image, crop).astype(float)[..., 0]
    v, u = np.indices(out.shape) + 0.5
    x, y = crop.to_source((out * u).sum() / out.sum() / 192, (out * v).sum() / out.sum() / 192)
    assert abs(x - 372.5) < 0.3 and abs(y - 122.5) < 0.3
    # the whole-frame crop is exactly the letterbox a SinglePose model gets
    frame = np.random.default_rng(0).integers(0, 255, (540, 960, 3), dtype=np.uint8)
    whole = crop_resize(frame, Crop.whole_frame(540, 960, 192))
    boxed = letterbox(frame, Letterbox.fit(540, 960, 192, 192))
    assert np.abs(whole.astype(int) - boxed).max() <= 1


def test_crop_region_follows_the_torso(estimators, person_image):
    height, width = person_image.shape[:2]
    pose = estimators("thunder")(person_image)[0]
    crop = crop_region(pose.keypoints, height, width, 256)
    assert crop is not None and crop.size < 0.8 * height
    hips = pose.keypoints[[11, 12], :2].mean(axis=0)
    assert np.allclose([crop.x0 + crop.size / 2, crop.y0 + crop.size / 2], hips)
    sure = pose.keypoints[pose.keypoints[:, 2] >= 0.2, :2]
    assert (sure >= [crop.x0, crop.y0]).all() and (sure <= [crop.x0 + crop.size, crop.y0 + crop.size]).all()
    hidden = pose.keypoints.copy()
    hidden[[11, 12], 2] = 0.0  # no hip: back to the whole frame
    assert crop_region(hidden, height, width, 256) is None


def test_singlepose_video_follows_the_person(estimators):
    est = estimators("lightning")
    whole = _run(est, VideoQuality(follow=False, smooth=False), end=1.5)
    follow = _run(est, VideoQuality(smooth=False), end=1.5)
    assert sum(bool(r.people) for r in follow) >= sum(bool(r.people) for r in whole)
    # seen large, the person's keypoints are much surer (measured 0.70 against 0.37)
    assert _mean_keypoint_score(follow) >= _mean_keypoint_score(whole) + 0.15


# -- the CLI ------------------------------------------------------------------------------------


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
    assert refined >= _mean_keypoint_score(clip_runs[0][: len(doc["frames"])]) + 0.1

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
