"""Streaming one input through the stages and writing its outputs.

Example::

    from pathlib import Path
    from movenet_cli import PoseEstimator
    from movenet_cli.pipeline import Outputs, process_video

    stats = process_video(PoseEstimator("multipose"), "sample_media/demo_clip.mp4",
                          Outputs(json=Path("out/demo.json")), end=1.0)
"""

from ..errors import OutputExistsError
from .image import process_image, process_images
from .outputs import Outputs, check_outputs, check_unique, image_outputs, mirrored_outputs, model_info
from .video import RunStats, process_video

__all__ = [
    "OutputExistsError",
    "Outputs",
    "RunStats",
    "check_outputs",
    "check_unique",
    "image_outputs",
    "mirrored_outputs",
    "model_info",
    "process_image",
    "process_images",
    "process_video",
]
