"""Peak memory of `movenet video` by frame size: the whole process tree (Python + ffmpeg children).

    python bench/memory.py                 # 540p (sample clip), 1080p and 2160p, 2 s each
    python bench/memory.py --sizes 1080    # one size

Each clip is the sample clip scaled to the size (made once in a temporary folder). The
command runs with its defaults (annotated MP4 + JSON + CSV); the resident memory of the
process and of every descendant is read from /proc ten times a second and summed; the
report prints the peak of the sum and of the Python process alone.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from movenet_cli.media import ffmpeg_exe  # noqa: E402

SIZES = {540: (960, 540), 1080: (1920, 1080), 2160: (3840, 2160)}


def tree_rss(pid: int) -> tuple[int, int]:
    """(RSS of ``pid`` and all its descendants, RSS of ``pid``) in bytes."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry))
        rss[int(entry)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        total += rss.get(p, 0)
        todo += children.get(p, [])
    return total, rss.get(pid, 0)


def measure(clip: Path, out: Path, env: dict | None = None) -> tuple[float, float, float]:
    """(peak MB of the process tree, peak MB of the Python process, wall seconds); ``env``: extra variables."""
    cmd = [sys.executable, "-m", "movenet_cli", "video", str(clip), "-o", str(out), "--overwrite", "-q"]
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=dict(os.environ, **(env or {})))
    peak = own = 0
    while proc.poll() is None:
        total, mine = tree_rss(proc.pid)
        peak, own = max(peak, total), max(own, mine)
        time.sleep(0.1)
    if proc.returncode:
        raise SystemExit(f"movenet video failed on {clip}")
    return peak / 2**20, own / 2**20, time.perf_counter() - started


def make_clip(clip: Path, width: int, height: int) -> Path:
    """The sample clip's first 2 s scaled to ``width`` x ``height`` (H.264, BT.709 like its source)."""
    subprocess.run([ffmpeg_exe(), "-v", "error", "-y", "-i", str(ROOT / "sample_media/demo_clip.mp4"),
                    "-t", "2", "-vf", f"scale={width}:{height}", "-c:v", "libx264", "-preset", "veryfast",
                    "-c:a", "copy", str(clip)], check=True)  # fmt: skip
    return clip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=sorted(SIZES), choices=sorted(SIZES))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="movenet-memory-") as tmp:
        print("| frame size | peak, all processes | peak, Python | wall |")
        print("| --- | ---: | ---: | ---: |")
        for size in args.sizes:
            w, h = SIZES[size]
            clip = make_clip(Path(tmp) / f"clip{size}.mp4", w, h)
            peak, own, wall = measure(clip, Path(tmp) / f"out{size}.mp4")
            print(f"| {w}x{h} | {peak:.0f} MB | {own:.0f} MB | {wall:.1f} s |", flush=True)


if __name__ == "__main__":
    main()
