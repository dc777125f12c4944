"""What each accuracy level costs and gives: coco-dev AP, ms per image, and fps on the sample clip.

    python bench/accuracy.py                  # prints a table and writes bench/ACCURACY.md

For each level of ``--accuracy`` (MultiPose, TFLite): COCO keypoint AP on tests/data/coco-dev
at the default min pose score and at 0.05, the median ms per image of three warm passes,
model calls per image, and the frames per second of ``process_video`` on
sample_media/demo_clip.mp4 writing JSON only (tracking and smoothing on, as ``video --no-video``).
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from movenet_cli import PoseEstimator  # noqa: E402
from movenet_cli.pipeline import Outputs, process_video  # noqa: E402
from movenet_cli.pipeline.evaluate import evaluate, load_ground_truth  # noqa: E402
from movenet_cli.settings import ACCURACY_LEVELS, MIN_POSE_SCORE  # noqa: E402

GT = ROOT / "tests" / "data" / "coco-dev" / "test_coco.json"
IMAGES = GT.parent
CLIP = ROOT / "sample_media" / "demo_clip.mp4"


def measure(level: str) -> dict:
    row: dict = {"level": level}
    truth = load_ground_truth(GT)
    for score in (MIN_POSE_SCORE, 0.05):
        estimator = PoseEstimator("multipose", backend="tflite", accuracy=level, min_pose_score=score)
        row[f"ap{score}"] = evaluate(estimator, truth, IMAGES).ap
    times = []
    for _ in range(3):
        started = time.perf_counter()
        evaluate(estimator, truth, IMAGES)
        times.append((time.perf_counter() - started) / len(truth["images"]) * 1000)
    row["ms"] = statistics.median(times)
    calls = estimator.accurate.calls if estimator.accurate is not None else {"multipose": len(truth["images"]) * 4}
    row["calls"] = {model: n / (len(truth["images"]) * 4) for model, n in calls.items()}
    video = PoseEstimator("multipose", backend="tflite", accuracy=level, batch_size=2)
    with tempfile.TemporaryDirectory() as tmp:
        stats = process_video(video, CLIP, Outputs(json=Path(tmp) / "clip.json"), progress=False)
    row["fps"] = stats.fps
    return row


def main() -> None:
    rows = [measure(level) for level in ACCURACY_LEVELS]
    lines = [
        f"| level | AP (min pose score {MIN_POSE_SCORE}) | AP (0.05) | model calls per image | ms per image | fps, sample clip |",
        "| --- | ---: | ---: | --- | ---: | ---: |",
    ]
    for row in rows:
        calls = " + ".join(f"{n:.2f} {model}" for model, n in row["calls"].items())
        lines.append(f"| {row['level']} | {row[f'ap{MIN_POSE_SCORE}']:.3f} | {row['ap0.05']:.3f} | {calls} | "
                     f"{row['ms']:.0f} | {row['fps']:.1f} |")
    table = "\n".join(lines)
    print(table)
    path = ROOT / "bench" / "ACCURACY.md"
    kept = path.read_text().partition("\n## ")[2] if path.exists() else ""  # other sections (accuracy_devset.py)
    path.write_text(
        "# Accuracy levels: cost and gain\n\n`python bench/accuracy.py` (MultiPose, TFLite, tests/data/coco-dev; "
        "fps of the sample clip with JSON output).\n\n" + table + "\n" + ("\n## " + kept if kept else "")
    )


if __name__ == "__main__":
    main()
