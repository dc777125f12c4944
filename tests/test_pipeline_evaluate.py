"""pipeline/evaluate.py and `movenet eval`: COCO keypoint AP, pinned on both sides, and checked
against pycocotools called directly on the saved predictions."""

from __future__ import annotations

import contextlib
import io
import json

import pytest

from helpers import COCO_DEV, COCO_GT, assert_ok, assert_one_line, invoke
from movenet_cli.evaluate import evaluate

# COCO keypoint metrics on coco-dev as measured when these features were built; TFLite and
# TensorFlow agree to three decimals. The margin only absorbs backend float noise.
MULTIPOSE = {"AP": 0.414, "AP50": 0.832, "AP75": 0.243, "AR": 0.458}
REFINE_THUNDER = {"AP": 0.739, "AP50": 0.832, "AP75": 0.832, "AR": 0.758}
NOISE = 0.01


def coco_metrics(gt_path, predictions_path) -> dict[str, float]:
    """pycocotools' own COCOeval (COCO's keypoint sigmas), as the challenge scores."""
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(str(gt_path))
        dt = gt.loadRes(str(predictions_path))
        ev = COCOeval(gt, dt, iouType="keypoints")
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return {"AP": ev.stats[0], "AP50": ev.stats[1], "AP75": ev.stats[2], "AR": ev.stats[5]}


def test_eval_reports_coco_ap_and_saves_predictions(tmp_path):
    preds = tmp_path / "preds.json"
    out = assert_ok(invoke("eval", COCO_GT, COCO_DEV, "--save-predictions", preds, "-q")).stdout
    lines = out.splitlines()
    assert lines[0].startswith("multipose (input 256)") and "4 images, 12 labelled people" in lines[0]
    stats = {name: float(value) for name, value in (line.split() for line in lines[1:])}
    assert list(stats) == ["AP", "AP50", "AP75", "AR"]
    for name, value in MULTIPOSE.items():
        assert stats[name] == pytest.approx(value, abs=NOISE), (name, stats)
    predictions = json.loads(preds.read_text())
    gt = json.loads(COCO_GT.read_text())
    assert {p["image_id"] for p in predictions} == {img["id"] for img in gt["images"]}
    assert all(len(p["keypoints"]) == 51 and p["category_id"] == 1 for p in predictions)
    # the saved file is plain COCO results, and what was printed is what pycocotools makes of it
    direct = coco_metrics(COCO_GT, preds)
    for name in stats:
        assert stats[name] == pytest.approx(direct[name], abs=1e-3), (name, stats, direct)
    assert_one_line(invoke("eval", COCO_GT, COCO_DEV, "--save-predictions", preds), 1, "preds.json", "--overwrite")


def test_refinement_raises_ap(estimators, tmp_path):
    preds = tmp_path / "refined.json"
    refined = evaluate(estimators("multipose", refine="thunder"), COCO_GT, COCO_DEV, save_predictions=preds)
    assert (refined.images, refined.people) == (4, 12)
    for name, value in REFINE_THUNDER.items():
        assert refined.stats[name] == pytest.approx(value, abs=NOISE), (name, refined.summary())
    direct = coco_metrics(COCO_GT, preds)
    assert refined.ap == pytest.approx(direct["AP"], abs=1e-3)


def test_eval_errors_are_one_line(tmp_path):
    assert_one_line(invoke("eval", tmp_path / "none.json", COCO_DEV), 1, "none.json", "no such file")
    assert_one_line(invoke("eval", COCO_GT, tmp_path / "nowhere"), 1, "nowhere")
    broken = json.loads(COCO_GT.read_text())
    broken["annotations"][0]["image_id"] = 12345
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(broken))
    assert_one_line(invoke("eval", bad, COCO_DEV), 1, "bad.json", "12345")
    missing = json.loads(COCO_GT.read_text())
    missing["images"][0]["file_name"] = "gone.jpg"
    bad.write_text(json.dumps(missing))
    assert_one_line(invoke("eval", bad, COCO_DEV), 1, "gone.jpg")
