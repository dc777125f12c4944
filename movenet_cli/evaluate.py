"""Kept at this path for code written against the first release: see :mod:`movenet_cli.pipeline.evaluate`."""

from .pipeline.evaluate import EvalReport, evaluate, load_ground_truth, predict, score, to_coco_result

__all__ = ["EvalReport", "evaluate", "load_ground_truth", "predict", "score", "to_coco_result"]
