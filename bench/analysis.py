"""Offline filters against the One-Euro smoothing on the sample clip: jitter and lag, printed as a table,
and the knee-angle plot of the README (docs/knee_angle.png).

    PYTHONPATH=. python bench/analysis.py [--clip sample_media/demo_clip.mp4] [--plot docs/knee_angle.png]

Runs the model twice (raw: --filter none; One-Euro: the default), filters the raw run offline
with movenet_cli.analysis.filters, and measures each with movenet_cli.temporal.smoothing:
jitter = mean |second difference| of confident keypoints over the box size; lag = frames by which
the walking person's mid-hip trails the raw track (least-squares shift).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

from movenet_cli.analysis.filters import filter_frames, parse_filter
from movenet_cli.results import load_result
from movenet_cli.temporal.smoothing import keypoint_jitter, person_lag


def _run(clip: Path, out: Path, *extra: str):
    subprocess.run([sys.executable, "-m", "movenet_cli", "video", str(clip), "--no-video", "--json", str(out), "-q",
                    "--overwrite", *extra], check=True)
    return load_result(out)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clip", type=Path, default=Path("sample_media/demo_clip.mp4"))
    parser.add_argument("--plot", type=Path, default=Path("docs/knee_angle.png"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        raw = _run(args.clip, Path(tmp) / "raw.json", "--filter", "none")
        euro = _run(args.clip, Path(tmp) / "euro.json")
        lag_euro, walker, speed = person_lag(raw.frames, euro.frames)
        rows = [("raw (--filter none)", raw.frames), ("One-Euro (default)", euro.frames)]
        for spec in ("butterworth", "butterworth:3", "savgol", "savgol:15:2"):
            rows.append((f"--filter {spec}", filter_frames(raw.frames, parse_filter(spec))[0]))
        print(f"{args.clip}: {len(raw.frames)} frames; lag of person {walker} (mid-hip, {speed:.1f} px/frame)")
        print("| filter | jitter | lag (frames) |\n| --- | --- | --- |")
        for name, frames in rows:
            lag = person_lag(raw.frames, frames, person_id=walker)[0]
            print(f"| {name} | {keypoint_jitter(frames):.4f} | {lag:.2f} |")
        subprocess.run([sys.executable, "-m", "movenet_cli", "angles", str(Path(tmp) / "raw.json"), "-o",
                        str(Path(tmp) / "raw.angles.csv"), "--filter", "butterworth", "--plot", str(args.plot),
                        "--angle", "right_knee", "--person", str(walker), "--overwrite"], check=True)


if __name__ == "__main__":
    main()
