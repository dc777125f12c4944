"""Colour layouts: converting to planes in the decoder against the RGB way, in CPU and in keypoints.

Sources that are not 8-bit 4:2:0 BT.709 limited range are converted to that layout in the
decoder (:func:`movenet_cli.media.yuv.plane_filter`), where the RGB way (``MOVENET_FRAMES=rgb``)
has ffmpeg convert every whole frame to RGB. For each layout this re-encodes the first seconds
of a clip (the bench clip by default) and runs ``movenet video``'s pipeline both ways, in
interleaved rounds:

* CPU per frame of each way (this process and its ffmpeg children), median of the rounds;
* how far the keypoints of the two ways are apart: people paired by their nearest keypoints, the
  keypoints both runs score 0.3 or more, in % of the frame diagonal;
* the same distance between the RGB way and the RGB way with +-1 of random noise on the model
  input: how much the model moves on its own for differences of a level.

Usage::

    python bench/layouts.py                     # the bench clip (fetched by bench.py), 4 s
    python bench/layouts.py VIDEO [--seconds 4] [--rounds 2]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import numpy as np  # noqa: E402

from movenet_cli import PoseEstimator, media, pipeline  # noqa: E402
from movenet_cli.media.yuv import plane_filter  # noqa: E402

LAYOUTS = {
    "10-bit 4:2:0": ["-pix_fmt", "yuv420p10le"],
    "4:4:4": ["-pix_fmt", "yuv444p"],
    "BT.601": ["-vf", "colorspace=all=bt601-6-525:iall=bt709:format=yuv420p", "-pix_fmt", "yuv420p"],
    "BT.601 full range": ["-vf", "colorspace=all=bt601-6-525:iall=bt709:format=yuv420p", "-pix_fmt", "yuvj420p"],
}


def _cpu() -> float:
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def run(est, clip: Path, out: Path, layout: str) -> tuple[list, float]:
    """The frames of one run of the video pipeline (MP4 + JSON) and its CPU ms per frame."""
    os.environ["MOVENET_FRAMES"] = layout
    start = _cpu()
    stats = pipeline.process_video(est, clip, pipeline.Outputs(out, out.with_suffix(".json")), progress=False)
    return json.loads(out.with_suffix(".json").read_text())["frames"], (_cpu() - start) / stats.frames * 1000


def moves(a: list, b: list, diagonal: float, min_score: float = 0.3) -> np.ndarray:
    """Distances (% of the diagonal) of the keypoints both runs are confident of, people paired
    by their nearest keypoints (not at all where those are 5% of the diagonal apart: a person
    one run found and the other did not)."""
    out = []
    for x, y in zip(a, b):
        others, paired = [np.array(q["keypoints"]) for q in y["people"]], set()
        for person in x["people"]:
            p = np.array(person["keypoints"])
            gaps = [np.inf if j in paired else np.median(np.hypot(*(p[:, :2] - q[:, :2]).T)) for j, q in enumerate(others)]
            if not gaps or min(gaps) > 0.05 * diagonal:
                continue
            j = int(np.argmin(gaps))
            paired.add(j)
            both = (p[:, 2] >= min_score) & (others[j][:, 2] >= min_score)
            out += list(np.hypot(*(p[both, :2] - others[j][both, :2]).T) / diagonal * 100)
    return np.array(out)


def spread(values: np.ndarray) -> str:
    return f"{np.median(values):.3f} / {np.percentile(values, 99):.3f} / {values.max():.2f}"


class _Noisy:
    """A runner that adds +-1 of noise to the model input."""

    name = "tflite"

    def __init__(self, runner):
        self.runner, self.rng = runner, np.random.default_rng(0)

    def __call__(self, batch):
        noisy = batch.astype(np.int32) + self.rng.integers(-1, 2, batch.shape)
        return self.runner(np.clip(noisy, 0, 255))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("video", nargs="?", type=Path)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args(argv)
    if args.video is None:
        import bench

        args.video, _ = bench.bench_clip(Path(os.environ.get("XDG_CACHE_HOME", "~/.cache")).expanduser() / "movenet-bench")
    est = PoseEstimator("multipose", threads=1)  # as `movenet video` runs it on 2 cores
    print(f"{args.video}, first {args.seconds:g} s; median / 99th percentile / max of the keypoint moves, "
          "% of the diagonal; CPU ms a frame, median of the rounds")  # fmt: skip
    print("| layout | decoder filter | RGB way | planes | planes vs RGB way | RGB way vs +-1 noise |")
    print("|---|---|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory(prefix="movenet-layouts-") as tmp_name:
        tmp = Path(tmp_name)
        for name, encode in LAYOUTS.items():
            clip = tmp / "clip.mp4"
            subprocess.run([media.ffmpeg_exe(), "-v", "error", "-y", "-i", str(args.video), "-t", str(args.seconds),
                            "-an", *encode, "-c:v", "libx264", "-preset", "veryfast", str(clip)], check=True)  # fmt: skip
            info = media.probe_video(clip)
            diagonal = float(np.hypot(info.width, info.height))
            cpu: dict[str, list] = {"rgb": [], "auto": []}
            frames = {}
            for _ in range(args.rounds):
                for layout in cpu:
                    frames[layout], ms = run(est, clip, tmp / f"{layout}.mp4", layout)
                    cpu[layout].append(ms)
            runner, est.runner = est.runner, _Noisy(est.runner)
            try:
                noisy, _ = run(est, clip, tmp / "noisy.mp4", "rgb")
            finally:
                est.runner = runner
            print(f"| {name} ({info.pix_fmt}, {info.color_space or 'no matrix'}, {info.color_range}) "
                  f"| `{(plane_filter(info) or '')[:24]}...` | {np.median(cpu['rgb']):.1f} | {np.median(cpu['auto']):.1f} "
                  f"| {spread(moves(frames['rgb'], frames['auto'], diagonal))} "
                  f"| {spread(moves(frames['rgb'], noisy, diagonal))} |", flush=True)  # fmt: skip
    os.environ.pop("MOVENET_FRAMES", None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
