#!/usr/bin/env bash
# Re-create the files in sample_media/ from the Sports2D demo video.
#
# Source: Sports2D/Demo/demo.mp4 inside the PyPI wheel sports2d==0.8.34
# (BSD-3-Clause, Sports2D by David Pagnon).  See README.md in this folder.
#
# Usage:  bash sample_media/make_samples.sh
#
# Environment:
#   PYTHON     Python with pip and imageio-ffmpeg (default: .venv/bin/python
#              of the repository if present, else python3)
#   FFMPEG     ffmpeg executable (default: the one bundled with imageio-ffmpeg)
#   DEMO_MP4   use this copy of demo.mp4 instead of downloading the wheel
#
# The script overwrites the outputs, so it can be run any number of times.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$HERE")"

if [[ -z "${PYTHON:-}" ]]; then
    if [[ -x "$ROOT/.venv/bin/python" ]]; then PYTHON="$ROOT/.venv/bin/python"; else PYTHON=python3; fi
fi
FFMPEG="${FFMPEG:-$("$PYTHON" -c 'import imageio_ffmpeg; print(imageio_ffmpeg.get_ffmpeg_exe())')}"

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

if [[ -n "${DEMO_MP4:-}" ]]; then
    SRC="$DEMO_MP4"
else
    "$PYTHON" -m pip download --quiet --no-deps --only-binary=:all: "sports2d==0.8.34" -d "$WORK"
    "$PYTHON" - "$WORK" <<'EOF'
import glob, sys, zipfile
work = sys.argv[1]
(wheel,) = glob.glob(f"{work}/sports2d-0.8.34-*.whl")
with zipfile.ZipFile(wheel) as zf:
    with zf.open("Sports2D/Demo/demo.mp4") as src, open(f"{work}/demo.mp4", "wb") as dst:
        dst.write(src.read())
EOF
    SRC="$WORK/demo.mp4"
fi

ff() { "$FFMPEG" -hide_banner -nostdin -loglevel error -y "$@"; }

# demo_clip.mp4: 3.0 s from 1.7 s (source frames 51..140; both people in view),
# 960x540 H.264 yuv420p with the (AAC) audio track.
ff -ss 1.7 -t 3.0 -i "$SRC" \
    -map 0:v:0 -map 0:a:0 -map_metadata -1 -map_chapters -1 \
    -vf "scale=960:-2:flags=lanczos" \
    -c:v libx264 -preset slow -crf 23 -pix_fmt yuv420p \
    -c:a aac -b:a 64k \
    -movflags +faststart "$WORK/demo_clip.mp4"

# portrait_clip.mp4: 1.5 s from 3.2 s, a 560x994 portrait crop around both
# people scaled to 360x640 (displayed size).  It is stored landscape, 640x360,
# turned 90 degrees counter-clockwise, and tagged to be shown rotated 90
# degrees clockwise, like a video from a phone held upright (display matrix
# -90 degrees, i.e. "rotate=90").  No audio.
ff -ss 3.2 -t 1.5 -i "$SRC" \
    -map 0:v:0 -an -map_metadata -1 -map_chapters -1 \
    -vf "crop=560:994:540:0,scale=360:640:flags=lanczos,transpose=cclock" \
    -c:v libx264 -preset slow -crf 23 -pix_fmt yuv420p \
    "$WORK/portrait_stored.mp4"
ff -display_rotation -90 -i "$WORK/portrait_stored.mp4" \
    -map 0:v:0 -c copy -map_metadata -1 -movflags +faststart "$WORK/portrait_clip.mp4"

# person.jpg: the frame at 2.5 s (source frame 75), 960x540.
ff -ss 2.5 -i "$SRC" -map 0:v:0 -frames:v 1 -map_metadata -1 \
    -vf "scale=960:-2:flags=lanczos" -q:v 3 "$WORK/person.jpg"

for f in demo_clip.mp4 portrait_clip.mp4 person.jpg; do
    mv -f "$WORK/$f" "$HERE/$f"
done
ls -l "$HERE"
