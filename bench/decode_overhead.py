"""What exact timestamps and the decoder watch cost: a printed report, re-runnable on a quiet machine.

Decoding goes through :class:`movenet_cli.decode.FrameStream`: a demux-only pass
lists every frame's presentation time, then one ffmpeg process decodes with
``showinfo`` logging each frame's timestamp while its exit status and errors are
watched.  This compares, on the same file and the same ffmpeg:

* the timeline pass alone (``-c copy -f framecrc``);
* decoding every frame with ``media.iter_frames`` (timeline + showinfo + checks);
* decoding every frame with imageio-ffmpeg's plain reader (no timestamps, no checks),
  the way frames were read before.

Usage::

    python bench/decode_overhead.py                      # the demo clip looped to 900 frames
    python bench/decode_overhead.py VIDEO [--repeat 5]

Each measurement is repeated and reported as median (min-max) so that noise from
other work on the machine shows.  Wall time swings with the machine's load; CPU
time (this process plus its ffmpeg children) is the steadier figure for the
overhead, and the one to compare on a busy machine.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from movenet_cli import media  # noqa: E402
from movenet_cli.media.decode import read_timeline  # noqa: E402
from movenet_cli.media.ffmpeg import passthrough_args  # noqa: E402
from movenet_cli.media.probe import probe  # noqa: E402


def _timeline(path: Path) -> int:
    found = probe(path)
    timeline = read_timeline(media.ffmpeg_exe(), str(path), found.video_stream)
    return len(timeline) if timeline is not None else 0


def _frame_stream(path: Path) -> int:
    stream = media.iter_frames(path)
    n = sum(1 for _ in stream)
    assert stream.problem is None, stream.problem
    return n


def _plain_reader(path: Path) -> int:
    import imageio_ffmpeg

    found = probe(path)
    reader = imageio_ffmpeg.read_frames(
        str(path), output_params=["-map", f"0:{found.video_stream}", "-an", *passthrough_args()]
    )
    next(reader)
    return sum(1 for _ in reader)


def _cpu() -> float:
    """CPU seconds of this process and its finished children so far."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _measure(fn, path: Path, repeat: int) -> tuple[int, list[float], list[float]]:
    walls, cpus, count = [], [], 0
    for _ in range(repeat):
        started, cpu = time.perf_counter(), _cpu()
        count = fn(path)
        walls.append(time.perf_counter() - started)
        cpus.append(_cpu() - cpu)
    return count, walls, cpus


def _spread(values: list[float]) -> str:
    return f"{statistics.median(values):7.3f} ({min(values):.3f}-{max(values):.3f})"


def _looped_demo(folder: Path, frames: int) -> Path:
    out = folder / f"demo_x{frames}.mp4"
    loops = max(0, -(-frames // 90) - 1)
    subprocess.run(
        [media.ffmpeg_exe(), "-v", "error", "-stream_loop", str(loops), "-i", ROOT / "sample_media" / "demo_clip.mp4",
         "-map", "0:v", "-c", "copy", "-frames:v", str(frames), out],
        check=True,
    )  # fmt: skip
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("video", nargs="?", type=Path, help="video to decode (default: the demo clip looped)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = args.video or _looped_demo(Path(tmp), 900)
        info = media.probe_video(path)
        print(f"file: {path} ({path.stat().st_size / 1e6:.1f} MB, {info.width}x{info.height}, {info.codec})")
        print(f"ffmpeg: {media.ffmpeg_exe()}")
        rows = []
        for name, fn in (
            ("timeline pass (framecrc)", _timeline),
            ("iter_frames (timestamps + checks)", _frame_stream),
            ("imageio-ffmpeg plain reader", _plain_reader),
        ):
            rows.append((name, *_measure(fn, path, args.repeat)))
        print(f"\nmedian (min-max) of {args.repeat} runs")
        print(f"{'what':36s} {'frames':>7s} {'wall s':>22s} {'CPU s':>22s} {'frames/s':>9s}")
        for name, count, walls, cpus in rows:
            print(f"{name:36s} {count:7d} {_spread(walls):>22s} {_spread(cpus):>22s} {count / statistics.median(walls):9.1f}")
        for label, column in (("wall", 2), ("CPU", 3)):
            plain, checked = statistics.median(rows[2][column]), statistics.median(rows[1][column])
            print(f"iter_frames vs plain reader, {label} time: {100 * (checked / plain - 1):+.1f}%")
    return 0


if __name__ == "__main__":
    sys.exit(main())
