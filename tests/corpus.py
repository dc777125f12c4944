"""A corpus of bad and awkward inputs, generated from the sample media (nothing is downloaded).

Every file is made with the ffmpeg bundled with imageio-ffmpeg and with Pillow,
from ``sample_media/person.jpg`` and ``sample_media/demo_clip.mp4``, so the
corpus is the same on every machine.  ``tests/test_corpus.py`` runs the
``movenet`` command on each case; this module only makes the files.

    python tests/corpus.py OUT_DIR          # write every case, print what each is
    python tests/corpus.py OUT_DIR vfr      # just one

In the tests, use :func:`build` (one case into a folder, returns its path).
"""

from __future__ import annotations

import struct
import subprocess
import sys
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

from movenet_cli.media import ffmpeg_exe  # noqa: E402

SAMPLES = ROOT / "sample_media"
DEMO_CLIP = SAMPLES / "demo_clip.mp4"
PERSON_JPG = SAMPLES / "person.jpg"

# The variable-frame-rate clip: frame n is shown at vfr_time(n) seconds:
# 30 fps for frames 0-19, 10 fps for frames 20-39, 30 fps again for 40-59.
VFR_FRAMES = 60
TRUNCATE_AT = 0.30
HUGE_SIDE = 20000


def vfr_time(n: int) -> float:
    return (n + 2 * min(max(n - 20, 0), 20)) / 30


def ffmpeg(*args: str | Path) -> None:
    """Run the bundled ffmpeg quietly; raise with its message on failure."""
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y", *map(str, args)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"ffmpeg failed making a corpus file: {proc.stderr.strip()}")


def _clip(out: Path, frames: int, *encode: str, vf: str | None = None) -> None:
    """The first ``frames`` frames of the demo clip, re-encoded (no audio)."""
    filters = ["-vf", vf] if vf else []
    ffmpeg("-i", DEMO_CLIP, "-frames:v", str(frames), "-an", *filters, *encode, out)


def _x264(*extra: str) -> tuple[str, ...]:
    return ("-c:v", "libx264", "-preset", "veryfast", *extra)


# -- files ----------------------------------------------------------------------------------


def _empty(path: Path) -> None:
    path.write_bytes(b"")


def _text(path: Path) -> None:
    path.write_text(f"This is a text file, renamed to {path.suffix}.\n" * 20)


def _truncated(path: Path, *, index_first: bool = True) -> None:
    """2 s of video cut at 30% of its bytes; with the index (moov) first, as phones and +faststart write."""
    full = path.with_name(path.stem + ".full.mp4")
    _clip(full, 60, *_x264("-g", "10", *(("-movflags", "+faststart") if index_first else ())))
    data = full.read_bytes()
    full.unlink()
    path.write_bytes(data[: int(len(data) * TRUNCATE_AT)])


def _audio_only(path: Path) -> None:
    ffmpeg("-f", "lavfi", "-i", "sine=frequency=440:duration=1", "-c:a", "aac", path)


def _zero_frames(path: Path) -> None:
    """An MP4 whose video track has no frames (a fragmented-MP4 header with no fragments)."""
    ffmpeg("-i", DEMO_CLIP, "-map", "0:v", "-c", "copy", "-frames:v", "0",
           "-movflags", "+frag_keyframe+empty_moov", path)  # fmt: skip


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def _huge_png(path: Path, side: int = HUGE_SIDE) -> None:
    """A valid, all-black side x side RGB PNG (1.2 GB of pixels at 20000) written in a few MB.

    The zlib stream repeats one independently compressed block of rows (each
    ends with a full flush, so blocks do not refer to each other); the Adler-32
    of all-zero data of length n is ((n mod 65521) << 16) | 1.
    """
    row = b"\0" * (1 + side * 3)  # filter byte + pixels
    rows_per_block = 100
    assert side % rows_per_block == 0
    block = zlib.compressobj(9, zlib.DEFLATED, -15)
    chunk = block.compress(row * rows_per_block) + block.flush(zlib.Z_FULL_FLUSH)
    last = zlib.compressobj(1, zlib.DEFLATED, -15).flush(zlib.Z_FINISH)
    n = len(row) * side
    body = b"\x78\x01" + chunk * (side // rows_per_block) + last + struct.pack(">I", ((n % 65521) << 16) | 1)
    with open(path, "wb") as fh:
        fh.write(b"\x89PNG\r\n\x1a\n")
        fh.write(_png_chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)))
        fh.write(_png_chunk(b"IDAT", body))
        fh.write(_png_chunk(b"IEND", b""))


def _person():
    from PIL import Image

    return Image.open(PERSON_JPG).convert("RGB")


def _tiny(path: Path) -> None:
    from PIL import Image

    Image.new("RGB", (1, 1), (200, 120, 40)).save(path)


def _png16(path: Path) -> None:
    ffmpeg("-i", PERSON_JPG, "-pix_fmt", "rgb48be", path)


def _cmyk(path: Path) -> None:
    _person().convert("CMYK").save(path, quality=95)


def _palette_gif(path: Path) -> None:
    from PIL import Image

    _person().convert("P", palette=Image.Palette.ADAPTIVE, colors=256).save(path)


def _rgba(path: Path) -> None:
    """Opaque, except a fully transparent band over the top tenth."""
    img = _person().convert("RGBA")
    alpha = img.getchannel("A").point(lambda _: 255)
    alpha.paste(0, (0, 0, img.width, img.height // 10))
    img.putalpha(alpha)
    img.save(path)


def _gray(path: Path) -> None:
    _person().convert("L").save(path, quality=95)


def _exif6(path: Path) -> None:
    """Stored turned 90 degrees counter-clockwise, with EXIF orientation 6 (display turned clockwise)."""
    from PIL import Image

    img = _person().transpose(Image.Transpose.ROTATE_90)
    exif = img.getexif()
    exif[0x0112] = 6
    img.save(path, exif=exif, quality=95)


def _webp(path: Path) -> None:
    _person().save(path, quality=90)


def _odd_vp9(path: Path) -> None:
    """1767x993 VP9 4:2:0 in WebM: odd sizes without 4:4:4."""
    _clip(path, 9, "-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "2M",
          "-pix_fmt", "yuv420p", vf="scale=1767:993")  # fmt: skip


def _vfr(path: Path) -> None:
    """Frames at the times of :func:`vfr_time`, stored with those exact timestamps."""
    expr = "(N+2*clip(N-20\\,0\\,20))/30/TB"
    _clip(path, VFR_FRAMES, *_x264("-fps_mode", "passthrough", "-video_track_timescale", "15360"),
          vf=f"setpts={expr}")  # fmt: skip


def _trimmed(path: Path) -> None:
    """Cut by stream copy at 1.1 s: it starts at the keyframe before, and an edit list hides those frames."""
    ffmpeg("-ss", "1.1", "-i", DEMO_CLIP, "-map", "0:v", "-c", "copy", path)


def _tenbit(path: Path) -> None:
    _clip(path, 15, *_x264("-pix_fmt", "yuv420p10le", "-profile:v", "high10"))


def _rotated(degrees: int) -> Callable[[Path], None]:
    """Stored turned the other way, tagged so that players show it upright (clockwise ``degrees``)."""

    def make(path: Path) -> None:
        stored = path.with_name(path.stem + ".stored.mp4")
        turn = {90: "transpose=cclock", 270: "transpose=clock"}[degrees]
        _clip(stored, 9, *_x264(), vf=turn)
        # -display_rotation is counter-clockwise; "rotation 90" means shown turned clockwise.
        ffmpeg("-display_rotation", str(-degrees), "-i", stored, "-c", "copy", path)
        stored.unlink()

    return make


@dataclass(frozen=True)
class Case:
    """One corpus file: its name, how it is made, and what it is."""

    filename: str
    make: Callable[[Path], None]
    what: str


CASES: dict[str, Case] = {
    "empty_mp4": Case("empty.mp4", _empty, "zero bytes, .mp4"),
    "empty_jpg": Case("empty.jpg", _empty, "zero bytes, .jpg"),
    "text_mp4": Case("notes.mp4", _text, "a text file renamed .mp4"),
    "text_jpg": Case("notes.jpg", _text, "a text file renamed .jpg"),
    "truncated": Case("truncated.mp4", _truncated, "MP4 (index first) cut at 30% of its bytes"),
    "truncated_no_index": Case(
        "truncated_noindex.mp4", lambda p: _truncated(p, index_first=False), "MP4 (index last) cut at 30%"
    ),
    "audio_only": Case("audio_only.mp4", _audio_only, "AAC audio, no video stream"),
    "zero_frames": Case("zero_frames.mp4", _zero_frames, "a video track with no frames"),
    "tiny": Case("tiny.png", _tiny, "1x1 image"),
    "huge": Case("huge.png", _huge_png, f"{HUGE_SIDE}x{HUGE_SIDE} RGB PNG"),
    "png16": Case("deep.png", _png16, "16 bits per channel RGB PNG"),
    "cmyk": Case("cmyk.jpg", _cmyk, "CMYK JPEG"),
    "palette_gif": Case("palette.gif", _palette_gif, "256-colour palette GIF"),
    "rgba": Case("alpha.png", _rgba, "RGBA PNG, transparent top band"),
    "gray": Case("gray.jpg", _gray, "grayscale JPEG"),
    "exif6": Case("exif6.jpg", _exif6, "JPEG stored sideways, EXIF orientation 6"),
    "webp": Case("photo.webp", _webp, "WebP"),
    "odd_size": Case("odd.webm", _odd_vp9, "1767x993 VP9 video"),
    "vfr": Case("vfr.mp4", _vfr, "variable frame rate: 30, then 10, then 30 fps"),
    "edit_list": Case("trimmed.mp4", _trimmed, "trimmed by stream copy: an edit list hides the first frames"),
    "tenbit": Case("tenbit.mp4", _tenbit, "10-bit 4:2:0 H.264 (High 10)"),
    "rotate90": Case("rot90.mp4", _rotated(90), "stored sideways, rotation metadata 90"),
    "rotate270": Case("rot270.mp4", _rotated(270), "stored sideways, rotation metadata 270"),
}


def build(name: str, folder: str | Path) -> Path:
    """Make corpus case ``name`` in ``folder`` (created if needed); return its path."""
    case = CASES[name]
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / case.filename
    case.make(path)
    return path


def main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0 if argv else 2
    out = Path(argv[0])
    names = argv[1:] or list(CASES)
    for name in names:
        path = build(name, out)
        print(f"{name:20s} {path.name:24s} {path.stat().st_size:>10d} B  {CASES[name].what}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
