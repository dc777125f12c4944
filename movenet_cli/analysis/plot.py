"""One angle of one person over time, raw against filtered, as a PNG (matplotlib, no pyplot).

Example::

    from pathlib import Path
    from movenet_cli import PoseEstimator
    from movenet_cli.analysis.filters import filter_frames, parse_filter
    from movenet_cli.analysis.plot import save_angle_plot
    from movenet_cli.pipeline import Outputs, process_video
    from movenet_cli.results import load_result

    process_video(PoseEstimator("multipose"), "sample_media/demo_clip.mp4",
                  Outputs(json=Path("out/clip.json")), end=1.0)
    raw = load_result("out/clip.json").frames
    filtered, _ = filter_frames(raw, parse_filter("butterworth"))
    print(save_angle_plot("out/trunk.png", raw, filtered, "trunk"))   # the id of the person drawn
"""

from __future__ import annotations

import os

import numpy as np

from .. import settings
from ..errors import MovenetError
from .angles import angle_series


def _busiest(frames) -> int:
    counts: dict[int, int] = {}
    for frame in frames:
        for pose in frame.people:
            counts[pose.id] = counts.get(pose.id, 0) + 1
    if not counts:
        raise MovenetError("nobody was found, so there is no angle to plot")
    return max(counts, key=counts.get)


def save_angle_plot(path: str | os.PathLike, raw, filtered, name: str, *, person_id: int | None = None,
                    threshold: float = settings.THRESHOLD, title: str = "", label: str = "filtered") -> int:
    """Draw ``name`` of ``person_id`` (default: the person in most frames) from ``raw`` and, when
    given, ``filtered`` frames; returns the person id drawn."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    person = _busiest(raw) if person_id is None else person_id
    fig = Figure(figsize=(10, 4), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    t, v = angle_series(raw, name, person, threshold=threshold)
    if not np.isfinite(v).any():
        raise MovenetError(f"person {person}: {name} is never defined (keypoints below {threshold:g})")
    ax.plot(t, v, ".-", color="0.6", lw=1, ms=3, label="raw")
    if filtered is not None:
        t, v = angle_series(filtered, name, person, threshold=threshold)
        ax.plot(t, v, "-", color="tab:blue", lw=1.8, label=label)
    ax.set_xlabel("time (s)")
    ax.set_ylabel(f"{name} (degrees)")
    ax.set_title(title or f"{name}, person {person}", loc="left", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(loc="best", fontsize=8)
    fig.savefig(os.fspath(path), format="png")
    return person
