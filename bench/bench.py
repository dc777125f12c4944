#!/usr/bin/env python3
"""Benchmark movenet-cli on one clip: the naive per-frame loop, each stage alone, the pipeline.

``make bench`` (or ``python bench/bench.py``) measures, side by side in one run:

* the naive loop of the TF Hub MoveNet tutorial: imageio-ffmpeg read -> ``tf.image.resize_with_pad``
  -> TensorFlow model call -> draw -> imageio-ffmpeg write, one frame after the other;
* each stage of the pipeline alone: decode (+letterbox), inference per backend, draw (+JSON/CSV),
  encode;
* ``movenet video`` with the annotated MP4 and with ``--no-video``, and peak memory on the clip
  and on a 4x longer one;
* SinglePose Lightning with ``--no-video``, encoder presets, ``--batch-size``/``--threads``,
  and the start-up time of ``movenet image``;
* the RGB way (every frame converted to RGB and back) against the YUV way (frames kept as yuv420p
  planes, see ``movenet_cli/media/yuv.py``), stage by stage and as ``movenet video`` with
  ``MOVENET_FRAMES=rgb`` and without, reported as medians of the rounds; and the peak memory of
  the process tree on a 4K clip, both ways;
* ``--accuracy high`` on video, video-native and per frame (``MOVENET_VIDEO_HIGH=frame``): fps, CPU,
  whole-process wall and CPU against ``standard``, and how far video-native's keypoints are from
  per-frame high's (:func:`movenet_cli.temporal.high.agreement`);
* a CPU profile of ``movenet video`` (``bench/profile_video.py``: every thread by its own CPU clock);

then prints a table and writes ``bench/REPORT.md``. The clip is the 1768x994 ``demo.mp4`` of the
``sports2d`` package (BSD-3-Clause), fetched once with ``pip download`` into ``--cache``; without
network the bench falls back to the sample clip, looped.

Every measurement runs once per round and the fastest of ``--reps`` rounds is kept (other work on
the machine only ever slows a run down; rounds spread any change in that load over all of them).
CPU times are user+system of this process and its finished children (ffmpeg), so they stay
meaningful on a busy machine. The report records how busy the machine was.

Example::

    python bench/bench.py --reps 3 --report /tmp/REPORT.md
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import os
import platform
import re
import resource
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # measure this checkout, installed or not

import numpy as np  # noqa: E402

from movenet_cli import PoseEstimator, media  # noqa: E402
from movenet_cli.media.yuv import colour_table, plane_filter  # noqa: E402
from movenet_cli.models.store import cache_dir  # noqa: E402
from movenet_cli.render.draw import draw_poses  # noqa: E402
from movenet_cli.render.draw_yuv import draw_poses_yuv  # noqa: E402
from movenet_cli.types import FrameResult, Pose  # noqa: E402
from movenet_cli.util.system import default_threads, encoder_threads  # noqa: E402
from movenet_cli.pipeline.outputs import Outputs, OutputSet, open_sinks  # noqa: E402
from movenet_cli.pose.letterbox import letterbox, letterbox_samples  # noqa: E402
from movenet_cli.settings import VideoQuality  # noqa: E402
from movenet_cli.temporal import FrameProcessor  # noqa: E402

S2D_REQUIREMENT = "sports2d==0.8.34"
S2D_MEMBER = "Sports2D/Demo/demo.mp4"
S2D_SHA256 = "d9a66417185647b112304b57093f0c180f37a768e6a14daca75ca541f3b78039"
SAMPLE_CLIP = ROOT / "sample_media" / "demo_clip.mp4"
SAMPLE_IMAGE = ROOT / "sample_media" / "person.jpg"
POOL = 48  # decoded frames kept in memory for the draw and encode stages

# -- measuring ---------------------------------------------------------------------------------


def _cpu() -> float:
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


@dataclasses.dataclass
class Timing:
    """The best of the runs of one measurement (other work on the machine only slows a run down)."""

    name: str
    frames: int
    wall: float
    cpu: float
    walls: list[float] = dataclasses.field(default_factory=list)

    @property
    def fps(self) -> float:
        return self.frames / self.wall if self.wall else 0.0

    @property
    def cpu_ms(self) -> float:
        """CPU milliseconds per frame (all threads and ffmpeg children)."""
        return 1000 * self.cpu / self.frames if self.frames else 0.0

    @property
    def spread(self) -> float:
        """Slowest run over fastest run, minus one: how noisy the repeats were."""
        return max(self.walls) / min(self.walls) - 1 if self.walls else 0.0


class Results(dict):
    """Timings by key; adding a run keeps the fastest and remembers every run (``rounds``, for medians)."""

    def __init__(self) -> None:
        super().__init__()
        self.rounds: dict[str, list[Timing]] = {}

    def add(self, key: str, run: Timing) -> Timing:
        best = self.get(key)
        walls = (best.walls if best else []) + [run.wall]
        if best is None or run.wall < best.wall:
            best = self[key] = run
        best.walls = walls
        print(f"  {run.name:72s} {run.fps:7.1f} fps  {run.cpu_ms:6.1f} ms CPU/frame", flush=True)
        self.rounds.setdefault(key, []).append(run)
        return best


    def median(self, key: str) -> tuple[float, float, float]:
        """Median fps, CPU ms per frame and wall seconds of a measurement's rounds."""
        runs = self.rounds[key]
        return (float(np.median([t.fps for t in runs])), float(np.median([t.cpu_ms for t in runs])),
                float(np.median([t.wall for t in runs])))  # fmt: skip


def timed(name: str, fn: Callable[[], int]) -> Timing:
    """One run of ``fn``, which returns the number of frames it handled."""
    c0, t0 = _cpu(), time.perf_counter()
    frames = fn()
    return Timing(name, frames, time.perf_counter() - t0, _cpu() - c0)


_CHILD = """
import resource, sys
rss_file = sys.argv[1]
sys.argv = ["movenet"] + sys.argv[2:]
from movenet_cli.cli import main
try:
    main()
finally:
    # VmHWM: this process's own peak (ru_maxrss would count what the parent had when it forked us).
    peak = [l.split()[1] for l in open("/proc/self/status") if l.startswith("VmHWM:")] if sys.platform == "linux" else []
    with open(rss_file, "w") as fh:
        fh.write(peak[0] if peak else str(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))
"""
_SUMMARY = re.compile(r"(\d+) frames in ([\d.]+) s \(([\d.]+) fps\)")


def run_cli(args: list, tmp: Path, extra_env: dict | None = None) -> dict:
    """Run ``movenet ARGS`` in a child process: its own summary line, wall time, CPU and peak RSS."""
    rss_file = tmp / "rss.txt"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    env.update(extra_env or {})
    c0, t0 = _cpu(), time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, str(rss_file), *map(str, args)], env=env, capture_output=True, text=True
    )
    wall, cpu = time.perf_counter() - t0, _cpu() - c0
    if proc.returncode != 0:
        raise SystemExit(f"movenet {' '.join(map(str, args))} failed:\n{proc.stderr[-2000:]}")
    found = _SUMMARY.findall(proc.stderr.replace("\r", "\n"))
    # frames / fps: the line rounds the seconds to 0.1, too coarse for a one-second run.
    frames, seconds = (int(found[-1][0]), int(found[-1][0]) / float(found[-1][2])) if found else (0, wall)
    return {"frames": frames, "seconds": seconds, "wall": wall, "cpu": cpu, "rss_mb": int(rss_file.read_text()) / 1024}


class Cli:
    """Runs of ``movenet video`` commands, timed by the command's own summary line: the run itself,
    without Python start-up and model loading, as for the stages alone. The CPU time of a one-frame
    run of the same command (start-up, model loading) is taken off its CPU time."""

    def __init__(self, tmp: Path, fps: float):
        self.tmp, self.fps = tmp, fps
        self.fixed: dict[str, float] = {}
        self.last: dict = {}

    def __call__(self, name: str, args: list, env: dict | None = None) -> Timing:
        if name not in self.fixed:
            self.fixed[name] = run_cli([*args, "--end", f"{0.5 / self.fps:.6f}"], self.tmp, env)["cpu"]
        run = self.last = run_cli(args, self.tmp, env)
        return Timing(name, run["frames"], run["seconds"], max(0.0, run["cpu"] - self.fixed[name]))


# -- inputs ------------------------------------------------------------------------------------


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def bench_clip(cache: Path) -> tuple[Path, str]:
    """The 1768x994 Sports2D demo clip (fetched once), else the sample clip looped to ~9 s."""
    cache.mkdir(parents=True, exist_ok=True)
    target = cache / "sports2d-demo.mp4"
    if target.is_file() and _sha256(target) == S2D_SHA256:
        return target, f"Sports2D demo.mp4 from `pip download {S2D_REQUIREMENT}` (BSD-3-Clause)"
    try:
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run(
                [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", S2D_REQUIREMENT, "-d", tmp],
                check=True, timeout=300, capture_output=True,
            )  # fmt: skip
            wheel = next(Path(tmp).glob("sports2d-*.whl"))
            with zipfile.ZipFile(wheel) as zf:
                data = zf.read(S2D_MEMBER)
        if hashlib.sha256(data).hexdigest() != S2D_SHA256:
            raise ValueError("unexpected SHA-256")
        partial = target.with_suffix(".partial")
        partial.write_bytes(data)
        os.replace(partial, target)
        return target, f"Sports2D demo.mp4 from `pip download {S2D_REQUIREMENT}` (BSD-3-Clause)"
    except Exception as exc:  # no network, no pip: measure on what the checkout has
        print(f"bench: cannot fetch the Sports2D clip ({exc}); using {SAMPLE_CLIP.name} looped", file=sys.stderr)
        looped = cache / "sample-loop3.mp4"
        if not looped.is_file():
            _loop(SAMPLE_CLIP, looped, 3)
        return looped, f"{SAMPLE_CLIP.relative_to(ROOT)} looped 3x (the Sports2D clip could not be fetched)"


def _loop(src: Path, dst: Path, times: int) -> None:
    partial = dst.with_name(dst.stem + ".partial.mp4")
    subprocess.run(
        [media.ffmpeg_exe(), "-v", "error", "-y", "-stream_loop", str(times - 1), "-i", str(src),
         "-map", "0", "-c", "copy", str(partial)],
        check=True,
    )  # fmt: skip
    os.replace(partial, dst)


# -- the stages alone --------------------------------------------------------------------------


def stage_decode(clip: Path, est: PoseEstimator, pixels: bool = False) -> Callable[[], int]:
    """What the pipeline's decoder thread does: decode to RGB and letterbox; with ``pixels`` (as
    for ``--no-video``) ffmpeg hands over only the pixels the resize reads."""
    info = media.probe_video(clip)
    box = est.plan(info.height, info.width)
    grid = box.samples()

    def run() -> int:
        n = 0
        if pixels:
            for frame in media.iter_frames(clip, pixels=(grid.rows, grid.cols)):
                letterbox_samples(frame.image, grid, box)
                n += 1
        else:
            for frame in media.iter_frames(clip):
                est.preprocess(frame.image, box)
                n += 1
        return n

    return run


def stage_infer(est: PoseEstimator, tensors: np.ndarray, box, frames: int) -> Callable[[], int]:
    """What the pipeline's inference thread does: model calls on batches of ``est.batch_size``
    frames, then each frame's people in order (decoding, tracking, smoothing)."""
    size = est.batch_size

    def run() -> int:
        process = FrameProcessor(VideoQuality(), est, box.src_w, box.src_h)
        for start in range(0, frames, size):
            picks = [(start + k) % len(tensors) for k in range(min(size, frames - start))]
            found = process.estimate([tensors[k] for k in picks], list(tensors[picks]), box)
            for j, people in enumerate(found):
                process.track(people, (start + j) / 30)  # times in order, as in a video
        return frames

    return run


def stage_draw(pool: list[np.ndarray], poses: list[list[Pose]], est, frames: int, tmp: Path) -> Callable[[], int]:
    """What the writer thread does besides encoding: draw in place, append to the JSON and CSV."""
    h, w = pool[0].shape[:2]
    source = {"path": "bench", "width": w, "height": h, "fps": 30.0, "rotation": 0}

    def run() -> int:
        with OutputSet() as outs:
            sinks = open_sinks(outs, Outputs(None, tmp / "draw.json", tmp / "draw.csv"), source, {})
            for i in range(frames):
                k = _pingpong(i, len(pool))
                draw_poses(pool[k], poses[k], threshold=est.threshold, show_ids=True, inplace=True)
                for sink in sinks:
                    sink.add(FrameResult(i, i / 30, poses[k]))
        return frames

    return run


def stage_encode(pool: list[np.ndarray], fps: float, frames: int, preset: str, tmp: Path) -> Callable[[], int]:
    """The encoder alone: annotated frames piped into ffmpeg/libx264 (the pool played back and forth)."""
    h, w = pool[0].shape[:2]

    def run() -> int:
        with media.VideoWriter(tmp / f"encode-{preset}.mp4", w, h, fps, preset=preset, threads=encoder_threads()) as writer:
            for i in range(frames):
                writer.write(pool[_pingpong(i, len(pool))])
        return frames

    return run


def stage_decode_yuv(clip: Path, est: PoseEstimator, table) -> Callable[[], int]:
    """The decoder thread the YUV way: yuv420p frames, the model input built from the planes."""
    info = media.probe_video(clip)
    box = est.plan(info.height, info.width)

    def run() -> int:
        n = 0
        for frame in media.iter_frames(clip, yuv=True, table=table):
            letterbox(frame.image, box)
            n += 1
        return n

    return run


def stage_draw_only(pool: list, poses: list[list[Pose]], est, frames: int) -> Callable[[], int]:
    """Drawing alone, on RGB frames or on YUV planes (whichever the pool holds), in place."""
    planes = not isinstance(pool[0], np.ndarray)

    def run() -> int:
        for i in range(frames):
            k = _pingpong(i, len(pool))
            if planes:
                draw_poses_yuv(pool[k], poses[k], threshold=est.threshold, show_ids=True)
            else:
                draw_poses(pool[k], poses[k], threshold=est.threshold, show_ids=True, inplace=True)
        return frames

    return run


def stage_encode_yuv(pool: list, fps: float, frames: int, preset: str, tmp: Path) -> Callable[[], int]:
    """The encoder alone, taking yuv420p planes (no colour conversion)."""
    w, h = pool[0].width, pool[0].height

    def run() -> int:
        with media.VideoWriter(tmp / f"encode-yuv-{preset}.mp4", w, h, fps, preset=preset, pix_fmt="yuv420p",
                               threads=encoder_threads()) as writer:
            for i in range(frames):
                writer.write(pool[_pingpong(i, len(pool))])
        return frames

    return run


def _pingpong(i: int, n: int) -> int:
    i %= 2 * n - 2 if n > 1 else 1
    return i if i < n else 2 * n - 2 - i


# -- the naive loop ----------------------------------------------------------------------------


def naive_process(name: str, clip: Path, out: Path, extra: dict) -> Timing:
    """The naive loop as a program of its own: its frames timed inside (as the stages are), and
    the whole process (Python, TensorFlow's import, model loading, the frames) timed around it,
    kept in ``extra["naive_walls"]``."""
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, __file__, "--naive-child", str(clip), str(out)], capture_output=True,
                          text=True, check=True)  # fmt: skip
    extra.setdefault("naive_walls", []).append(time.perf_counter() - t0)
    run = json.loads(done.stdout.strip().splitlines()[-1])
    return Timing(name, run["frames"], run["wall"], run["cpu"])


def naive_loop(clip: Path, est: PoseEstimator, out: Path, preset: str | None = None) -> Callable[[], int]:
    """The TF Hub tutorial's loop, one frame after the other: imageio-ffmpeg read, ``resize_with_pad``,
    TensorFlow model call, draw, imageio-ffmpeg write. Without ``preset`` the writer keeps
    imageio-ffmpeg's defaults, as such code usually does (libx264 at its default preset ``medium``,
    quality 5 = crf 25, sizes rounded up to multiples of 16); with ``preset`` it encodes like
    ``movenet video`` (crf 23, no rescale), to compare the loops alone. It draws with movenet-cli's
    drawing (the tutorial's matplotlib drawing would be far slower)."""
    import logging

    import imageio_ffmpeg

    from movenet_cli.models._tf import tensorflow

    logging.getLogger("imageio_ffmpeg").setLevel(logging.ERROR)  # the multiple-of-16 rescale warning
    tf = tensorflow()
    model = tf.saved_model.load(str(est.store.path("multipose"))).signatures["serving_default"]
    info = media.probe_video(clip)
    in_h, in_w = est.input_shape(info.height, info.width)
    model(input=tf.zeros((1, in_h, in_w, 3), tf.int32))  # load and trace outside the timing
    encoding = {} if preset is None else {
        "quality": None, "macro_block_size": 2, "output_params": ["-preset", preset, "-crf", "23"]
    }  # fmt: skip

    def run() -> int:
        reader = imageio_ffmpeg.read_frames(str(clip))
        meta = next(reader)
        width, height = meta["size"]
        writer = imageio_ffmpeg.write_frames(str(out), (width, height), fps=meta["fps"], ffmpeg_log_level="error", **encoding)
        writer.send(None)
        scale = min(in_h / height, in_w / width)
        pad_x, pad_y = (in_w - width * scale) / 2, (in_h - height * scale) / 2
        n = 0
        for buf in reader:
            frame = np.frombuffer(buf, np.uint8).reshape(height, width, 3)
            image = tf.image.resize_with_pad(tf.expand_dims(frame, 0), in_h, in_w)
            rows = model(input=tf.cast(image, tf.int32))["output_0"].numpy().reshape(-1, 56)
            people = []
            for row in rows[rows[:, 55] >= est.min_pose_score]:
                kp = row[:51].reshape(17, 3)
                xy = np.stack([(kp[:, 1] * in_w - pad_x) / scale, (kp[:, 0] * in_h - pad_y) / scale, kp[:, 2]], 1)
                box = ((row[52] * in_w - pad_x) / scale, (row[51] * in_h - pad_y) / scale, 0.0, 0.0)
                people.append(Pose(xy, float(row[55]), box, len(people) + 1))
            writer.send(draw_poses(frame, people, threshold=est.threshold, show_ids=True))
            n += 1
        writer.close()
        return n

    return run


# -- the machine -------------------------------------------------------------------------------


def machine() -> dict:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        mem = next(int(l.split()[1]) for l in Path("/proc/meminfo").read_text().splitlines() if l.startswith("MemTotal"))
        mem_gb = f"{mem / 1024 / 1024:.1f} GiB"
    except (OSError, StopIteration):
        mem_gb = "?"
    versions = {}
    for module in ("numpy", "ai_edge_litert", "PIL", "imageio_ffmpeg"):
        try:
            from importlib.metadata import version

            versions[module] = version({"ai_edge_litert": "ai-edge-litert", "PIL": "pillow"}.get(module, module))
        except Exception:
            versions[module] = "?"
    import imageio_ffmpeg

    return {
        "cpu": cpu,
        "cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "memory": mem_gb,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "ffmpeg": imageio_ffmpeg.get_ffmpeg_version(),
        **versions,
    }


def busy_fraction(seconds: float = 2.0) -> float | None:
    """Share of the machine's CPU time used by other work while this process sleeps (Linux)."""

    def sample():
        fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
        idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
        return sum(fields[:8]), idle

    try:
        total0, idle0 = sample()
        time.sleep(seconds)
        total1, idle1 = sample()
    except (OSError, ValueError, IndexError):
        return None
    return 1 - (idle1 - idle0) / max(1, total1 - total0)


# -- the run -----------------------------------------------------------------------------------


def cli_default(option: str):
    """The default of a ``movenet video`` option, so the bench follows the command."""
    from movenet_cli.cli import video

    return next(p.default for p in video.params if p.name == option)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clip", type=Path, help="video to measure on (default: the Sports2D demo clip)")
    parser.add_argument("--reps", type=int, default=3,
                        help="rounds of every measurement; the best is kept, and the median [3]")  # fmt: skip
    parser.add_argument("--quick", action="store_true", help="skip TensorFlow inference, presets and option sweeps")
    parser.add_argument("--cache", type=Path, default=Path(os.environ.get("XDG_CACHE_HOME", "~/.cache")) / "movenet-bench",
                        help="where the downloaded and looped clips are kept")  # fmt: skip
    parser.add_argument("--report", type=Path, default=ROOT / "bench" / "REPORT.md")
    parser.add_argument("--naive-child", nargs=2, type=Path, metavar=("CLIP", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.naive_child:  # one whole naive run in this process; its frames' own timing on stdout
        clip, out = args.naive_child
        timing = timed("naive", naive_loop(clip, PoseEstimator("multipose"), out))
        print(json.dumps({"frames": timing.frames, "wall": timing.wall, "cpu": timing.cpu}))
        return 0
    cache = args.cache.expanduser()
    started = time.perf_counter()
    env = {"load": [os.getloadavg()[0]], "busy": [busy_fraction()]}

    if args.clip:
        clip, clip_note = args.clip, str(args.clip)
    else:
        clip, clip_note = bench_clip(cache)
    long_clip = cache / f"{clip.stem}-x4.mp4"
    if not long_clip.is_file():
        _loop(clip, long_clip, 4)
    info = media.probe_video(clip)
    mach = machine()
    cores = mach["cores"]
    preset = cli_default("preset")
    print(f"bench: {clip} ({info.width}x{info.height} {info.codec}, {info.fps:g} fps), {cores} cores, "
          f"{args.reps} rounds", flush=True)  # fmt: skip

    r = Results()
    extra: dict = {"preset": preset, "mp4_bytes": {}}
    with tempfile.TemporaryDirectory(prefix="movenet-bench-") as tmp_name:
        tmp = Path(tmp_name)
        # The runners the commands make (backend auto): one single-threaded interpreter per frame,
        # on every core for --no-video and on one core fewer while an MP4 is encoded.
        threads, encoding_threads = default_threads(encoding=False), default_threads(encoding=True)
        est = PoseEstimator("multipose", threads=threads, batch_size=threads)
        est_enc = PoseEstimator("multipose", threads=encoding_threads, batch_size=encoding_threads)
        est_one = PoseEstimator("multipose", threads=threads)  # --batch-size 1: one interpreter, every thread
        est_tf = None if args.quick else PoseEstimator("multipose", backend="tf")
        box = est.plan(info.height, info.width)
        extra.update(input_shape=(box.in_h, box.in_w), backend=est.backend, threads=threads,
                     encoding_threads=encoding_threads)  # fmt: skip
        naive_same = None if args.quick else naive_loop(clip, est, tmp / "naive-same.mp4", preset)
        frames = sum(1 for _ in media.iter_frames(clip))
        pool, tensors, poses = [], [], []
        for frame in media.iter_frames(clip, end=POOL / info.fps):
            pool.append(frame.image)
            tensors.append(est.preprocess(frame.image, box)[0])
            poses.append(est(frame.image))
        tensors = np.stack(tensors)
        table = colour_table(cache=cache_dir() / "colour") if plane_filter(info) is not None else None
        planes = [f.image for f in media.iter_frames(clip, end=POOL / info.fps, yuv=True)] if table else []
        if est_tf is not None:
            est_tf.infer(tensors[:1])  # load and trace outside the timing
        cli = Cli(tmp, info.fps)
        out = tmp / "out.mp4"
        video = ["video", clip, "-o", out, "--overwrite"]
        light = ["video", clip, "--no-video", "--json", tmp / "l.json", "--csv", tmp / "l.csv", "-m", "lightning", "--overwrite"]

        # Every round runs every measurement, so a change in the machine's load hits them all alike.
        for round_ in range(1, args.reps + 1):
            print(f"round {round_} of {args.reps}", flush=True)
            r.add("naive", naive_process("naive loop: TF, imageio-ffmpeg writer defaults (libx264 medium, crf 25)",
                                         clip, tmp / "naive.mp4", extra))
            if naive_same is not None:
                r.add("naive_same", timed(f"naive loop: TF, encoding like movenet (libx264 {preset}, crf 23)", naive_same))
            r.add("decode", timed("stage alone: decode + letterbox", stage_decode(clip, est)))
            r.add("decode_pixels", timed("stage alone: decode the resize's pixels + letterbox", stage_decode(clip, est, True)))
            r.add("infer", timed(f"stage alone: inference, {est.backend}, {_workers(est)}", stage_infer(est, tensors, box, frames)))
            if encoding_threads != threads:
                r.add("infer_enc", timed(f"stage alone: inference, {est.backend}, {_workers(est_enc)}",
                                         stage_infer(est_enc, tensors, box, frames)))  # fmt: skip
            if threads > 1:
                r.add("infer_one", timed(f"stage alone: inference, {est.backend}, {_workers(est_one)}",
                                         stage_infer(est_one, tensors, box, frames)))  # fmt: skip
            if est_tf is not None:
                r.add("infer_tf", timed("stage alone: inference, tf", stage_infer(est_tf, tensors, box, frames)))
            r.add("draw", timed("stage alone: draw + JSON/CSV", stage_draw(pool, poses, est, frames, tmp)))
            r.add("encode", timed(f"stage alone: encode (libx264 {preset})", stage_encode(pool, info.fps, frames, preset, tmp)))
            if table is not None:
                _rgb_and_yuv_stages(r, clip, est, table, pool, planes, poses, frames, info.fps, preset, tmp)
                video_rgb = ["video", clip, "-o", tmp / "out-rgb.mp4", "--overwrite"]
                r.add("video_rgb", cli("movenet video, RGB frames (MOVENET_FRAMES=rgb)", video_rgb, {"MOVENET_FRAMES": "rgb"}))
                extra["video_rgb_wall"] = extra.get("video_rgb_wall", []) + [cli.last["wall"]]
            r.add("video", cli("movenet video (MP4+JSON+CSV)", video))
            extra["video_wall"] = extra.get("video_wall", []) + [cli.last["wall"]]
            extra.setdefault("whole", {}).setdefault("video", []).append(cli.last)
            _high_rows(r, cli, extra, clip, tmp)
            # The peak depends on how full the queues happen to run, so keep the highest of the rounds.
            extra["rss_short"] = max(extra.get("rss_short", 0), cli.last["rss_mb"])
            extra["mp4_bytes"][preset] = out.stat().st_size
            r.add("no_video", cli("movenet video --no-video (JSON+CSV)", video + ["--no-video"]))
            r.add("lightning", cli("movenet video -m lightning --no-video", light))
            r.add("lightning_whole", cli("movenet video -m lightning --no-video --no-follow", light + ["--no-follow"]))
            if clip.resolve() != SAMPLE_CLIP.resolve():
                r.add("lightning_sample", cli(f"the same on {SAMPLE_CLIP.name} (960x540 H.264, 90 frames)", [light[0], SAMPLE_CLIP, *light[2:]]))
            if args.quick:
                continue
            for other in ("veryfast", "superfast", "ultrafast"):
                if other != preset:
                    r.add(f"opt_preset_{other}", cli(f"movenet video --preset {other}", video + ["--preset", other]))
                    extra["mp4_bytes"][other] = out.stat().st_size
            if cores > 1:
                r.add("opt_threads_video", cli(f"movenet video --threads {cores}", video + ["--threads", cores]))
                r.add("opt_batch_data", cli("movenet video --no-video --batch-size 1", video + ["--no-video", "--batch-size", 1]))
        del pool

        extra["high_agreement"] = _high_agreement(tmp)
        print(f"  --accuracy high, video-native against per-frame: {extra['high_agreement']}", flush=True)
        print("profile", flush=True)
        extra["profile"] = profile_table(clip)
        print("memory and start-up", flush=True)
        if table is not None:
            extra["agreement"] = agreement(tmp / "out-rgb.json", tmp / "out.json", info)
            print(f"  keypoints, YUV way against RGB way: {extra['agreement']}", flush=True)
            extra["memory_4k"] = memory_4k(tmp)
        long_run = run_cli(["video", long_clip, "-o", tmp / "long.mp4", "--overwrite"], tmp)
        extra["rss_long"], extra["long_frames"] = long_run["rss_mb"], long_run["frames"]
        print(f"  peak RSS {extra['rss_short']:.0f} MB ({r['video'].frames} frames), "
              f"{extra['rss_long']:.0f} MB ({long_run['frames']} frames)", flush=True)  # fmt: skip
        extra["startup"] = {}
        for label, argv in (
            ("movenet --help", ["--help"]),
            ("movenet models list", ["models", "list"]),
            ("movenet image person.jpg -o out.jpg", ["image", SAMPLE_IMAGE, "-o", tmp / "person.jpg", "--overwrite"]),
        ):
            walls = [run_cli(argv, tmp)["wall"] for _ in range(3)]
            extra["startup"][label] = min(walls)
            print(f"  {label:72s} {min(walls):7.2f} s wall (best of {len(walls)})", flush=True)

    extra["elapsed"] = time.perf_counter() - started
    env["load"].append(os.getloadavg()[0])
    env["busy"].append(busy_fraction())
    report = build_report(r, extra, env, mach, clip_note, info, args.reps)
    print()
    print(report)
    args.report.parent.mkdir(parents=True, exist_ok=True)
    args.report.write_text(report)
    print(f"bench: wrote {args.report} in {extra['elapsed']:.0f} s")
    return 0


def _rgb_and_yuv_stages(r: Results, clip, est, table, pool, planes, poses, frames, fps, preset, tmp) -> None:
    """One round of the stages alone, the RGB way and the YUV way, side by side."""
    r.add("way_decode_rgb", timed("RGB way: decode rgb24 + letterbox", stage_decode(clip, est)))
    r.add("way_decode_yuv", timed("YUV way: decode yuv420p + letterbox from the planes", stage_decode_yuv(clip, est, table)))
    r.add("way_draw_rgb", timed("RGB way: draw on RGB crops", stage_draw_only(pool, poses, est, frames)))
    r.add("way_draw_yuv", timed("YUV way: draw on the planes", stage_draw_only(planes, poses, est, frames)))
    r.add("way_encode_rgb", timed(f"RGB way: encode from rgb24 (libx264 {preset})", stage_encode(pool, fps, frames, preset, tmp)))
    r.add("way_encode_yuv", timed(f"YUV way: encode from yuv420p (libx264 {preset})",
                                  stage_encode_yuv(planes, fps, frames, preset, tmp)))  # fmt: skip


HIGH_ROWS = {  # key: (name, extra environment)
    "high": ("movenet video --accuracy high (video-native, Lightning between detections)", {}),
    "high_thunder": ("movenet video --accuracy high, Thunder between (MOVENET_VIDEO_HIGH=thunder)",
                     {"MOVENET_VIDEO_HIGH": "thunder"}),
    "high_frame": ("movenet video --accuracy high, per frame (MOVENET_VIDEO_HIGH=frame)", {"MOVENET_VIDEO_HIGH": "frame"}),
}


def _high_rows(r: Results, cli: Cli, extra: dict, clip: Path, tmp: Path) -> None:
    """One round of ``--accuracy high`` on video, video-native and per frame (MP4+JSON+CSV)."""
    for key, (name, env) in HIGH_ROWS.items():
        r.add(key, cli(name, ["video", clip, "-o", tmp / f"{key}.mp4", "--accuracy", "high", "--overwrite"], env))
        extra["whole"].setdefault(key, []).append(cli.last)


def _high_agreement(tmp: Path) -> dict:
    """Video-native high's people against per-frame high's, and standard's (last round's JSON)."""
    from movenet_cli.results import load_result
    from movenet_cli.temporal.high import agreement as people_agreement

    def people(key: str) -> list:
        return [f.people for f in load_result(tmp / f"{key}.json").frames]

    ref = people("high_frame")
    return {"video-native": people_agreement(ref, people("high")), "thunder": people_agreement(ref, people("high_thunder")),
            "standard": people_agreement(ref, people("out"))}


def profile_table(clip: Path) -> str:
    """bench/profile_video.py on the clip, in a child process: its Markdown table."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    run = subprocess.run([sys.executable, str(ROOT / "bench" / "profile_video.py"), str(clip)], env=env,
                         capture_output=True, text=True)
    return run.stdout.strip() if run.returncode == 0 else f"(profile failed: {run.stderr.strip()[-300:]})"


def agreement(rgb_json: Path, yuv_json: Path, info) -> str:
    """How far the keypoints of the two ways' last runs are apart, in words."""
    a, b = (json.loads(p.read_text())["frames"] for p in (rgb_json, yuv_json))
    if [f["index"] for f in a] != [f["index"] for f in b]:
        return "**different frames**"
    if any(len(f["people"]) != len(g["people"]) for f, g in zip(a, b)):
        return "**different people counts**"
    moved = [float(np.abs(np.array(p["keypoints"]) - np.array(q["keypoints"]))[:, :2].max())
             for f, g in zip(a, b) for p, q in zip(f["people"], g["people"])]  # fmt: skip
    worst = max(moved, default=0.0)
    if worst == 0:
        return f"identical on all {len(a)} frames"
    return f"same people on all {len(a)} frames, keypoints at most {worst:.2f} px apart ({worst / np.hypot(info.width, info.height):.3%} of the diagonal)"


def memory_4k(tmp: Path) -> dict:
    """Peak memory of the whole process tree of `movenet video` on a 2 s 3840x2160 clip, both ways."""
    sys.path.insert(0, str(ROOT / "bench"))
    import memory

    clip = memory.make_clip(tmp / "clip4k.mp4", 3840, 2160)
    out = {}
    for way, env in (("rgb", {"MOVENET_FRAMES": "rgb"}), ("yuv", {})):
        peak, own, wall = memory.measure(clip, tmp / f"out4k-{way}.mp4", env)
        out[way] = {"tree_mb": peak, "python_mb": own, "wall": wall}
        print(f"  4K clip, {way} way: peak {peak:.0f} MB (all processes), {own:.0f} MB (Python)", flush=True)
    return out


def _workers(est: PoseEstimator) -> str:
    """How an estimator's runner works: interpreters side by side and threads each."""
    runner = est.runner
    if not hasattr(runner, "threads"):
        return "one frame at a time"
    slots = min(est.batch_size, runner.threads)
    each = runner.threads // slots
    return f"{_n(slots, 'interpreter')} x {_n(each, 'thread')}"


def _n(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


# -- the report --------------------------------------------------------------------------------


def bounds(stages: list[Timing], cores: int) -> tuple[float, float]:
    """(stage bound, CPU-work bound) in fps: the slowest stage alone, and the summed CPU work on ``cores``."""
    return min(t.fps for t in stages), cores * 1000 / sum(t.cpu_ms for t in stages)


def build_report(r: dict[str, Timing], extra: dict, env: dict, mach: dict, clip_note: str, info, reps: int) -> str:
    cores = mach["cores"]
    naive = r["naive"]
    infer_enc = r.get("infer_enc", r["infer"])
    # `movenet video` keeps frames as planes where the clip allows: its stages are the YUV way's.
    video_stages = [r.get("way_decode_yuv", r["decode"]), infer_enc, r.get("way_draw_yuv", r["draw"]),
                    r.get("way_encode_yuv", r["encode"])]  # fmt: skip
    data_stages = [r["decode_pixels"], r["infer"], r["draw"]]
    video_bounds, data_bounds = bounds(video_stages, cores), bounds(data_stages, cores)

    def row(key: str, limits: tuple[float, float] | None = None) -> str:
        t = r[key]
        bold = "**" if limits else ""
        cells = [f"{bold}{t.name}{bold}", f"{t.fps:.1f}", f"{t.fps / naive.fps:.2f}x", f"{t.cpu_ms:.1f}", f"{t.spread:.0%}"]
        cells += [f"{t.fps / limits[0]:.0%}", f"{t.fps / limits[1]:.0%}"] if limits else ["", ""]
        return "| " + " | ".join(cells) + " |"

    in_h, in_w = extra["input_shape"]
    keys = ["naive", "naive_same", "decode", "decode_pixels", "infer", "infer_enc", "infer_one", "infer_tf", "draw", "encode"]
    lines = [
        "# movenet-cli benchmark",
        "",
        f"Written by `make bench` (`python bench/bench.py`). Clip: {clip_note}; {info.width}x{info.height} "
        f"{info.codec}, {info.fps:g} fps, {r['decode'].frames} frames. MultiPose Lightning at input {in_w}x{in_h}, "
        f"backend `auto` = `{extra['backend']}` here, x264 preset `{extra['preset']}`. Every number is the best of "
        f"{reps} rounds, each round running every measurement once; *spread* is how much longer the slowest "
        "round took.",
        "",
        "## Machine",
        "",
        f"- CPU: {mach['cpu']}, {cores} cores available to the bench; memory {mach['memory']}; {mach['os']}",
        f"- Python {mach['python']}, numpy {mach['numpy']}, ai-edge-litert {mach['ai_edge_litert']}, "
        f"Pillow {mach['PIL']}, ffmpeg {mach['ffmpeg']} (imageio-ffmpeg {mach['imageio_ffmpeg']})",
        f"- Other work on the machine: load average {env['load'][0]:.1f} before, {env['load'][1]:.1f} after; "
        f"CPU busy while the bench sat idle for 2 s: {_pct(env['busy'][0])} before, {_pct(env['busy'][1])} after. "
        f"Whole run: {extra['elapsed']:.0f} s.",
        "",
        "## Results",
        "",
        "*CPU ms/frame*: user+system time of every thread and ffmpeg process, per frame (for `movenet` commands, "
        "less the start-up and model loading of a one-frame run). *Stage bound*: the fps of the slowest stage "
        f"alone. *CPU bound*: the fps the summed CPU work of the stages allows on {cores} cores.",
        "",
        "| measurement | fps | vs naive | CPU ms/frame | spread | of stage bound | of CPU bound |",
        "|---|---:|---:|---:|---:|---:|---:|",
        *[row(k) for k in keys if k in r],
        row("video", video_bounds),
        row("no_video", data_bounds),
        *[row(k) for k in ("lightning", "lightning_whole", "lightning_sample") if k in r],
        "",
        f"Bounds of `movenet video`: stage bound {video_bounds[0]:.1f} fps; CPU bound {video_bounds[1]:.1f} fps = "
        f"{cores} cores x 1000 / ({' + '.join(f'{t.cpu_ms:.1f}' for t in video_stages)}) ms for decode, "
        f"inference ({infer_enc.name.split(', ', 1)[-1]}), draw, encode. Of `--no-video`: stage bound "
        f"{data_bounds[0]:.1f} fps; CPU bound {data_bounds[1]:.1f} fps (decode of the resize's pixels, inference "
        f"with {r['infer'].name.split(', ', 1)[-1]}, draw).",
        "",
        f"Peak RSS of `movenet video` (the Python process; ffmpeg runs beside it): {extra['rss_short']:.0f} MB for "
        f"{r['video'].frames} frames (the highest of the rounds), {extra['rss_long']:.0f} MB for the same clip looped "
        f"4x ({extra['long_frames']} frames). The frames in flight are bounded by the queues, so the peak moves by "
        "a few frames' worth with timing, not with length.",
        "",
    ]
    options = [k for k in r if k.startswith("opt_")]
    if options:
        lines += [
            "## Options",
            "",
            "Each option ran in the same rounds as the default; a difference smaller than the spreads is noise.",
            "",
            "| command | fps | vs default | CPU ms/frame | spread | MP4 |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for key in ["video", "no_video", *options]:
            t = r[key]
            base = r["no_video"] if "--no-video" in t.name else r["video"]
            preset = extra["preset"] if key == "video" else key[len("opt_preset_"):] if key.startswith("opt_preset_") else None
            size = f"{extra['mp4_bytes'][preset] / 1e6:.1f} MB" if preset else ""
            lines.append(f"| {t.name} | {t.fps:.1f} | {t.fps / base.fps:.2f}x | {t.cpu_ms:.1f} | {t.spread:.0%} | {size} |")
        lines.append("")
    lines += ["## Start-up (wall time, best of 3, warm cache)", ""]
    lines += [f"- `{label}`: {seconds:.2f} s" for label, seconds in extra["startup"].items()]
    image_s = extra["startup"]["movenet image person.jpg -o out.jpg"]
    checks = [
        ("`movenet video` fps >= 3.5x the naive loop", r["video"].fps / naive.fps, ">=", 3.5, "{:.2f}x"),
        ("`movenet video` fps >= 85% of its CPU-work bound", r["video"].fps / video_bounds[1], ">=", 0.85, "{:.0%}"),
        ("`--no-video` fps >= 90% of inference-only fps", r["no_video"].fps / r["infer"].fps, ">=", 0.90, "{:.0%}"),
        ("peak RSS for the 4x input <= 110% of the clip's", extra["rss_long"] / extra["rss_short"], "<=", 1.10, "{:.0%}"),
        ("Lightning `--no-video` >= 150 fps on the bench clip", r["lightning"].fps, ">=", 150, "{:.0f} fps"),
    ]
    if "lightning_sample" in r:
        checks.append((f"Lightning `--no-video` >= 150 fps on {SAMPLE_CLIP.name}", r["lightning_sample"].fps, ">=", 150, "{:.0f} fps"))
    checks.append(("`movenet image person.jpg -o out.jpg` < 1.5 s", image_s, "<", 1.5, "{:.2f} s"))
    lines += ["", "## Targets", "", "| target | measured | met |", "|---|---:|:---:|"]
    for label, value, op, goal, fmt in checks:
        ok = value >= goal if op == ">=" else value <= goal if op == "<=" else value < goal
        lines.append(f"| {label} | {fmt.format(value)} | {'yes' if ok else '**no**'} |")
    if "high" in r:
        lines += ["", *_high_section(r, extra)]
    if extra.get("profile"):
        lines += ["", "## Profile of `movenet video` (`python bench/profile_video.py CLIP`)", "", extra["profile"]]
    if "video_rgb" in r:
        lines += ["", *_ways_section(r, extra, cores)]
    lines += ["", "## What limits each ratio", "", *_analysis(r, extra, cores, video_stages, video_bounds, data_bounds)]
    summary = {k: round(t.fps, 1) for k, t in r.items()} | {"rss_mb": [round(extra["rss_short"]), round(extra["rss_long"])]}
    lines += ["", f"Raw fps: `{json.dumps(summary)}`", ""]
    return "\n".join(lines)


def _analysis(r: dict[str, Timing], extra: dict, cores: int, video_stages, video_bounds, data_bounds) -> list[str]:
    """The arithmetic behind each target, from this run's numbers."""
    naive, video, data, infer = r["naive"], r["video"], r["no_video"], r["infer"]
    encode, decode_whole = video_stages[3], video_stages[0]
    naive_cores = naive.fps * naive.cpu_ms / 1000
    out = [
        f"- **vs the naive loop.** The naive loop is not single-threaded: ffmpeg decodes and encodes in processes "
        f"of their own and TensorFlow runs the model on every core, so it kept {naive_cores:.1f} of {cores} cores "
        f"busy at {naive.cpu_ms:.0f} ms CPU per frame. `movenet video` needs {video.cpu_ms:.0f} ms per frame "
        f"({naive.cpu_ms / video.cpu_ms:.1f}x less work), so even at its CPU bound it can only reach "
        f"{video_bounds[1] / naive.fps:.1f}x the naive fps. Encoding is the largest share "
        f"({encode.cpu_ms:.0f} ms for libx264 `{extra['preset']}`)"
        + (f"; `--preset ultrafast` ran at {r['opt_preset_ultrafast'].fps / video.fps:.2f}x the fps for "
           f"{extra['mp4_bytes']['ultrafast'] / extra['mp4_bytes'][extra['preset']]:.1f}x the file size"
           if "opt_preset_ultrafast" in r else "")
        + ". Beyond that, only a hardware encoder/decoder or more cores close the gap.",
        f"- **vs the CPU bound.** `movenet video` ran at {video.fps / video_bounds[1]:.0%} of what its summed CPU "
        f"work allows; it spent {video.cpu_ms:.0f} ms CPU per frame against {sum(t.cpu_ms for t in video_stages):.0f} "
        f"ms for the stages alone (threads and processes sharing {cores} cores cost some of it). Other work on the "
        "machine lowers this ratio directly.",
        f"- **`--no-video` vs inference alone.** Decoding takes {r['decode_pixels'].cpu_ms:.1f} ms CPU per frame "
        f"(ffmpeg decodes the whole frame and hands over only the pixels the resize reads; "
        f"{r['decode'].cpu_ms:.1f} ms with full frames) from the {infer.cpu_ms:.1f} ms/frame of inference on the same "
        f"{cores} cores, so the CPU bound of `--no-video` is {data_bounds[1]:.0f} fps = "
        f"{data_bounds[1] / infer.fps:.0%} of inference alone ({infer.fps:.0f} fps); it reached {data.fps:.0f} fps. "
        "ffmpeg's scalers would make decoding cheaper still, but they do not reproduce the reference bilinear "
        "resize (they antialias or shift the grid) and moved keypoints far beyond the agreement tolerance.",
    ]
    light = r["lightning"]
    out.append(
        f"- **Lightning `--no-video`.** SinglePose follows the person with a crop, so each frame's input depends on "
        f"the last result: frames run one at a time and are decoded in full, as planes where the clip allows "
        f"({decode_whole.cpu_ms:.1f} ms/frame with the model input). "
        f"{light.cpu_ms:.1f} ms CPU per frame on the bench clip caps it at {cores * 1000 / light.cpu_ms:.0f} fps "
        f"on {cores} cores."
        + (f" On {SAMPLE_CLIP.name} ({r['lightning_sample'].cpu_ms:.1f} ms per frame, "
           f"{cores * 1000 / r['lightning_sample'].cpu_ms:.0f} fps at most) the clip's 90 frames last well under a "
           "second, so ffmpeg's start and the first model call weigh on the result." if "lightning_sample" in r else "")
        + (f" Without crop following (`--no-follow`: the whole frame, less accurate) frames are decoded at model "
           f"size and batched: {r['lightning_whole'].fps:.0f} fps, {r['lightning_whole'].cpu_ms:.1f} ms CPU per frame, "
           "most of it decoding the source; 150 fps on this clip needs a cheaper decode (hardware or a lighter "
           "codec) or more cores." if "lightning_whole" in r else "")
    )
    return out


def _ways_section(r: Results, extra: dict, cores: int) -> list[str]:
    """RGB frames against YUV planes: the stage table, the commands, the targets (medians of the rounds)."""
    med = r.median
    infer = med("infer_enc" if "infer_enc" in r.rounds else "infer")
    lines = [
        "## RGB frames against YUV planes (medians of the rounds)",
        "",
        "The RGB way converts every decoded frame to RGB in ffmpeg (3 bytes a pixel through the pipe) and every "
        "drawn frame back to YUV in the encoder; the YUV way keeps the source's yuv420p planes from decoder to "
        "encoder and converts only the pixels the model input reads (`MOVENET_FRAMES=rgb` picks the RGB way).",
        "",
        "| stage | RGB way: CPU ms/frame | YUV way: CPU ms/frame | YUV / RGB |",
        "|---|---:|---:|---:|",
    ]
    for label, key in (("decode + model input", "decode"), ("draw", "draw"), ("encode (x264 " + extra["preset"] + ")", "encode")):
        a, b = med(f"way_{key}_rgb")[1], med(f"way_{key}_yuv")[1]
        lines.append(f"| {label} | {a:.1f} | {b:.1f} | {b / a:.2f} |")
    lines.append(f"| model (MultiPose, same both ways) | {infer[1]:.1f} | {infer[1]:.1f} | 1.00 |")
    rgb, yuv, naive = med("video_rgb"), med("video"), med("naive")
    rgb_wall, yuv_wall = float(np.median(extra["video_rgb_wall"])), float(np.median(extra["video_wall"]))
    naive_wall = float(np.median(extra["naive_walls"]))
    lines += [
        "",
        "| `movenet video` (MP4+JSON+CSV) | fps | CPU ms/frame | whole process, wall s |",
        "|---|---:|---:|---:|",
        f"| RGB frames (`MOVENET_FRAMES=rgb`) | {rgb[0]:.1f} | {rgb[1]:.1f} | {rgb_wall:.1f} |",
        f"| YUV planes (default) | {yuv[0]:.1f} | {yuv[1]:.1f} | {yuv_wall:.1f} |",
        f"| naive loop (fps and CPU of its frames; wall: the whole program with TensorFlow's start-up) | {naive[0]:.1f} "
        f"| {naive[1]:.1f} | {naive_wall:.1f} |",
        "",
    ]
    lines += [f"Keypoints of the YUV way against the RGB way on this clip (last round): {extra['agreement']}.", ""]
    mem = extra.get("memory_4k")
    if mem:
        lines += [
            f"Peak memory on a 2 s 3840x2160 clip (the sample clip scaled), all processes: {mem['rgb']['tree_mb']:.0f} MB "
            f"the RGB way, {mem['yuv']['tree_mb']:.0f} MB the YUV way (Python process alone: {mem['rgb']['python_mb']:.0f} "
            f"and {mem['yuv']['python_mb']:.0f} MB).",
            "",
        ]
    checks = [
        ("CPU per frame <= 47 ms", yuv[1], yuv[1] <= 47, "{:.1f} ms"),
        ("fps >= 1.2x the RGB way in the same run", yuv[0] / rgb[0], yuv[0] / rgb[0] >= 1.2, "{:.2f}x"),
        ("whole-process wall >= 3.2x faster than the naive loop", naive_wall / yuv_wall, naive_wall / yuv_wall >= 3.2, "{:.2f}x"),
    ]
    lines += ["| target (YUV way) | measured | met |", "|---|---:|:---:|"]
    lines += [f"| {label} | {fmt.format(value)} | {'yes' if ok else '**no**'} |" for label, value, ok, fmt in checks]
    naive_cores = naive[0] * naive[1] / 1000
    stages = [med("way_decode_yuv")[1], infer[1], med("way_draw_yuv")[1], med("way_encode_yuv")[1]]
    frames = r["video"].frames
    startup = max(0.0, yuv_wall - frames / yuv[0])  # the whole run less its frames: start-up and the mux
    naive_startup = max(0.0, naive_wall - frames / naive[0])
    wanted_wall = naive_wall / 3.2
    wanted_cpu = cores * 1000 * max(0.0, wanted_wall - startup) / frames
    rest = yuv[1] - infer[1] - med("way_encode_yuv")[1]
    lines += [
        "",
        f"CPU per frame: the YUV way's stages alone add up to {sum(stages):.1f} ms "
        f"({' + '.join(f'{v:.1f}' for v in stages)} for decode with the model input, model, draw, encode); "
        f"`movenet video` spent {yuv[1]:.1f} with JSON/CSV, tracking, smoothing and the threads' hand-offs. The model "
        f"({infer[1]:.1f} ms: one single-threaded float32 XNNPACK interpreter, the least CPU a frame it takes here; "
        "about 2 ms of it is the graph's own post-processing) and x264 "
        f"({med('way_encode_yuv')[1]:.1f} ms at `{extra['preset']}`, one thread) leave {rest:.1f} ms for everything "
        "else, of which decoding the VP9 clip is the largest part. 47 ms needs a cheaper model or encode: "
        "`--preset superfast`/`ultrafast` (see Options), a hardware encoder, or the post-processing outside the "
        "graph.",
        "",
        f"Wall time: the naive program took {naive_wall:.1f} s, {naive_startup:.1f} s of it TensorFlow's import and "
        f"model loading, and {frames / naive[0]:.1f} s for its frames at {naive[1]:.0f} ms CPU a frame with "
        f"{naive_cores:.1f} of {cores} cores busy (ffmpeg and TensorFlow run threads of their own). `movenet video` "
        f"took {yuv_wall:.1f} s, {startup:.1f} s of it start-up and muxing. 3.2x means {wanted_wall:.1f} s, which "
        f"leaves its frames {cores} cores x {max(0.0, wanted_wall - startup):.1f} s = {wanted_cpu:.0f} ms CPU a frame "
        f"even with both cores busy all the time; it needs {yuv[1]:.0f}. The same cheaper model or encode would "
        "close it, or more cores.",
    ]
    return lines


def _high_section(r: Results, extra: dict) -> list[str]:
    """``--accuracy high`` on video: cost against ``standard`` and agreement with per-frame high (medians)."""
    whole = {k: (float(np.median([run["wall"] for run in runs])), float(np.median([run["cpu"] for run in runs])))
             for k, runs in extra["whole"].items()}  # fmt: skip
    base_wall, base_cpu = whole["video"]
    agree = extra["high_agreement"]
    lines = [
        "## `--accuracy high` on video (medians of the rounds)",
        "",
        "Video-native `high` runs per-frame high's detection (its recipe: MultiPose at 320, Thunder on each "
        "person) every 10 frames and when someone is lost, and between detections only SinglePose Lightning "
        "(or Thunder), on squares from the last boxes (`temporal/high.py`). Whole process: the command from start to exit, CPU of every thread "
        "and ffmpeg process. Agreement with per-frame `high`, on the last round's JSON (tracked and smoothed, as "
        "written): keypoints scoring >= 0.3 in both, distance over the diagonal of per-frame high's box.",
        "",
        "| `movenet video` (MP4+JSON+CSV) | fps | CPU ms/frame | whole process: wall s | CPU s | x standard (wall, CPU) "
        "| median, p95 distance | people/frame | frames with another count |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for key, label in (("video", "`standard`"), ("high", "`high`, video-native (Lightning between)"),
                       ("high_thunder", "`high`, video-native, Thunder between"), ("high_frame", "`high`, per frame")):
        fps, cpu_ms, _ = r.median(key)
        wall, cpu = whole[key]
        a = {"high": agree["video-native"], "high_thunder": agree["thunder"], "video": agree["standard"]}.get(key)
        near = f"{a['median']:.2f}%, {a['p95']:.2f}%" if a else "(reference)"
        people = f"{a['people']:.2f}" if a else f"{agree['standard']['people_ref']:.2f}"
        other = f"{a['count_differs']:.0f}%" if a else ""
        lines.append(f"| {label} | {fps:.1f} | {cpu_ms:.1f} | {wall:.1f} | {cpu:.1f} | {wall / base_wall:.2f}x, "
                     f"{cpu / base_cpu:.2f}x | {near} | {people} | {other} |")
    high_wall, high_cpu = whole["high"]
    checks = [
        ("video-native `high` whole-process wall <= 1.5x `standard`", high_wall / base_wall, 1.5, "{:.2f}x"),
        ("video-native `high` whole-process CPU <= 1.5x `standard`", high_cpu / base_cpu, 1.5, "{:.2f}x"),
        ("median distance to per-frame `high` <= 1% of the box diagonal", agree["video-native"]["median"], 1.0, "{:.2f}%"),
    ]
    lines += ["", "| target | measured | met |", "|---|---:|:---:|"]
    lines += [f"| {label} | {fmt.format(v)} | {'yes' if v <= goal else '**no**'} |" for label, v, goal, fmt in checks]
    return lines


def _pct(value: float | None) -> str:
    return "?" if value is None else f"{value:.0%}"


if __name__ == "__main__":
    sys.exit(main())
