"""Load a ``movenet/1`` JSON document into typed frames.

Example::

    from pathlib import Path
    from movenet_cli import PoseEstimator
    from movenet_cli.pipeline import Outputs, process_video
    from movenet_cli.results import load_result

    process_video(PoseEstimator("multipose"), "sample_media/demo_clip.mp4",
                  Outputs(json=Path("out/demo_clip.json")), end=1.0)
    doc = load_result("out/demo_clip.json")
    print(doc.source["width"], doc.model["name"], len(doc.frames))   # 960 multipose 30
    for frame in doc.frames[:3]:            # FrameResult, people as Pose
        print(frame.index, frame.time, [p.id for p in frame.people])
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import MovenetError
from ..util.fs import read_json as fs_read_json
from ..types import KEYPOINT_NAMES, FrameResult, Pose

SCHEMA = "movenet/1"


class ResultError(MovenetError):
    """A results file that is not a readable ``movenet/1`` document; the message names the file and field."""


@dataclass
class ResultDoc:
    """One ``movenet/1`` document: its header blocks and its frames."""

    path: Path
    schema: str
    complete: bool
    source: dict[str, Any]
    model: dict[str, Any]
    frames: list[FrameResult] = field(default_factory=list)


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{where} is not a finite number")
    return float(value)


def _pose(data: Any, where: str) -> Pose:
    if not isinstance(data, dict):
        raise ValueError(f"{where} is not an object")
    rows = data.get("keypoints")
    if not isinstance(rows, list) or len(rows) != len(KEYPOINT_NAMES):
        raise ValueError(f"{where}.keypoints does not hold {len(KEYPOINT_NAMES)} rows")
    keypoints = np.empty((len(KEYPOINT_NAMES), 3))
    for k, row in enumerate(rows):
        if not isinstance(row, list) or len(row) != 3:
            raise ValueError(f"{where}.keypoints[{k}] is not [x, y, score]")
        keypoints[k] = [_number(v, f"{where}.keypoints[{k}]") for v in row]
    bbox = data.get("bbox")
    if bbox is not None:
        if not isinstance(bbox, list) or len(bbox) != 4:
            raise ValueError(f"{where}.bbox is not [x_min, y_min, x_max, y_max]")
        bbox = tuple(_number(v, f"{where}.bbox") for v in bbox)
    pid = data.get("id", 0)
    if isinstance(pid, bool) or not isinstance(pid, int):
        raise ValueError(f"{where}.id is not an integer")
    return Pose(keypoints, _number(data.get("score"), f"{where}.score"), bbox, pid)


def _frame(data: Any, n: int) -> FrameResult:
    where = f"frames[{n}]"
    if not isinstance(data, dict) or not isinstance(data.get("people"), list):
        raise ValueError(f"{where} has no people list")
    index = data.get("index")
    if isinstance(index, bool) or not isinstance(index, int):
        raise ValueError(f"{where}.index is not an integer")
    time = _number(data.get("time"), f"{where}.time")
    return FrameResult(index, time, [_pose(p, f"{where}.people[{i}]") for i, p in enumerate(data["people"])])


def parse_result(data: Any, path: str | os.PathLike = "<result>") -> ResultDoc:
    """A :class:`ResultDoc` from an already parsed document; :class:`ResultError` names what is wrong."""
    path = Path(path)
    try:
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        schema = data.get("schema")
        if schema != SCHEMA:
            raise ValueError(f"schema is {schema!r}, not {SCHEMA!r}")
        for key in ("source", "model"):
            if not isinstance(data.get(key), dict):
                raise ValueError(f"{key} is not an object")
        if not isinstance(data.get("frames"), list):
            raise ValueError("frames is not a list")
        frames = [_frame(f, n) for n, f in enumerate(data["frames"])]
    except ValueError as exc:
        raise ResultError(f"{path}: not a movenet/1 result ({exc})") from None
    return ResultDoc(path, schema, data.get("complete", True) is True, data["source"], data["model"], frames)


def read_json(path: str | os.PathLike) -> Any:
    """A JSON file's data; :class:`ResultError` names the file and what is wrong with it."""
    return fs_read_json(path, ResultError)


def load_result(path: str | os.PathLike) -> ResultDoc:
    """Read and check a ``movenet/1`` JSON file."""
    return parse_result(read_json(path), path)
