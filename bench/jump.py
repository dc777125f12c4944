"""What the filters do to a fast movement: the jump off the box in Sports2D's demo clip.

    pip download --no-deps sports2d -d /tmp/s2d && unzip -o /tmp/s2d/sports2d-*.whl 'Sports2D/Demo/demo.mp4' -d /tmp/s2d
    python bench/jump.py /tmp/s2d/Sports2D/Demo/demo.mp4

Runs MultiPose over the clip twice (raw, and with the default One-Euro smoothing), filters the
raw tracks offline (Butterworth 6 Hz, Savitzky-Golay 9/2) and prints, for the person with the
largest vertical mid-hip movement, the lowest point of the landing, the depth of the crouch
and the peak vertical speed in each version: a filter that lags moves the lowest point later,
one that smooths too much lowers the peak speed, one that overshoots deepens the crouch.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from movenet_cli import PoseEstimator  # noqa: E402
from movenet_cli.analysis.filters import filter_frames, parse_filter  # noqa: E402
from movenet_cli.pipeline import Outputs, process_video  # noqa: E402
from movenet_cli.settings import THRESHOLD, VideoQuality  # noqa: E402

HIPS = [11, 12]


def frames_of(clip: Path, quality: VideoQuality) -> list:
    found: list = []
    process_video(PoseEstimator("multipose"), clip, Outputs(), progress=False, on_result=found.append, quality=quality)
    return found


def mid_hip(frames, pid: int) -> dict[int, float]:
    return {f.index: float(p.keypoints[HIPS, 1].mean()) for f in frames for p in f.people
            if p.id == pid and (p.keypoints[HIPS, 2] >= THRESHOLD).all()}


def main(clip: Path) -> None:
    raw = frames_of(clip, VideoQuality(smooth=False))
    euro = frames_of(clip, VideoQuality())
    ids = {p.id for f in raw for p in f.people}
    pid = max(ids, key=lambda i: np.ptp(list(mid_hip(raw, i).values()) or [0]))
    versions = {"raw": raw, "One-Euro": euro, "Butterworth 6 Hz": filter_frames(raw, parse_filter("butterworth"))[0],
                "Savitzky-Golay 9/2": filter_frames(raw, parse_filter("savgol"))[0]}
    print(f"person {pid}, mid-hip height (image y, down is positive)")
    print("| version | lowest point (frame) | depth of crouch | peak speed |\n| --- | ---: | ---: | ---: |")
    base = mid_hip(raw, pid)
    for name, frames in versions.items():
        y_of = mid_hip(frames, pid)
        idx = sorted(set(y_of) & set(base))
        y = np.array([y_of[i] for i in idx])
        low = idx[int(y.argmax())]
        print(f"| {name} | {low} | {y.max() - y.min():.0f} px | {np.abs(np.diff(y)).max():.1f} px/frame |")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
