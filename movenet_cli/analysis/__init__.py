"""Analysis-ready results: joint and segment angles, offline zero-phase filtering, exports.

- :mod:`~movenet_cli.analysis.angles`: angles in Sports2D's conventions, empty below the threshold;
- :mod:`~movenet_cli.analysis.filters`: Butterworth / Savitzky-Golay over whole tracks after gap filling;
- :mod:`~movenet_cli.analysis.exports`: OpenPose per-frame JSON, COCO results, TRC per tracked person.

Example::

    from pathlib import Path
    from movenet_cli import PoseEstimator
    from movenet_cli.analysis import angles_csv_rows, filter_frames, parse_filter
    from movenet_cli.pipeline import Outputs, process_video
    from movenet_cli.results import load_result

    process_video(PoseEstimator("multipose"), "sample_media/demo_clip.mp4",
                  Outputs(json=Path("out/clip.json")), end=1.0)
    frames, info = filter_frames(load_result("out/clip.json").frames, parse_filter("butterworth"))
    rows = angles_csv_rows(frames)          # one row per person per frame, see angles_csv_header()
"""

from .angles import ANGLE_NAMES, ANGLES, angles_csv_header, angles_csv_rows, compute_angles, frame_angles, pose_angles
from .exports import FORMATS, Export, ExportError, coco_entry, write_coco, write_openpose, write_trc
from .filters import FilterError, FilterSpec, filter_frames, parse_filter

__all__ = [
    "ANGLES", "ANGLE_NAMES", "FORMATS", "Export", "ExportError", "FilterError", "FilterSpec", "angles_csv_header",
    "angles_csv_rows", "coco_entry", "compute_angles", "filter_frames", "frame_angles", "parse_filter", "pose_angles",
    "write_coco", "write_openpose", "write_trc",
]
