"""Video-native ``--accuracy high`` against per-frame ``high``: agreement and model CPU per frame.

For each clip the frames are decoded once; per-frame ``high`` (every frame on its own) and
video-native ``high`` variants (:class:`movenet_cli.temporal.high.VideoHigh`, detection every N
frames, with or without the motion prediction) run on them in the same process, each timed by
CPU time (user + system) around its model work only. Agreement, on the unsmoothed,
untracked people of each frame: people are paired greedily by OKS (>= 0.3, as per-frame high's
mirror matching); for each pair, the distance of every keypoint both score >= the drawing
threshold (0.3), over the diagonal of per-frame high's box; median and 95th percentile. People
found per frame: mean of each, and the share of frames where the counts differ.

    python bench/video_high.py [--clip PATH ...] [--every 5 10 15] [--frames N]

Without ``--clip``: the two sample clips and the bench clip (fetched as bench.py does).
"""

from __future__ import annotations

import argparse
import dataclasses
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from movenet_cli import PoseEstimator  # noqa: E402
from movenet_cli.media import iter_frames  # noqa: E402
from movenet_cli.pose.accuracy import AccurateEstimator  # noqa: E402
from movenet_cli.temporal.high import VideoHigh, agreement  # noqa: E402


def _cpu() -> float:
    me = resource.getrusage(resource.RUSAGE_SELF)
    return me.ru_utime + me.ru_stime


def run(fn, frames: list) -> tuple[list, float]:
    """Each frame's people and the CPU ms per frame."""
    c0 = _cpu()
    out = [fn(f) for f in frames]
    return out, 1000 * (_cpu() - c0) / len(frames)


def measure(clip: Path, everies: list[int], max_frames: int | None, reps: int, kinds: list[str]) -> list[dict]:
    frames = [f.image for f in iter_frames(clip)][:max_frames]
    est = PoseEstimator("multipose", accuracy="high")
    est.accurate(frames[0])  # warm both models
    ref, ref_cpu, rows = None, [], []
    mirrored = AccurateEstimator(est, recipe=dataclasses.replace(est.accurate.recipe, flip=True),
                                 refiner=est.accurate.refiner)  # video's detection with a mirror pass of its own
    light = PoseEstimator("lightning") if "lightning" in kinds else None
    variants = [(f"video-native, detect every {n}, Thunder between", n, True, est.accurate, None) for n in everies]
    if "mirror" in kinds:
        variants += [(f"video-native, detect every {n}, detection mirrored", n, True, mirrored, None) for n in everies]
    if "no-motion" in kinds:
        variants += [(f"video-native, detect every {everies[0]}, no motion", everies[0], False, est.accurate, None)]
    if light is not None:
        variants += [(f"video-native, detect every {n}, Lightning between", n, True, est.accurate, light) for n in everies]
    cpu: dict[str, list[float]] = {}
    outs: dict[str, list] = {}
    for _ in range(reps):  # interleaved: other work on the machine hits every variant alike
        found, ms = run(lambda im: est.accurate.estimate_batch([im])[0], frames)
        ref = ref or found
        ref_cpu.append(ms)
        for name, n, motion, accurate, follower in variants:
            follow = VideoHigh(accurate, n, motion=motion, follower=follower)
            outs[name], ms = run(follow, frames)
            cpu.setdefault(name, []).append(ms)
            outs[name + " detections"] = follow.detections
    rows.append({"clip": clip.name, "variant": "per-frame high", "cpu_ms": min(ref_cpu), "detect_share": 100.0,
                 **agreement(ref, ref)})
    for name, *_ in variants:
        rows.append({"clip": clip.name, "variant": name, "cpu_ms": min(cpu[name]),
                     "detect_share": 100 * outs[name + " detections"] / len(frames), **agreement(ref, outs[name])})
    return rows


def table(rows: list[dict]) -> str:
    lines = ["| clip | variant | model CPU ms/frame | detection frames | median % diag | p95 % diag "
             "| people/frame (per-frame high) | frames with another count | missed/frame | extra/frame |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['clip']} | {r['variant']} | {r['cpu_ms']:.1f} | {r['detect_share']:.0f}% "
                     f"| {r['median']:.2f} | {r['p95']:.2f} | {r['people']:.2f} ({r['people_ref']:.2f}) "
                     f"| {r['count_differs']:.1f}% | {r['missed']:.3f} | {r['extra']:.3f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clip", type=Path, action="append")
    parser.add_argument("--every", type=int, nargs="+", default=[10, 5, 15, 30])
    parser.add_argument("--frames", type=int, default=None, help="at most this many frames of each clip")
    parser.add_argument("--reps", type=int, default=1)
    parser.add_argument("--variants", nargs="*", default=["lightning", "mirror", "no-motion"],
                        help="besides detection every N: mirror, no-motion, lightning")
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "movenet-bench")
    args = parser.parse_args(argv)
    clips = args.clip
    if not clips:
        from bench import bench_clip
        clips = [ROOT / "sample_media" / "demo_clip.mp4", ROOT / "sample_media" / "portrait_clip.mp4",
                 bench_clip(args.cache)[0]]
    load = Path("/proc/loadavg").read_text().split()[:3] if Path("/proc/loadavg").exists() else []
    t0 = time.perf_counter()
    rows = []
    for clip in clips:
        found = measure(clip, args.every, args.frames, args.reps, args.variants)
        rows += found
        print(table(found), flush=True)
    print()
    print(table(rows))
    print(f"\nload average before: {' '.join(load)}; after: "
          f"{' '.join(Path('/proc/loadavg').read_text().split()[:3])}; {time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
