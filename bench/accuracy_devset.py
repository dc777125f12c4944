"""Accuracy levels on the development set: AP per half, paired bootstrap of each level's gain, cost.

    python bench/accuracy_devset.py                    # every model and level; writes bench/ACCURACY.md
    python bench/accuracy_devset.py --models multipose --boot 200

The development set (``tests/data/devset``, built by its ``build.py``) has a tuning half
(``tune.json``), on which every parameter of the levels was chosen, and a checking half
(``check.json``), which only measures. For each model and level this prints COCO keypoint AP
(pycocotools, as ``movenet eval``) on both halves and on ``tests/data/coco-dev``, and for each
level against the one below it a paired bootstrap interval of the gain on each half: images
are resampled with replacement (``--boot`` times, fixed seed), both levels scored on the same
resample, and the 2.5th and 97.5th percentiles of the AP difference reported.

Cost: ms per image of each level on coco-dev, median of ``--repeats`` passes run interleaved
(level after level, round after round), so a machine shared with other work slows every level
alike; MultiPose ``high`` is timed beside the recipe it had before (with a mirror pass).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from movenet_cli import PoseEstimator  # noqa: E402
from movenet_cli.media import read_image  # noqa: E402
from movenet_cli.pipeline.evaluate import load_ground_truth, score, to_coco_result  # noqa: E402
from movenet_cli.pose.accuracy import AccurateEstimator  # noqa: E402
from movenet_cli.settings import ACCURACY_LEVELS  # noqa: E402

DEVSET = ROOT / "tests" / "data" / "devset"
COCO_DEV = ROOT / "tests" / "data" / "coco-dev"
SETS = {
    "tune": (DEVSET / "tune.json", DEVSET / "images"),
    "check": (DEVSET / "check.json", DEVSET / "images"),
    "coco-dev": (COCO_DEV / "test_coco.json", COCO_DEV),
}
BEFORE = "high with the mirror pass (before)"
MIN_POSE_SCORE = {"multipose": 0.05, "thunder": 0.25, "lightning": 0.25}


def predict(estimator, truth: dict, images: dict) -> tuple[list[dict], float]:
    """COCO results of ``estimator`` on every image of ``truth``, and the seconds it took."""
    out, took = [], 0.0
    for entry in truth["images"]:
        started = time.perf_counter()
        poses = estimator(images[entry["file_name"]])
        took += time.perf_counter() - started
        out.extend(to_coco_result(entry["id"], pose, 1) for pose in poses)
    return out, took


def resample(truth: dict, predictions: list[dict], picks) -> tuple[dict, list[dict]]:
    """The ground truth and predictions of the images ``picks`` (indices, repeats allowed),
    each copy under a new image id."""
    images, anns, preds = [], [], []
    by_image: dict = {}
    for p in predictions:
        by_image.setdefault(p["image_id"], []).append(p)
    gt_by_image: dict = {}
    for a in truth["annotations"]:
        gt_by_image.setdefault(a["image_id"], []).append(a)
    for new_id, k in enumerate(picks, 1):
        entry = truth["images"][k]
        images.append({**entry, "id": new_id})
        anns += [{**a, "id": len(anns) + n + 1, "image_id": new_id} for n, a in enumerate(gt_by_image.get(entry["id"], []))]
        preds += [{**p, "image_id": new_id} for p in by_image.get(entry["id"], [])]
    return {**truth, "images": images, "annotations": anns}, preds


def bootstrap_gain(truth: dict, base: list[dict], better: list[dict], n: int = 1000, seed: int = 0):
    """Paired bootstrap over images of AP(better) - AP(base): (2.5%, 97.5%) percentiles."""
    rng = np.random.default_rng(seed)
    count = len(truth["images"])
    gains = []
    for _ in range(n):
        picks = rng.integers(0, count, count)
        gt, a = resample(truth, base, picks)
        _, b = resample(truth, better, picks)
        gains.append(score(gt, b)["AP"] - score(gt, a)["AP"])
    return float(np.percentile(gains, 2.5)), float(np.percentile(gains, 97.5))


def estimator_for(model: str, level: str):
    return PoseEstimator(model, backend="tflite", accuracy=level, min_pose_score=MIN_POSE_SCORE[model])


def measure(models, boot: int, repeats: int, notes: list[str]) -> list[dict]:
    data = {}
    for name, (gt, folder) in SETS.items():
        truth = load_ground_truth(gt)
        data[name] = (truth, {e["file_name"]: read_image(folder / e["file_name"]) for e in truth["images"]})
    rows = []
    for model in models:
        estimators = {level: estimator_for(model, level) for level in ACCURACY_LEVELS}
        preds = {}
        for level, est in estimators.items():
            for name, (truth, images) in data.items():
                preds[level, name] = predict(est, truth, images)[0]
        timed = dict(estimators)
        if model == "multipose":  # the recipe `high` had before, timed beside today's
            est = estimators["high"]
            timed[BEFORE] = AccurateEstimator(est, recipe=replace(est.accurate.recipe, flip=True),
                                              refiner=est.accurate.refiner)
        times: dict = {level: [] for level in timed}
        truth, images = data["coco-dev"]
        for _ in range(repeats):
            for level, est in timed.items():
                times[level].append(predict(est, truth, images)[1] / len(truth["images"]) * 1000)
        if model == "multipose":
            notes.append(f"MultiPose `high` against the recipe it had before (a mirror pass too), same run, "
                         f"interleaved: {statistics.median(times['high']):.0f} against "
                         f"{statistics.median(times[BEFORE]):.0f} ms per image on coco-dev (passes: "
                         f"{[round(t) for t in times['high']]} against {[round(t) for t in times[BEFORE]]}).")
            print(notes[-1], flush=True)
        for i, level in enumerate(ACCURACY_LEVELS):
            row = {"model": model, "level": level, "ms": statistics.median(times[level])}
            for name, (truth, _) in data.items():
                row[name] = score(truth, preds[level, name])["AP"]
            if i:
                below = ACCURACY_LEVELS[i - 1]
                for name in ("tune", "check"):
                    truth = data[name][0]
                    row[f"gain_{name}"] = row[name] - score(truth, preds[below, name])["AP"]
                    row[f"ci_{name}"] = bootstrap_gain(truth, preds[below, name], preds[level, name], boot)
            rows.append(row)
            print(_line(row), flush=True)
    return rows


def _line(row: dict) -> str:
    gain = ""
    if "gain_check" in row:
        gain = " | ".join(f"{row[f'gain_{h}']:+.3f} [{row[f'ci_{h}'][0]:+.3f}, {row[f'ci_{h}'][1]:+.3f}]"
                          for h in ("tune", "check"))
    else:
        gain = " | "
    return (f"| {row['model']} | {row['level']} | {MIN_POSE_SCORE[row['model']]} | {row['tune']:.3f} | "
            f"{row['check']:.3f} | {row['coco-dev']:.3f} | {gain} | {row['ms']:.0f} |")


HEADER = ("| model | level | min pose score | AP tune | AP check | AP coco-dev | gain over the level below, tune "
          "[95% CI] | gain, check [95% CI] | ms per image (coco-dev) |\n| --- | --- | ---: | ---: | ---: | ---: | "
          "---: | ---: | ---: |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", nargs="+", default=["multipose", "thunder", "lightning"])
    parser.add_argument("--boot", type=int, default=1000, help="bootstrap resamples")
    parser.add_argument("--repeats", type=int, default=3, help="timed passes over coco-dev per level")
    parser.add_argument("--write", action="store_true", help="write the table into bench/ACCURACY.md")
    args = parser.parse_args()
    print(HEADER)
    notes: list[str] = []
    rows = measure(args.models, args.boot, args.repeats, notes)
    if args.write:
        body = (f"`python bench/accuracy_devset.py --write` (TFLite; {args.boot} bootstrap resamples; ms per image "
                f"the median of {args.repeats} interleaved passes over coco-dev on a machine shared with other "
                "work, so upper bounds).\n\n" + HEADER + "\n" + "\n".join(_line(r) for r in rows) + "\n"
                + "".join(f"\n{note}\n" for note in notes))
        write_section(ROOT / "bench" / "ACCURACY.md", SECTION, body)


SECTION = "Development set: both halves, gains, cost"


def write_section(path: Path, title: str, body: str) -> None:
    """Put ``body`` under ``## title`` in ``path``, replacing what was there (up to the next ``## ``)."""
    text = path.read_text() if path.exists() else ""
    head, marker, rest = text.partition(f"## {title}\n")
    tail = rest[rest.find("\n## ") + 1:] if marker and "\n## " in rest else ""
    path.write_text(head.rstrip("\n") + f"\n\n## {title}\n\n" + body.strip("\n") + "\n" + ("\n" + tail if tail else ""))


if __name__ == "__main__":
    main()
