"""``movenet eval``: COCO keypoint AP of a model and settings on labelled images."""

from __future__ import annotations

import time
from pathlib import Path

import click

from .. import settings
from ..errors import EvalError
from ..pipeline import Outputs, check_outputs
from ..pipeline.evaluate import evaluate, load_ground_truth
from ..pose import PoseEstimator
from .console import handle_errors, note
from .options import accuracy_option, pose_options, run_settings


@click.command("eval")
@click.argument("ground_truth", type=click.Path(path_type=Path))
@click.argument("images_dir", type=click.Path(path_type=Path))
@click.option("--save-predictions", type=click.Path(path_type=Path), help="Write the predictions as COCO results JSON.")
@pose_options
@accuracy_option(settings.ACCURACY)
@handle_errors
def eval_(ground_truth, images_dir, save_predictions, overwrite, quiet, **params):
    """Score the model on COCO keypoint ground truth: AP, AP50, AP75 and AR (pycocotools).

    GROUND_TRUTH is a COCO-format keypoints JSON; IMAGES_DIR holds its images. COCO AP
    rewards keeping low-scoring people: compare settings at --min-pose-score 0.05.
    """
    chosen = run_settings(params)
    if not images_dir.is_dir():
        raise EvalError(f"{images_dir}: no such folder" if not images_dir.exists() else f"{images_dir}: not a folder")
    if save_predictions is not None:
        check_outputs([ground_truth], Outputs(json=save_predictions), overwrite=overwrite)
    truth = load_ground_truth(ground_truth)  # checked before the model loads
    estimator = PoseEstimator.from_settings(chosen)

    def report(name, poses):
        if not quiet:
            note(f"{name}: {len(poses)} people")

    started = time.perf_counter()
    result = evaluate(estimator, truth, images_dir, save_predictions=save_predictions, on_image=report)
    seconds = (time.perf_counter() - started) / max(1, result.images)
    sizes = estimator.accuracy_info()["input_sizes"]
    setup = estimator.model + (f" (input {', '.join(map(str, sizes))})" if estimator.spec.multipose else "")
    setup += f" + {estimator.refiner.model} refinement" if estimator.refiner is not None else ""
    setup += f", accuracy {estimator.accuracy}, min pose score {estimator.min_pose_score:g}"
    click.echo(f"{setup}, {estimator.backend}: {result.images} images, {result.people} labelled people, "
               f"{seconds:.2f} s per image")
    for name in ("AP", "AP50", "AP75", "AR"):
        click.echo(f"{name:5s} {result.stats[name]:.3f}")
    if save_predictions is not None and not quiet:
        note(f"predictions -> {save_predictions}")
