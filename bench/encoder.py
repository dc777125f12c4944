"""x264 settings for annotated videos: quality against the CPU each costs.

The reference is the annotated bench clip encoded losslessly (``movenet video CLIP --preset
ultrafast --crf 0``), decoded once to raw yuv420p; each setting encodes those frames with one x264
thread (what ``movenet video`` gives x264 on 2 cores) from the raw file, timed by the CPU time of
the ffmpeg process (user + system; reading a raw file costs next to nothing), best of ``--reps``
interleaved rounds. Quality is ffmpeg's SSIM (all planes) and PSNR (luma) of the encoded frames
against the reference; for the scaled previews, against the reference scaled the same way.

    python bench/encoder.py LOSSLESS.mp4 [--reps 2] [--only NAME ...]
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import imageio_ffmpeg

FF = imageio_ffmpeg.get_ffmpeg_exe()

# name -> (x264 options, scale); crf 23 unless given
SETTINGS = {
    "ultrafast": ["-preset", "ultrafast"],
    "superfast": ["-preset", "superfast"],
    "veryfast": ["-preset", "veryfast"],
    "faster": ["-preset", "faster"],
    "medium": ["-preset", "medium"],
    "veryfast crf 20": ["-preset", "veryfast", "-crf", "20"],
    "veryfast crf 26": ["-preset", "veryfast", "-crf", "26"],
    "superfast crf 20": ["-preset", "superfast", "-crf", "20"],
    "veryfast tune animation": ["-preset", "veryfast", "-tune", "animation"],
    "veryfast tune film": ["-preset", "veryfast", "-tune", "film"],
    "veryfast aq-mode 0": ["-preset", "veryfast", "-x264-params", "aq-mode=0"],
    "veryfast subme 1, me dia": ["-preset", "veryfast", "-x264-params", "subme=1:me=dia"],
    "veryfast subme 4": ["-preset", "veryfast", "-x264-params", "subme=4"],
    "veryfast ref 2": ["-preset", "veryfast", "-x264-params", "ref=2"],
    "veryfast no lookahead mbtree": ["-preset", "veryfast", "-x264-params", "rc-lookahead=0:mbtree=0"],
    "veryfast, half size": ["-preset", "veryfast", "@scale"],
    "ultrafast, half size": ["-preset", "ultrafast", "@scale"],
}
HALF = "scale=trunc(iw/4)*2:trunc(ih/4)*2:flags=bilinear"


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def encode(raw: Path, size: str, fps: str, args: list[str], out: Path) -> float:
    """Encode the raw frames; CPU seconds of the ffmpeg process."""
    scale = "@scale" in args
    args = [a for a in args if a != "@scale"]
    crf = [] if "-crf" in args else ["-crf", "23"]
    c0 = _children_cpu()
    subprocess.run([FF, "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", size, "-framerate", fps,
                    "-i", str(raw), *(["-vf", HALF] if scale else []), "-c:v", "libx264", "-threads", "1", *args, *crf,
                    "-pix_fmt", "yuv420p", "-movflags", "+faststart", str(out)], check=True)
    return _children_cpu() - c0


def quality(encoded: Path, reference: Path, scale: bool) -> tuple[float, float]:
    """SSIM (all planes) and luma PSNR of ``encoded`` against ``reference``."""
    ref = f"[1:v]{HALF}[r]" if scale else "[1:v]null[r]"
    out = subprocess.run([FF, "-v", "info", "-hide_banner", "-i", str(encoded), "-i", str(reference),
                          "-lavfi", f"{ref};[0:v][r]ssim=shortest=1", "-f", "null", "-"], capture_output=True, text=True)
    ssim = float(re.findall(r"All:([\d.]+)", out.stderr)[-1])
    out = subprocess.run([FF, "-v", "info", "-hide_banner", "-i", str(encoded), "-i", str(reference),
                          "-lavfi", f"{ref};[0:v][r]psnr=shortest=1", "-f", "null", "-"], capture_output=True, text=True)
    psnr = float(re.findall(r"y:([\d.inf]+)", out.stderr)[-1])
    return ssim, psnr


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("lossless", type=Path)
    parser.add_argument("--reps", type=int, default=2)
    parser.add_argument("--only", nargs="*", help="names of settings to run")
    parser.add_argument("--frames", type=int, help="only the first N frames")
    args = parser.parse_args(argv)
    probe = subprocess.run([FF, "-hide_banner", "-i", str(args.lossless)], capture_output=True, text=True).stderr
    w, h = re.search(r"Video: .*?(\d{3,5})x(\d{3,5})", probe).groups()
    fps = re.search(r"([\d.]+) fps", probe).group(1)
    load0 = Path("/proc/loadavg").read_text().split()[:3]
    names = args.only or list(SETTINGS)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        raw = tmp / "ref.yuv"
        subprocess.run([FF, "-v", "error", "-i", str(args.lossless), *(["-frames:v", str(args.frames)] if args.frames else []),
                        "-f", "rawvideo", "-pix_fmt", "yuv420p", str(raw)], check=True)
        frames = raw.stat().st_size // (int(w) * int(h) * 3 // 2)
        cpu: dict[str, list[float]] = {n: [] for n in names}
        for _ in range(args.reps):  # interleaved rounds
            for name in names:
                cpu[name].append(encode(raw, f"{w}x{h}", fps, SETTINGS[name], tmp / f"{name}.mp4"))
        rows = []
        for name in names:
            ssim, psnr = quality(tmp / f"{name}.mp4", args.lossless, "@scale" in SETTINGS[name])
            print(f"  {name}: {1000 * min(cpu[name]) / frames:.1f} ms, SSIM {ssim:.4f}, PSNR {psnr:.2f}", flush=True)
            rows.append({"setting": name, "cpu_ms": 1000 * min(cpu[name]) / frames,
                         "size_mb": (tmp / f"{name}.mp4").stat().st_size / 1e6, "ssim": ssim, "psnr": psnr})
    print(f"{frames} frames {w}x{h}; load average {' '.join(load0)} before, "
          f"{' '.join(Path('/proc/loadavg').read_text().split()[:3])} after")
    print("| x264 setting (crf 23 unless given), 1 thread | CPU ms/frame | MP4 MB | SSIM | PSNR (Y) dB |")
    print("|---|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['setting']} | {r['cpu_ms']:.1f} | {r['size_mb']:.2f} | {r['ssim']:.4f} | {r['psnr']:.2f} |")
    print(json.dumps(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
