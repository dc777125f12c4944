"""Where `movenet video` spends its CPU: every thread profiled by its own CPU time, ffmpeg beside.

Runs ``movenet video CLIP -o OUT`` in this process with :mod:`cProfile` in every thread of the
pipeline (decoder, inference, writer), each timed by that thread's own CPU clock
(:func:`time.thread_time`), so waiting on a queue or a pipe costs nothing and the model's time is
what its interpreter computes. The ffmpeg decoder and encoder run as child processes; their CPU is
the children's. Prints the split and the top functions by own CPU time (cProfile's ``tottime``),
as a Markdown table.

    python bench/profile_video.py CLIP [--top 20] [-- EXTRA MOVENET OPTIONS]
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _self_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def profile(clip: Path, extra: list[str]) -> tuple[pstats.Stats, dict]:
    """Profile one ``movenet video`` run; the merged stats and the CPU split in seconds."""
    from movenet_cli.cli import cli

    profiles: list[cProfile.Profile] = []
    lock = threading.Lock()

    def start_thread(*_):  # the first event in each new thread: profile it from here on
        threading.setprofile(None)
        prof = cProfile.Profile(time.thread_time)
        with lock:
            profiles.append(prof)
        prof.enable()

    with tempfile.TemporaryDirectory() as tmp:
        argv = ["video", str(clip), "-o", str(Path(tmp) / "out.mp4"), "-q", "--overwrite", *extra]
        main_prof = cProfile.Profile(time.thread_time)
        threading.setprofile(start_thread)
        self0, kids0, wall0 = _self_cpu(), _children_cpu(), time.perf_counter()
        main_prof.enable()
        try:
            cli.main(argv, prog_name="movenet", standalone_mode=False)
        except SystemExit as exc:
            if exc.code:
                raise
        finally:
            main_prof.disable()
            threading.setprofile(None)
        split = {"python": _self_cpu() - self0, "ffmpeg": _children_cpu() - kids0, "wall": time.perf_counter() - wall0}
    stats = pstats.Stats(main_prof)
    for prof in profiles:
        try:
            stats.add(prof)
        except TypeError:  # a thread that never ran a Python call
            pass
    return stats, split


def _where(func: tuple) -> str:
    path, line, name = func
    if path == "~":
        return name
    parts = Path(path).parts
    short = "/".join(parts[parts.index("movenet_cli"):]) if "movenet_cli" in parts else "/".join(parts[-2:])
    return f"{short}:{line} {name}"


def table(stats: pstats.Stats, split: dict, frames: int, top: int) -> str:
    rows = sorted(stats.stats.items(), key=lambda kv: -kv[1][2])[:top]  # tottime
    total = split["python"] + split["ffmpeg"]
    lines = [
        f"CPU of `movenet video` on {frames} frames: {1000 * total / frames:.1f} ms a frame, of it "
        f"{1000 * split['ffmpeg'] / frames:.1f} in the ffmpeg decoder and encoder processes and "
        f"{1000 * split['python'] / frames:.1f} in the Python process (start-up and model loading included; "
        f"profiled, so a little more than unprofiled). Top {top} functions of the Python process by own CPU time:",
        "",
        "| function | calls | own CPU ms/frame | with callees, ms/frame |",
        "|---|---:|---:|---:|",
    ]
    for func, (cc, nc, tt, ct, _) in rows:
        lines.append(f"| `{_where(func)}` | {nc} | {1000 * tt / frames:.2f} | {1000 * ct / frames:.2f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("clip", type=Path)
    parser.add_argument("--top", type=int, default=20)
    parser.add_argument("extra", nargs="*", help="more movenet video options (after --)")
    args = parser.parse_args(argv)
    from movenet_cli.media import probe_video

    frames = probe_video(args.clip).frame_count or 1
    stats, split = profile(args.clip, args.extra)
    print(table(stats, split, frames, args.top))
    return 0


if __name__ == "__main__":
    sys.exit(main())
