"""A picture of a video run: where people were, how many were found and how sure the model was.

:class:`RunSummary` collects a few numbers per frame as the results stream past (the
frames themselves are not kept) and :meth:`RunSummary.save` draws a PNG with matplotlib
(Agg, no display needed) in three panels over time:

* keypoint tracks: each person's position (mean of their confident keypoints),
  horizontal and vertical, one colour per id;
* the number of people found in each frame, frames with nobody shaded;
* the mean person score and mean keypoint score per frame.

Example::

    from movenet_cli import PoseEstimator
    from movenet_cli.pipeline import Outputs, process_video
    from movenet_cli.render.plot import RunSummary

    summary = RunSummary("demo_clip.mp4", threshold=0.3)
    process_video(PoseEstimator("multipose"), "sample_media/demo_clip.mp4",
                  Outputs(), on_result=summary.add, end=1.0)
    summary.save("out/demo_clip.png")       # what ``movenet video --plot`` draws
"""

from __future__ import annotations

import os
from collections import defaultdict

import numpy as np

from ..errors import PlotError
from ..settings import THRESHOLD
from ..types import FrameResult
from ..util.fs import atomic_path


def _matplotlib():
    try:
        import matplotlib
    except ImportError:
        raise PlotError("--plot needs matplotlib: pip install matplotlib") from None
    return matplotlib


class RunSummary:
    """Per-frame numbers of one video run, and the PNG drawn from them."""

    def __init__(self, title: str = "", threshold: float = THRESHOLD):
        _matplotlib()  # fail before the run, not after it
        self.title = title
        self.threshold = float(threshold)
        self.times: list[float] = []
        self.counts: list[int] = []
        self.person_scores: list[float] = []
        self.keypoint_scores: list[float] = []
        self.tracks: dict[int, list[tuple[float, float, float]]] = defaultdict(list)

    def add(self, result: FrameResult) -> None:
        self.times.append(result.time)
        self.counts.append(len(result.people))
        self.person_scores.append(float(np.mean([p.score for p in result.people])) if result.people else np.nan)
        self.keypoint_scores.append(
            float(np.mean([p.keypoints[:, 2].mean() for p in result.people])) if result.people else np.nan
        )
        for pose in result.people:
            sure = pose.keypoints[pose.keypoints[:, 2] >= self.threshold]
            if len(sure):
                self.tracks[pose.id].append((result.time, float(sure[:, 0].mean()), float(sure[:, 1].mean())))

    def figure(self):
        """The matplotlib Figure (drawn without pyplot, so it is safe in any thread)."""
        _matplotlib()
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        fig = Figure(figsize=(11, 8.5), dpi=100, layout="constrained")
        FigureCanvasAgg(fig)
        ax_x, ax_y, ax_n, ax_s = fig.subplots(4, 1, sharex=True, height_ratios=[3, 3, 1.6, 1.6])
        times = np.asarray(self.times)
        colors = [f"C{i}" for i in range(10)]
        for n, (pid, rows) in enumerate(sorted(self.tracks.items())):
            t, x, y = np.asarray(rows).T
            # break the line where the person was not seen for more than a frame or two
            gaps = np.flatnonzero(np.diff(t) > 2.5 * self._frame_step())
            color = colors[n % len(colors)]
            for k, seg in enumerate(np.split(np.arange(len(t)), gaps + 1)):
                label = f"id {pid}" if k == 0 else None
                ax_x.plot(t[seg], x[seg], color=color, lw=1.5, marker="." if len(seg) < 3 else None, label=label)
                ax_y.plot(t[seg], y[seg], color=color, lw=1.5, marker="." if len(seg) < 3 else None)
        ax_x.set_ylabel("x (px)")
        ax_y.set_ylabel("y (px)")
        ax_y.invert_yaxis()  # image rows grow downwards
        ax_x.set_title("keypoint tracks: mean of confident keypoints per person", loc="left", fontsize=10)
        if self.tracks:
            ax_x.legend(loc="upper right", fontsize=8, ncol=min(6, len(self.tracks)))
        counts = np.asarray(self.counts)
        ax_n.step(times, counts, where="mid", color="k", lw=1.2)
        empty = counts == 0
        if empty.any():
            ax_n.fill_between(times, 0, max(1, counts.max()), where=empty, step="mid", color="tab:red", alpha=0.25,
                              label="nobody found")
            ax_n.legend(loc="upper right", fontsize=8)
        ax_n.set_ylabel("people")
        ax_n.set_ylim(bottom=0)
        ax_n.yaxis.get_major_locator().set_params(integer=True)
        ax_s.plot(times, self.person_scores, color="tab:blue", lw=1.2, label="person score")
        ax_s.plot(times, self.keypoint_scores, color="tab:orange", lw=1.2, label="keypoint score")
        ax_s.axhline(self.threshold, color="gray", lw=0.8, ls="--", label=f"threshold {self.threshold:g}")
        ax_s.set_ylim(0, 1)
        ax_s.set_ylabel("mean score")
        ax_s.set_xlabel("time (s)")
        ax_s.legend(loc="lower right", fontsize=8, ncol=3)
        for ax in (ax_x, ax_y, ax_n, ax_s):
            ax.grid(alpha=0.3)
        seen = int((counts > 0).sum())
        fig.suptitle(
            f"{os.path.basename(self.title)}: {len(counts)} frames, people found in {seen}, "
            f"{len(self.tracks)} ids",
            fontsize=11,
        )
        return fig

    def save(self, path: str | os.PathLike) -> None:
        """Write the PNG atomically (nothing at ``path`` if drawing fails)."""
        fig = self.figure()
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format="png")

    def _frame_step(self) -> float:
        if len(self.times) < 2:
            return 1.0
        return float(np.median(np.diff(self.times)))
