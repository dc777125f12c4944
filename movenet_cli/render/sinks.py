"""JSON and CSV sinks for per-frame results (schema ``movenet/1``).

Both stream: a frame is written when it is added, so memory stays flat however long
the video is, and both write to a temporary file beside the destination that is
renamed into place only when the sink is closed after a complete run.

Example::

    from movenet_cli import PoseEstimator
    from movenet_cli.media import read_image
    from movenet_cli.render.sinks import CsvSink, JsonSink
    from movenet_cli.types import FrameResult

    result = FrameResult(0, 0.0, PoseEstimator("multipose")(read_image("sample_media/person.jpg")))
    source, model = {"path": "person.jpg", "width": 960, "height": 540}, {"name": "multipose"}
    with JsonSink("out/p.json", source=source, model=model) as js, CsvSink("out/p.csv") as cs:
        js.add(result)
        cs.add(result)
"""

from __future__ import annotations

import csv
import json
import math
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from ..types import KEYPOINT_NAMES, SKELETON, FrameResult
from ..util.fs import remove_quietly, temp_path_for

SCHEMA = "movenet/1"

CSV_HEADER = [
    "frame",
    "time",
    "person_id",
    "person_score",
    "bbox_x_min",
    "bbox_y_min",
    "bbox_x_max",
    "bbox_y_max",
] + [f"{name}_{field}" for name in KEYPOINT_NAMES for field in ("x", "y", "score")]


def _r(value: float, digits: int) -> float | None:
    """A number for the JSON, rounded; ``None`` (null) where it is not finite: strict JSON has no NaN."""
    value = float(value)
    return round(value, digits) if math.isfinite(value) else None


def frame_to_dict(result: FrameResult) -> dict[str, Any]:
    """One ``frames`` entry of the schema."""
    return {
        "index": result.index,
        "time": _r(result.time, 6),
        "people": [
            {
                "id": pose.id,
                "score": _r(pose.score, 4),
                "bbox": None if pose.bbox is None else [_r(v, 2) for v in pose.bbox],
                "keypoints": [[_r(x, 2), _r(y, 2), _r(s, 4)] for x, y, s in pose.keypoints],
            }
            for pose in result.people
        ],
    }


class Sink:
    """What every sink does as a context manager: ``close`` (publish) after a clean block,
    ``abort`` (nothing published) after an error."""

    def close(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def abort(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


class _AtomicSink(Sink):
    """A file written under a temporary name and renamed into place by ``close``."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._tmp = temp_path_for(self.path)
        self.closed = False

    def abort(self) -> None:
        """Drop what was written; nothing appears at the final path."""
        self.closed = True
        self._close_files()
        remove_quietly(self._tmp)

    def _close_files(self) -> None:  # pragma: no cover - overridden
        pass


class JsonSink(_AtomicSink):
    """Writes one ``movenet/1`` document; ``source.frame_count`` counts the frames added."""

    def __init__(self, path: str | os.PathLike, *, source: dict[str, Any], model: dict[str, Any]):
        super().__init__(path)
        self.source = dict(source)
        self.model = dict(model)
        self.count = 0
        self.complete = True
        self._body = tempfile.TemporaryFile("w+", encoding="utf-8")

    def add(self, result: FrameResult) -> None:
        self.add_entry(frame_to_dict(result))

    def add_entry(self, entry: dict[str, Any]) -> None:
        """One ``frames`` entry made by :func:`frame_to_dict`, perhaps with more per-person fields."""
        self._body.write(("" if self.count == 0 else ",\n") + "    " + json.dumps(entry, allow_nan=False))
        self.count += 1

    def close(self) -> None:
        """Finish the file and rename it into place."""
        if not self.closed:
            os.replace(self.finish(), self.path)

    def finish(self) -> Path:
        """Write the whole document under its temporary name and return that name."""
        source = dict(self.source, frame_count=self.count)
        head = {
            "schema": SCHEMA,
            "complete": self.complete,
            "source": source,
            "model": self.model,
            "keypoint_names": list(KEYPOINT_NAMES),
            "skeleton": [[a, b] for a, b, _ in SKELETON],
        }
        text = json.dumps(head, indent=2, allow_nan=False)
        try:
            with open(self._tmp, "w", encoding="utf-8") as out:
                out.write(text[:-2] + ',\n  "frames": [\n')
                self._body.seek(0)
                shutil.copyfileobj(self._body, out)
                out.write("\n  ]\n}\n" if self.count else "  ]\n}\n")
        except BaseException:
            remove_quietly(self._tmp)
            raise
        finally:
            self.closed = True
            self._body.close()
        return self._tmp

    def _close_files(self) -> None:
        self._body.close()


class CsvSink(_AtomicSink):
    """One row per person per frame, header :data:`CSV_HEADER`."""

    def __init__(self, path: str | os.PathLike):
        super().__init__(path)
        self._fh = open(self._tmp, "w", newline="", encoding="utf-8")
        self._writer = csv.writer(self._fh)
        self._writer.writerow(CSV_HEADER)

    def add(self, result: FrameResult) -> None:
        for pose in result.people:
            bbox = ["", "", "", ""] if pose.bbox is None else [f"{v:.2f}" for v in pose.bbox]
            row = [result.index, f"{result.time:.6f}", pose.id, f"{pose.score:.4f}", *bbox]
            for x, y, s in pose.keypoints:
                row += [f"{x:.2f}", f"{y:.2f}", f"{s:.4f}"]
            self._writer.writerow(row)

    def close(self) -> None:
        """Finish the file and rename it into place."""
        if not self.closed:
            os.replace(self.finish(), self.path)

    def finish(self) -> Path:
        """Flush the rows under the temporary name and return that name."""
        self.closed = True
        try:
            self._fh.close()
        except BaseException:
            remove_quietly(self._tmp)
            raise
        return self._tmp

    def _close_files(self) -> None:
        self._fh.close()
