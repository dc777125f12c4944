"""Real ``movenet/1`` documents of the sample clip for the CI-tool tests, made once per test process.

Each run is the command-line tool on the real clip with the real model (no mocks), so
the comparisons, expectations and reports below are checked against what a user gets.
"""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path

from helpers import DEMO_CLIP, run_movenet

_made: dict[int, Path] = {}


def demo_run(tmp_path_factory, n: int = 1) -> Path:
    """The JSON of run number ``n`` of ``movenet video`` on the demo clip (90 frames, one or two people; its CSV
    beside it),
    made on first use in this test process (under pytest's base temp folder) and reused after."""
    if n not in _made:
        out = tmp_path_factory.getbasetemp() / "ci-runs" / f"demo_run{n}.json"
        out.parent.mkdir(exist_ok=True)
        done = run_movenet("video", DEMO_CLIP, "--no-video", "--json", out, "--csv", out.with_suffix(".csv"))
        assert done.returncode == 0, done.stderr
        _made[n] = out
    return _made[n]


def read(path: Path) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def write(path: Path, data: dict) -> Path:
    Path(path).write_text(json.dumps(data), encoding="utf-8")
    return Path(path)


def edited(path: Path) -> dict:
    """A deep copy of a document, to edit."""
    return copy.deepcopy(read(path))


def box_diagonal(person: dict) -> float:
    x0, y0, x1, y1 = person["bbox"]
    return math.hypot(x1 - x0, y1 - y0)


def two_person_frame(doc: dict) -> int:
    """The position in ``frames`` of the first frame with two people."""
    return next(n for n, f in enumerate(doc["frames"]) if len(f["people"]) == 2)
