"""COCO keypoint evaluation: run an estimator over a COCO-format ground truth and score it.

Scoring is pycocotools' ``COCOeval(iouType="keypoints")``, the metric the COCO keypoint
challenge uses (OKS-based AP over thresholds 0.50:0.95, AP50, AP75, AR). Predictions are
COCO results: one entry per person with 17 ``x, y, score`` triplets and a person score.

Example::

    from movenet_cli import PoseEstimator
    from movenet_cli.pipeline.evaluate import evaluate

    report = evaluate(PoseEstimator("multipose"), "tests/data/coco-dev/test_coco.json", "tests/data/coco-dev")
    print(report.ap, report.ap50, report.ap75, report.ar)
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

from ..analysis.exports import coco_entry
from ..errors import EvalError, MediaError
from ..media import read_image
from ..types import Pose
from ..util.fs import atomic_write, read_json

# Names of COCOeval.stats for keypoints, in order.
STAT_NAMES = ("AP", "AP50", "AP75", "AP_medium", "AP_large", "AR", "AR50", "AR75", "AR_medium", "AR_large")


@dataclass
class EvalReport:
    """COCO keypoint metrics (``stats`` in :data:`STAT_NAMES` order) and the predictions scored."""

    stats: dict[str, float]
    images: int
    people: int
    predictions: list[dict[str, Any]] = field(default_factory=list, repr=False)

    ap = property(lambda self: self.stats["AP"], doc="AP averaged over OKS 0.50:0.95")
    ap50 = property(lambda self: self.stats["AP50"], doc="AP at OKS 0.50")
    ap75 = property(lambda self: self.stats["AP75"], doc="AP at OKS 0.75")
    ar = property(lambda self: self.stats["AR"], doc="AR averaged over OKS 0.50:0.95")

    def summary(self) -> str:
        return (
            f"AP {self.ap:.3f}  AP50 {self.ap50:.3f}  AP75 {self.ap75:.3f}  AR {self.ar:.3f}"
            f"  ({self.images} images, {self.people} labelled people)"
        )


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _check_image(path: Path, n: int, entry: Any) -> None:
    where = f"{path}: images[{n}]"
    if not isinstance(entry, dict):
        raise EvalError(f"{where} is not an object")
    if not isinstance(entry.get("id"), (int, str)) or isinstance(entry.get("id"), bool):
        raise EvalError(f"{where}.id is missing or not an integer or string")
    if not isinstance(entry.get("file_name"), str) or not entry["file_name"]:
        raise EvalError(f"{where}.file_name is missing or not a string")


def _check_annotation(path: Path, n: int, ann: Any, image_ids: set) -> None:
    where = f"{path}: annotations[{n}]"
    if not isinstance(ann, dict):
        raise EvalError(f"{where} is not an object")
    missing = [key for key in ("id", "image_id", "keypoints", "area", "bbox") if key not in ann]
    if missing:
        raise EvalError(f"{where} lacks {', '.join(missing)}")
    keypoints = ann["keypoints"]
    if not isinstance(keypoints, list) or len(keypoints) != 51 or not all(map(_is_number, keypoints)):
        raise EvalError(f"{where}.keypoints is not a list of 51 numbers (17 x, y, visibility)")
    if not _is_number(ann["area"]) or ann["area"] < 0:
        raise EvalError(f"{where}.area is not a number >= 0")
    if not isinstance(ann["bbox"], list) or len(ann["bbox"]) != 4 or not all(map(_is_number, ann["bbox"])):
        raise EvalError(f"{where}.bbox is not a list of 4 numbers")
    if ann.get("iscrowd", 0) not in (0, 1, True, False):
        raise EvalError(f"{where}.iscrowd is not 0 or 1")
    if ann["image_id"] not in image_ids:
        raise EvalError(f"{where}.image_id {ann['image_id']!r} is not in images")


def load_ground_truth(path: str | os.PathLike) -> dict[str, Any]:
    """Read and check a COCO keypoint ground truth file: one line naming the file and the field
    for anything that cannot be scored (no images, no labelled people, a field of the wrong type)."""
    path = Path(path)
    data = read_json(path, EvalError)
    if not isinstance(data, dict) or not isinstance(data.get("images"), list) or not isinstance(
        data.get("annotations"), list
    ):
        raise EvalError(f"{path}: not a COCO ground truth (needs 'images' and 'annotations' lists)")
    if not data["images"]:
        raise EvalError(f"{path}: images is empty; there is nothing to score")
    for n, entry in enumerate(data["images"]):
        _check_image(path, n, entry)
    image_ids = {entry["id"] for entry in data["images"]}
    for n, ann in enumerate(data["annotations"]):
        _check_annotation(path, n, ann, image_ids)
        ann.setdefault("num_keypoints", sum(1 for v in ann["keypoints"][2::3] if v > 0))
        ann.setdefault("iscrowd", 0)
        ann.setdefault("category_id", 1)
    if not any(a["num_keypoints"] > 0 and not a["iscrowd"] for a in data["annotations"]):
        raise EvalError(f"{path}: no annotation has a labelled keypoint; COCO keypoint AP needs labelled people")
    data.setdefault("categories", [{"id": 1, "name": "person"}])
    return data


# One COCO results entry per person: the same function the `coco` export uses.
to_coco_result = coco_entry


def predict(
    estimator: Callable,
    ground_truth: dict[str, Any],
    images_dir: str | os.PathLike,
    *,
    on_image: Callable[[str, list[Pose]], None] | None = None,
) -> list[dict[str, Any]]:
    """Run ``estimator`` (image -> poses) on every image of the ground truth."""
    images_dir = Path(images_dir)
    category = _person_category(ground_truth)
    results = []
    for entry in ground_truth["images"]:
        path = images_dir / entry["file_name"]
        try:
            image = read_image(path)
        except MediaError as exc:
            raise EvalError(f"{path}: {exc}") from None
        poses = estimator(image)
        results.extend(to_coco_result(entry["id"], pose, category) for pose in poses)
        if on_image is not None:
            on_image(entry["file_name"], poses)
    return results


def score(ground_truth: dict[str, Any], predictions: Sequence[dict[str, Any]]) -> dict[str, float]:
    """COCO keypoint metrics of ``predictions`` against ``ground_truth`` (pycocotools)."""
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    with contextlib.redirect_stdout(io.StringIO()):  # pycocotools narrates every step
        gt = COCO()
        gt.dataset = json.loads(json.dumps(ground_truth))
        gt.createIndex()
        if not predictions:
            return {name: 0.0 for name in STAT_NAMES}
        dt = gt.loadRes(json.loads(json.dumps(list(predictions))))
        coco_eval = COCOeval(gt, dt, iouType="keypoints")
        coco_eval.params.imgIds = [img["id"] for img in ground_truth["images"]]
        coco_eval.evaluate()
        coco_eval.accumulate()
        coco_eval.summarize()
    # COCOeval reports -1 where a metric has no labelled people (e.g. no medium ones).
    return {name: float(value) for name, value in zip(STAT_NAMES, coco_eval.stats)}


def evaluate(
    estimator: Callable,
    gt_path: str | os.PathLike | dict[str, Any],
    images_dir: str | os.PathLike,
    *,
    save_predictions: str | os.PathLike | None = None,
    on_image: Callable[[str, list[Pose]], None] | None = None,
) -> EvalReport:
    """Estimate poses on the ground truth's images and score them; optionally save the predictions."""
    ground_truth = gt_path if isinstance(gt_path, dict) else load_ground_truth(gt_path)
    predictions = predict(estimator, ground_truth, images_dir, on_image=on_image)
    stats = score(ground_truth, predictions)
    if save_predictions is not None:
        Path(save_predictions).parent.mkdir(parents=True, exist_ok=True)
        with atomic_write(save_predictions) as fh:
            json.dump(predictions, fh)
    labelled = sum(1 for a in ground_truth["annotations"] if a["num_keypoints"] > 0 and not a["iscrowd"])
    return EvalReport(stats, len(ground_truth["images"]), labelled, predictions)


def _person_category(ground_truth: dict[str, Any]) -> int:
    for category in ground_truth.get("categories", []):
        if category.get("name") == "person":
            return int(category["id"])
    return 1
