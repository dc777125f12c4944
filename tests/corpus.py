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


# -- inputs that try to mislead the probe, the stream choice or the audio sync ----------------

FORGED_TITLE = "x\n  Stream #0:0: Video: h264, 320x240, 30 fps\n  Duration: 01:00:00.00, start: 0.000000"
TONES_HZ = (440.0, 880.0, 1320.0)  # one per second of the late-video clip's audio


def _forged(path: Path) -> None:
    """1 s of the demo clip whose title and stream tags imitate the lines of ffmpeg's own report."""
    ffmpeg("-i", DEMO_CLIP, "-t", "1", "-an", *_x264(), "-metadata", f"title={FORGED_TITLE}",
           "-metadata:s:v:0", "rotate_note=rotate          : 90",
           "-metadata:s:v:0", "handler_name=displaymatrix: rotation of -90.00 degrees", path)


def _two_streams(path: Path) -> None:
    """Matroska with a 160x90 first video stream and the real 960x540 one second, marked default."""
    ffmpeg("-i", DEMO_CLIP, "-t", "1", "-filter_complex", "[0:v]split[a][b];[a]scale=160:90[small]",
           "-map", "[small]", "-map", "[b]", "-an", "-c:v", "libx264", "-preset", "veryfast",
           "-disposition:v:0", "0", "-disposition:v:1", "default", path)


def _anamorphic(path: Path) -> None:
    """720x480 stored, sample aspect ratio 32:27: 16:9 on screen."""
    ffmpeg("-i", DEMO_CLIP, "-t", "1", "-an", "-vf", "scale=720:480,setsar=32/27", *_x264(), path)


def _late_video(path: Path) -> None:
    """3 s of audio, one tone per second (TONES_HZ); the video (2 s) starts 1 s after the audio."""
    tones = "".join(f"sine=frequency={f:g}:duration=1[t{i}];" for i, f in enumerate(TONES_HZ))
    graph = tones + "".join(f"[t{i}]" for i in range(len(TONES_HZ))) + f"concat=n={len(TONES_HZ)}:v=0:a=1[a]"
    ffmpeg("-itsoffset", "1", "-i", DEMO_CLIP, "-filter_complex", graph, "-map", "0:v", "-map", "[a]",
           "-t", "3", "-shortest", *_x264(), "-c:a", "aac", "-b:a", "128k", path)


def _container(*encode: str) -> Callable[[Path], None]:
    """1 s of the demo clip in another container (the extension of the path decides which)."""
    return lambda path: ffmpeg("-i", DEMO_CLIP, "-t", "1", "-an", *encode, path)


def _jpeg_named(path: Path) -> None:
    _person().save(path, format="JPEG", quality=90)


CASES.update({
    "forged_tags": Case("forged.mp4", _forged, "title and stream tags that imitate ffmpeg's report lines"),
    "two_streams": Case("two_streams.mkv", _two_streams, "a 160x90 first video stream, the real one default"),
    "anamorphic": Case("anamorphic.mp4", _anamorphic, "720x480, sample aspect ratio 32:27"),
    "late_video": Case("late_video.mp4", _late_video, "video starting 1 s after its audio (one tone a second)"),
    "mts": Case("clip.mts", _container(*_x264(), "-f", "mpegts"), "MPEG-TS with the .mts name of camcorders"),
    "ts": Case("clip.ts", _container(*_x264()), "MPEG-TS"),
    "3gp": Case("clip.3gp", _container(*_x264()), "3GP (phones)"),
    "mpg": Case("clip.mpg", _container("-c:v", "mpeg2video", "-q:v", "4"), "MPEG-2 program stream"),
    "flv": Case("clip.flv", _container(*_x264()), "Flash video"),
    "jfif": Case("photo.jfif", _jpeg_named, "JPEG named .jfif"),
    "jpe": Case("photo.jpe", _jpeg_named, "JPEG named .jpe"),
    "jpeg_no_ext": Case("photo", _jpeg_named, "JPEG with no extension"),
})

# Colour layouts other than 8-bit 4:2:0 BT.709 limited range: frames are converted once, in the
# decoder, to the planes the MP4 is written from (or go the RGB way where planes cannot hold them).
_TO_BT601 = "colorspace=all=bt601-6-525:iall=bt709:format=yuv420p"
CASES.update({
    "yuv444": Case("yuv444.mp4", lambda p: _clip(p, 12, *_x264("-pix_fmt", "yuv444p")), "4:4:4 H.264 (High 4:4:4)"),
    "mjpeg": Case("webcam.avi", lambda p: _clip(p, 12, "-c:v", "mjpeg", "-q:v", "3", "-pix_fmt", "yuvj422p",
                                                 vf=_TO_BT601),
                  "Motion JPEG, 4:2:2 full range BT.601, as webcams record"),
    "untagged": Case("untagged.mp4", lambda p: _clip(p, 12, *_x264("-pix_fmt", "yuv420p"),
                                                     vf=_TO_BT601 + ",setparams=colorspace=unknown:range=unknown"),
                     "BT.601 colours with no colour tags (ffmpeg takes them as BT.601)"),
    "bt2020_10bit": Case("hdr.mkv", lambda p: _clip(p, 12, *_x264("-pix_fmt", "yuv420p10le", "-profile:v", "high10"),
                                                    vf="colorspace=space=bt2020ncl:trc=bt709:primaries=bt709:iall=bt709"
                                                       ":format=yuv420p10"),
                         "10-bit BT.2020 matrix (as phone HDR video stores colour)"),
    "odd_444": Case("odd444.mp4", lambda p: _clip(p, 12, *_x264("-pix_fmt", "yuv444p"), vf="format=yuv444p,crop=959:539:0:0"),
                    "959x539 4:4:4: odd sizes, which 4:2:0 planes cannot hold"),
    "rgb_h264": Case("rgb.mkv", lambda p: _clip(p, 12, "-c:v", "libx264rgb", "-preset", "veryfast", "-crf", "18"),
                     "H.264 coded in RGB (libx264rgb)"),
})


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


# -- tags that imitate the lines ffmpeg writes about its output ---------------------------------

FORGED_OUTPUT_LINE = "  Stream #0:0: Video: rawvideo (RGB[24] / 0x18424752), rgb24(pc, progressive), 8x8, q=2-31, 30 fps"


def _forged_output(path: Path) -> None:
    """1 s of the demo clip whose title, comment and stream tags imitate ffmpeg's report of its
    output (the raw frames' stream line, with another size), as a decoder reading its log would see."""
    forged = f"x\nOutput #0, rawvideo, to 'pipe:':\n{FORGED_OUTPUT_LINE}"
    ffmpeg("-i", DEMO_CLIP, "-t", "1", "-an", *_x264(), "-metadata", f"title={forged}",
           "-metadata", f"comment={FORGED_OUTPUT_LINE}\n",
           "-metadata:s:v:0", f"handler_name={FORGED_OUTPUT_LINE}",
           "-metadata:s:v:0", f"note=Output #0{FORGED_OUTPUT_LINE}", path)


CASES.update({
    "forged_output": Case("forged_output.mp4", _forged_output,
                          "title, comment and stream tags that imitate ffmpeg's line about the frames it outputs"),
})
