"""Analysis-ready results: joint and segment angles, offline zero-phase filtering, exports.

- :mod:`~movenet_cli.analysis.angles`: angles in Sports2D's conventions, empty below the threshold;
- :mod:`~movenet_cli.analysis.filters`: Butterworth / Savitzky-Golay over whole tracks after gap filling;
- :mod:`~movenet_cli.analysis.exports`: OpenPose per-frame JSON, COCO results, TRC per tracked person.

Example::

    from movenet_cli.results import load_result
    from movenet_cli.analysis import filter_frames, parse_filter, angles_csv_rows, write_trc

    doc = load_result("out/clip.json")
    frames, info = filter_frames(doc.frames, parse_filter("butterworth"))
    rows = angles_csv_rows(frames)
"""

from .angles import ANGLE_NAMES, ANGLES, angles_csv_header, angles_csv_rows, compute_angles, frame_angles, pose_angles
from .exports import FORMATS, Export, ExportError, coco_entry, write_coco, write_openpose, write_trc
from .filters import FilterError, FilterSpec, filter_frames, parse_filter

__all__ = [
    "ANGLES", "ANGLE_NAMES", "FORMATS", "Export", "ExportError", "FilterError", "FilterSpec", "angles_csv_header",
    "angles_csv_rows", "coco_entry", "compute_angles", "filter_frames", "frame_angles", "parse_filter", "pose_angles",
    "write_coco", "write_openpose", "write_trc",
]
