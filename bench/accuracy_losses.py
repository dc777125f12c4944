"""What MultiPose ``high`` and ``max`` lose on the way: refinement, fusion of sizes, OKS-NMS.

    python bench/accuracy_losses.py                 # both halves of tests/data/devset

For each level and half: AP as it is, without the Thunder refinement, without the final
OKS-NMS, and (``max``) with sizes fused by the passes' mean score against keeping only the
320 pass's people; then, per labelled person (best OKS against the ground truth among the
level's people), how many the refinement makes worse by more than 0.05 OKS and how many
better, and how many people ``max`` outputs that only one input size found.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from accuracy_devset import SETS, predict  # noqa: E402
from movenet_cli import PoseEstimator  # noqa: E402
from movenet_cli.media import read_image  # noqa: E402
from movenet_cli.pipeline.evaluate import load_ground_truth, score  # noqa: E402
from movenet_cli.pose import accuracy  # noqa: E402
from movenet_cli.pose.accuracy import MULTIPOSE_LEVELS, AccurateEstimator  # noqa: E402
from movenet_cli.types import COCO_SIGMAS  # noqa: E402


def gt_oks(ann: dict, keypoints: np.ndarray) -> float:
    """COCO OKS of predicted keypoints against one labelled person (its labelled points only)."""
    k = np.asarray(ann["keypoints"], float).reshape(17, 3)
    seen = k[:, 2] > 0
    d2 = ((keypoints[seen, :2] - k[seen, :2]) ** 2).sum(axis=1)
    return float(np.exp(-d2 / (2 * ann["area"] * (2 * COCO_SIGMAS[seen]) ** 2)).mean())


def best_oks(truth: dict, people: dict) -> list[float]:
    return [max((gt_oks(a, p.keypoints) for p in people[a["image_id"]]), default=0.0) for a in truth["annotations"]]


def main() -> None:
    multipose = PoseEstimator("multipose", backend="tflite", min_pose_score=0.05, batch_size=2)
    thunder = PoseEstimator("thunder", backend="tflite", batch_size=2)
    for half in ("tune", "check"):
        gt, folder = SETS[half]
        truth = load_ground_truth(gt)
        images = {e["file_name"]: read_image(folder / e["file_name"]) for e in truth["images"]}
        for level in ("high", "max"):
            recipe = MULTIPOSE_LEVELS[level]
            variants = {"as is": recipe, "no refinement": replace(recipe, refine=None),
                        "no OKS-NMS": replace(recipe, nms_oks=None)}
            if level == "max":
                variants["320 only"] = replace(recipe, sizes=(320,))
            found, aps = {}, {}
            for name, r in variants.items():
                est = AccurateEstimator(multipose, recipe=r, refiner=thunder if r.refine else None)
                found[name] = {e["id"]: est(images[e["file_name"]]) for e in truth["images"]}
                aps[name] = score(truth, predict(est, truth, images)[0])["AP"]
            refined, plain = np.array(best_oks(truth, found["as is"])), np.array(best_oks(truth, found["no refinement"]))
            line = ", ".join(f"{name} {ap:.3f}" for name, ap in aps.items())
            print(f"{half} {level}: AP {line}; refinement: {(refined < plain - 0.05).sum()} people worse by > 0.05 "
                  f"OKS, {(refined > plain + 0.05).sum()} better, of {len(refined)}", flush=True)
            if level == "max":
                print(f"  people out found at one size only: {one_size_only(multipose, recipe, images)}", flush=True)


def one_size_only(multipose, recipe, images: dict) -> str:
    """How many of ``max``'s fused people (scoring >= the output's minimum) one size alone found."""
    single = total = 0
    for image in images.values():
        height, width = image.shape[:2]
        level = AccurateEstimator(multipose, recipe=replace(recipe, refine=None, nms_oks=None))
        per_size = []
        for size in recipe.sizes:
            box = accuracy.Letterbox.fit(height, width, *accuracy.multipose_input_shape(height, width, size))
            per_size.append(level._passes(multipose, [accuracy.letterbox(image, box)], [box])[0])
        fused = accuracy.fuse(per_size, recipe.merge_oks)
        for person in fused:
            if person.score < multipose.min_pose_score:
                continue
            total += 1
            seen = sum(any(accuracy.pose_oks(person, p) >= recipe.merge_oks for p in people) for people in per_size)
            single += seen == 1
    return f"{single} of {total}"


if __name__ == "__main__":
    main()
