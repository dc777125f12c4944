"""Pose-quality measurements: COCO keypoint AP, refinement, tracking, smoothing, crop following.

Run from the repository root (models are fetched on first use):

    python bench/quality.py                                   # everything, on the bundled data
    python bench/quality.py --clip path/to/other.mp4          # also track/smooth another clip
    python bench/quality.py --only ap --gt GT.json --images DIR

Every number is printed with what it measures. Accuracy and jitter numbers are
deterministic for a given backend; the frames-per-second column is wall-clock time and
depends on how busy the machine is (the load average is printed alongside).
"""

from __future__ import annotations

import argparse
import copy
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from movenet_cli import PoseEstimator, media  # noqa: E402
from movenet_cli.evaluate import evaluate, load_ground_truth, predict, score  # noqa: E402
from movenet_cli.pipeline import Outputs, process_video  # noqa: E402
from movenet_cli.settings import VideoQuality  # noqa: E402
from movenet_cli.pose.refine import Refiner  # noqa: E402
from movenet_cli.temporal.smoothing import (  # noqa: E402
    DEFAULT_PARAMS,
    POSE_DETECTION_PARAMS,
    KeypointSmoother,
    keypoint_jitter,
    person_lag,
    steady_lag,
)

DATA = ROOT / "tests" / "data" / "coco-dev"
CLIP = ROOT / "sample_media" / "demo_clip.mp4"


def heading(text: str) -> None:
    print(f"\n== {text} " + "=" * max(0, 70 - len(text)))


def run(estimator, clip, quality, **kw):
    results = []
    stats = process_video(estimator, clip, Outputs(), progress=False, on_result=results.append, quality=quality, **kw)
    return results, stats


def smooth_offline(results, width, height, params):
    """Apply the keypoint smoother to already tracked results (as the pipeline would)."""
    out = copy.deepcopy(results)
    smoother = KeypointSmoother(width, height, params)
    for result in out:
        smoother.apply(result.people, result.time)
    return out


# -- COCO AP ---------------------------------------------------------------------------------


def bench_ap(args) -> None:
    heading(f"COCO keypoint AP on {args.gt} (pycocotools COCOeval)")
    gt = load_ground_truth(args.gt)
    rows = [
        ("lightning", dict(model="lightning")),
        ("thunder", dict(model="thunder")),
        ("multipose", dict(model="multipose")),
        ("multipose + refine thunder", dict(model="multipose", refine="thunder")),
        ("multipose + refine lightning", dict(model="multipose", refine="lightning")),
    ]
    print(f"{'setting':34s} {'AP':>6s} {'AP50':>6s} {'AP75':>6s} {'AR':>6s} {'s/img':>6s}")
    for name, kw in rows:
        est = PoseEstimator(kw.pop("model"), backend=args.backend, **kw)
        est(np.zeros((64, 64, 3), np.uint8))  # warm up
        started = time.perf_counter()
        rep = evaluate(est, args.gt, args.images)
        per_image = (time.perf_counter() - started) / rep.images
        print(f"{name:34s} {rep.ap:6.3f} {rep.ap50:6.3f} {rep.ap75:6.3f} {rep.ar:6.3f} {per_image:6.3f}")
    if args.quick:
        return
    heading("refinement: crop margin and MultiPose input size (AP, thunder refiner)")
    thunder = PoseEstimator("thunder", backend=args.backend)
    margins = (0.0, 0.1, 0.2, 0.3, 0.5)
    print("input   plain  " + " ".join(f"m={m:<4}" for m in margins))
    for size in (256, 320, 384):
        multipose = PoseEstimator("multipose", backend=args.backend, input_size=size)
        plain = score(gt, predict(multipose, gt, args.images))["AP"]
        cells = []
        for margin in margins:
            refiner = Refiner(thunder, margin)
            cells.append(score(gt, predict(lambda im: refiner(im, multipose(im)), gt, args.images))["AP"])
        print(f"{size:5d}  {plain:6.3f}  " + " ".join(f"{c:6.3f}" for c in cells))


# -- video: tracking, smoothing, following, refinement ---------------------------------------


def bench_tracking(args, clip) -> None:
    info = media.probe_video(clip)
    heading(f"tracking on {clip} ({info.width}x{info.height}, {info.fps:g} fps)")
    for size in (256, 384):
        for tracker in ("box", "keypoints"):
            est = PoseEstimator("multipose", backend=args.backend, input_size=size)
            results, stats = run(est, clip, VideoQuality(tracker=tracker, smooth=False))
            ids = sorted({p.id for r in results for p in r.people})
            spans = []
            for pid in ids:
                seen = [r.index for r in results if any(p.id == pid for p in r.people)]
                spans.append(f"id {pid}: frames {seen[0]}-{seen[-1]} ({len(seen)} seen)")
            print(f"input {size} {tracker:9s}: {len(ids)} ids; " + "; ".join(spans))


def bench_smoothing(args, clip) -> None:
    info = media.probe_video(clip)
    heading(f"smoothing on {clip}: jitter = mean |2nd difference| of keypoints >= 0.3 / box side")
    print(f"{'model':10s} {'raw':>8s} {'smoothed':>9s} {'cut':>6s}   {'pose-detection defaults':>24s}")
    raw_multipose = None
    for model in ("multipose", "lightning", "thunder"):
        est = PoseEstimator(model, backend=args.backend)
        raw, _ = run(est, clip, VideoQuality(smooth=False))
        if model == "multipose":
            raw_multipose = raw
        j_raw = keypoint_jitter(raw)
        j_ours = keypoint_jitter(smooth_offline(raw, info.width, info.height, DEFAULT_PARAMS))
        j_pd = keypoint_jitter(smooth_offline(raw, info.width, info.height, POSE_DETECTION_PARAMS))
        print(
            f"{model:10s} {j_raw:8.4f} {j_ours:9.4f} {1 - j_ours / j_raw:6.1%}   "
            f"{j_pd:9.4f} (cut {1 - j_pd / j_raw:5.1%})"
        )
    heading("smoothing lag (frames at the clip's rate) of a keypoint moving steadily")
    print("synthetic constant-velocity track through the filter, speed in frame sizes per second:")
    speeds = (0.01, 0.05, 0.1, 0.2, 0.5, 1.0)
    print("  speed      " + " ".join(f"{s:6g}" for s in speeds))
    for name, params in (("ours", DEFAULT_PARAMS), ("pose-det.", POSE_DETECTION_PARAMS)):
        print(f"  {name:10s} " + " ".join(f"{steady_lag(params, s, info.fps):6.2f}" for s in speeds))
    smoothed = smooth_offline(raw_multipose, info.width, info.height, DEFAULT_PARAMS)
    lag, walker, speed = person_lag(raw_multipose, smoothed)
    print(
        f"real track: mid-hip x of id {walker} (multipose), moving {speed:+.1f} px/frame "
        f"({abs(speed) * info.fps / info.width:.3f} frame widths/s): smoothed trails raw by {lag:.2f} frames"
    )
    if args.quick:
        return
    heading("smoothing parameter sweep (multipose jitter cut / synthetic lag at 0.05 and 0.2 /s)")
    from movenet_cli.settings import OneEuroParams

    j_raw = keypoint_jitter(raw_multipose)
    for min_cutoff in (2.5, 4.0, 5.0):
        cells = []
        for beta in (0, 5, 10, 20, 50, 300):
            params = OneEuroParams(min_cutoff=min_cutoff, beta=beta)
            cut = 1 - keypoint_jitter(smooth_offline(raw_multipose, info.width, info.height, params)) / j_raw
            cells.append(
                f"b={beta}: {cut:4.0%} {steady_lag(params, 0.05, info.fps):.2f}/{steady_lag(params, 0.2, info.fps):.2f}"
            )
        print(f"min_cutoff {min_cutoff}: " + "  ".join(cells))


def bench_follow_and_refine(args, clip) -> None:
    heading(f"SinglePose crop following and MultiPose refinement on {clip}")
    print("mean keypoint score, confident keypoints per person, raw jitter, frames with a person, fps")

    def line(name, results, stats):
        people = [p for r in results for p in r.people]
        kp = np.mean([p.keypoints[:, 2].mean() for p in people]) if people else float("nan")
        sure = np.mean([(p.keypoints[:, 2] >= 0.3).sum() for p in people]) if people else float("nan")
        found = sum(1 for r in results if r.people)
        print(
            f"  {name:30s} score {kp:.3f}  confident {sure:4.1f}  jitter {keypoint_jitter(results):.4f}  "
            f"found {found}/{len(results)}  {stats.fps:5.1f} fps"
        )

    for model in ("lightning", "thunder"):
        est = PoseEstimator(model, backend=args.backend)
        for follow in (False, True):
            results, stats = run(est, clip, VideoQuality(follow=follow, smooth=False))
            line(f"{model} {'following' if follow else 'whole frame'}", results, stats)
    multipose = PoseEstimator("multipose", backend=args.backend)
    plain, stats = run(multipose, clip, VideoQuality(smooth=False))
    line("multipose", plain, stats)
    for refine in ("lightning", "thunder"):
        est = PoseEstimator("multipose", backend=args.backend, refine=refine)
        results, stats = run(est, clip, VideoQuality(smooth=False))
        line(f"multipose + refine {refine}", results, stats)
    if args.quick:
        return
    print("refinement margin (thunder), on the same multipose detections:")
    frames = {f.index: f.image for f in media.iter_frames(clip)}
    thunder = PoseEstimator("thunder", backend=args.backend)
    for margin in (0.0, 0.1, 0.2, 0.3, 0.5):
        refiner = Refiner(thunder, margin)
        refined = copy.deepcopy(plain)
        for result in refined:
            result.people = refiner(frames[result.index], result.people)
        people = [p for r in refined for p in r.people]
        print(
            f"  margin {margin:<4}: score {np.mean([p.keypoints[:, 2].mean() for p in people]):.3f}  "
            f"jitter {keypoint_jitter(refined):.4f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gt", default=str(DATA / "test_coco.json"), help="COCO keypoint ground truth")
    parser.add_argument("--images", default=str(DATA), help="folder with the ground truth's images")
    parser.add_argument("--clip", action="append", default=[], help="more clips for tracking/smoothing")
    parser.add_argument("--backend", default="tflite", choices=["tflite", "tf", "auto"])
    parser.add_argument("--only", choices=["ap", "track", "smooth", "follow"], help="run one part")
    parser.add_argument("--quick", action="store_true", help="skip the parameter sweeps")
    args = parser.parse_args()
    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    print(f"movenet-cli pose quality, backend {args.backend}, {os.cpu_count()} CPUs, load average {load[0]:.2f}")
    clips = [str(CLIP)] + args.clip
    if args.only in (None, "ap"):
        bench_ap(args)
    for clip in clips:
        if args.only in (None, "track"):
            bench_tracking(args, clip)
        if args.only in (None, "smooth"):
            bench_smoothing(args, clip)
        if args.only in (None, "follow"):
            bench_follow_and_refine(args, clip)
    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    print(f"\nload average at the end {load[0]:.2f} (fps figures are only comparable on a quiet machine)")


if __name__ == "__main__":
    main()
