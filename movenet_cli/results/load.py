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

from ..errors import MovenetError, safe_name
from .names import MANIFEST_NAME, MANIFEST_SCHEMA
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


# -- the run manifest (movenet-run/1) -------------------------------------------------------------

_STR, _NUM, _INT, _OBJ, _LIST = (str,), (int, float), (int,), (dict,), (list,)
# Fields of the manifest and of each of its files: the types each may have (None: may be null).
# Fields a version did not write may be absent; present ones must have these types.
_MANIFEST_FIELDS = {
    "status": _STR, "error": (*_STR, None), "movenet_version": _STR, "started": _STR, "finished": (*_STR, None),
    "seconds": _NUM, "input_dir": _STR, "output_dir": _STR, "engine": _OBJ, "settings": _OBJ, "options": _OBJ,
    "counts": _OBJ, "frames": _INT, "files": _LIST, "not_taken": _LIST,
}  # fmt: skip
_FILE_FIELDS = {
    "input": _STR, "kind": (*_STR, None), "status": _STR, "reason": (*_STR, None), "outputs": _OBJ,
    "frames": (*_INT, None), "people": (*_INT, None), "seconds": (*_NUM, None), "fps": (*_NUM, None),
}  # fmt: skip
_NOT_TAKEN_FIELDS = {"path": (*_STR, None), "reason": (*_STR, None), "problem": (*_STR, bool, None)}
FILE_STATUSES = ("done", "failed", "skipped", "pending")


def _typed(data: dict, fields: dict, where: str) -> None:
    for key, types in fields.items():
        if key not in data:
            continue
        value = data[key]
        ok = value is None if value is None else (
            isinstance(value, tuple(t for t in types if t is not None))
            and not (isinstance(value, bool) and bool not in types)
            and not (isinstance(value, float) and not math.isfinite(value)))
        if not ok:
            names = {str: "a string", int: "an integer", float: "a number", dict: "an object", list: "a list",
                     bool: "true/false", None: "null"}
            wanted = " or ".join(dict.fromkeys(names[t] for t in types if not (t is int and float in types)))
            raise ValueError(f"{where}{key} is {type(value).__name__ if value is not None else 'null'}, not {wanted}")


def check_manifest(data: Any, path: str | os.PathLike = MANIFEST_NAME) -> dict[str, Any]:
    """``data`` if it is a ``movenet-run/1`` manifest whose fields have their types, else
    :class:`ResultError` naming the file and the first field that is wrong.

    Example::

        from movenet_cli.results.load import ResultError, check_manifest

        try:
            check_manifest({"schema": "movenet-run/1", "files": [{"input": "a.jpg", "status": "done", "outputs": []}]})
        except ResultError as exc:
            print(exc)   # movenet-run.json: not a movenet-run/1 manifest (files[0].outputs is list, not an object)
    """
    try:
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        if data.get("schema") != MANIFEST_SCHEMA:
            raise ValueError(f"schema is {data.get('schema')!r}, not {MANIFEST_SCHEMA!r}")
        if "files" not in data:
            raise ValueError("files is missing")
        _typed(data, _MANIFEST_FIELDS, "")
        for key, value in data.get("counts", {}).items():
            _typed({key: value}, {key: _INT}, "counts.")
        for n, entry in enumerate(data["files"]):
            where = f"files[{n}]"
            if not isinstance(entry, dict):
                raise ValueError(f"{where} is not an object")
            for key in ("input", "status"):
                if key not in entry:
                    raise ValueError(f"{where}.{key} is missing")
            _typed(entry, _FILE_FIELDS, f"{where}.")
            if entry["status"] not in FILE_STATUSES:
                raise ValueError(f"{where}.status is {entry['status']!r}, not one of {', '.join(FILE_STATUSES)}")
            for key, value in entry.get("outputs", {}).items():
                _typed({key: value}, {key: (*_STR, None)}, f"{where}.outputs.")
        for n, entry in enumerate(data.get("not_taken", [])):
            if not isinstance(entry, dict):
                raise ValueError(f"not_taken[{n}] is not an object")
            _typed(entry, _NOT_TAKEN_FIELDS, f"not_taken[{n}].")
    except ValueError as exc:
        raise ResultError(f"{safe_name(path)}: not a {MANIFEST_SCHEMA} manifest ({safe_name(str(exc))})") from None
    return data


def load_result(path: str | os.PathLike) -> ResultDoc:
    """Read and check a ``movenet/1`` JSON file."""
    return parse_result(read_json(path), path)
