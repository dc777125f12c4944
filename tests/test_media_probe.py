"""Tests for movenet_cli.media.probe: structured probing that a file's own tags cannot forge.

Test files are made from sample_media/ with the ffmpeg bundled with imageio-ffmpeg,
in a temporary folder; every probe below reads real files with real FFmpeg code.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from fractions import Fraction
from pathlib import Path

import pytest

from helpers import DEMO_CLIP, PERSON_JPG, PORTRAIT_CLIP
from movenet_cli import media
from movenet_cli.errors import MediaError
from movenet_cli.media.probe import (
    VideoInfo,
    _child_failure,
    choose_stream,
    clockwise_rotation,
    mp4_index_missing,
    probe_in_process,
    probe_video,
)


# Tag values that imitate the lines of ffmpeg's own report.
FORGED_TITLE = "x\n  Stream #0:0: Video: h264, 320x240, 30 fps\n  Duration: 01:00:00.00, start: 0.000000"
FORGED_STREAM_TAGS = {
    "comment": "Stream #0:0: Video: h264, 320x240, 30 fps",
    "rotate_note": "\n    rotate          : 90",
    "note2": "displaymatrix: rotation of -90.00 degrees",
}
TWO_STREAMS = "[0:v]split[a][b];[a]scale=160:90[small]"


def _ffmpeg(*args: str | os.PathLike) -> None:
    exe = media.ffmpeg_exe()
    cmd = [exe, "-hide_banner", "-nostdin", "-loglevel", "error", "-y", *map(str, args)]
    subprocess.run(cmd, check=True, stdin=subprocess.DEVNULL, timeout=120)


def _make_files(d: Path) -> dict[str, Path]:
    """Every generated input, 1 s long where there is video."""
    f = {name: d / name for name in (
        "forged.mkv", "two_default.mp4", "two_nodefault.mkv", "anamorphic.mp4", "late_video.mp4",
        "audio.m4a", "cover.m4a", "whole.mp4", "no_moov.mp4", "cut_moov.mp4", "still.mp4", "png.mov", "text.mp4", "empty.mkv",
    )}  # fmt: skip
    tags = [a for k, v in FORGED_STREAM_TAGS.items() for a in ("-metadata:s:v:0", f"{k}={v}")]
    _ffmpeg("-i", DEMO_CLIP, "-t", "1", "-c", "copy", "-metadata", f"title={FORGED_TITLE}", *tags, f["forged.mkv"])
    x264 = ["-c:v", "libx264", "-preset", "ultrafast"]
    _ffmpeg("-i", DEMO_CLIP, "-t", "1", "-filter_complex", TWO_STREAMS, "-map", "[small]", "-map", "[b]",
            "-map", "0:a", *x264, "-c:a", "copy", "-disposition:v:0", "0", "-disposition:v:1", "default",
            f["two_default.mp4"])  # fmt: skip
    _ffmpeg("-i", DEMO_CLIP, "-t", "1", "-filter_complex", TWO_STREAMS, "-map", "[small]", "-map", "[b]",
            *x264, "-disposition:v:0", "0", "-disposition:v:1", "0", f["two_nodefault.mkv"])  # fmt: skip
    _ffmpeg("-i", DEMO_CLIP, "-t", "1", "-vf", "scale=720:480,setsar=32/27", *x264, "-an", f["anamorphic.mp4"])
    _ffmpeg("-itsoffset", "1", "-i", DEMO_CLIP, "-i", DEMO_CLIP, "-map", "0:v", "-map", "1:a", "-c", "copy",
            f["late_video.mp4"])  # fmt: skip
    _ffmpeg("-i", DEMO_CLIP, "-vn", "-c", "copy", f["audio.m4a"])
    _ffmpeg("-i", DEMO_CLIP, "-i", PERSON_JPG, "-map", "0:a", "-map", "1:v", "-c:a", "copy", "-c:v", "mjpeg",
            "-disposition:v:0", "attached_pic", f["cover.m4a"])  # fmt: skip
    _ffmpeg("-i", DEMO_CLIP, "-c", "copy", "-movflags", "-faststart", f["whole.mp4"])  # index at the end
    whole = f["whole.mp4"].read_bytes()
    f["no_moov.mp4"].write_bytes(whole[: len(whole) // 2])
    f["cut_moov.mp4"].write_bytes(whole[:-100])  # the index at the end, cut inside
    f["still.mp4"].write_bytes(PERSON_JPG.read_bytes())
    _ffmpeg("-i", PERSON_JPG, "-frames:v", "1", "-f", "image2", "-c:v", "png", f["png.mov"])
    f["text.mp4"].write_text("hello, this is no video\n")
    f["empty.mkv"].write_bytes(b"")
    return f


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    return _make_files(tmp_path_factory.mktemp("probe"))


# --------------------------------------------------------------------------
# Pure rules
# --------------------------------------------------------------------------


def test_choose_stream_rules():
    assert choose_stream([(3, 10, 10, False)]) == (3, "only")
    assert choose_stream([(0, 160, 90, False), (1, 960, 540, True)]) == (1, "default")
    # A small default stream wins over a larger non-default one.
    assert choose_stream([(0, 160, 90, True), (1, 960, 540, False)]) == (0, "default")
    assert choose_stream([(0, 160, 90, False), (2, 960, 540, False)]) == (2, "largest")
    # Largest among several defaults; equal areas go to the lower index.
    assert choose_stream([(0, 10, 10, True), (1, 20, 20, True), (2, 99, 99, False)]) == (1, "default")
    assert choose_stream([(4, 30, 20, False), (2, 20, 30, False)]) == (2, "largest")
    with pytest.raises(ValueError):
        choose_stream([])


def test_clockwise_rotation():
    assert [clockwise_rotation(a) for a in (0, -90, 90, 180, -180, -89.6, 270)] == [0, 90, 270, 180, 180, 90, 90]


def test_video_info_round_trips_through_json():
    info = VideoInfo(
        "a.mp4", 360, 640, 29.97, 10, 0.33, 90, True, "h264", "aac", 2, "largest", (640, 360),
        Fraction(32, 27), 1.0, 0.0, Fraction(1, 15360), "mov,mp4,m4a,3gp,3g2,mj2", 3,
    )  # fmt: skip
    assert VideoInfo.from_dict(json.loads(json.dumps(info.to_dict()))) == info
    assert info.to_dict()["sample_aspect_ratio"] == "32/27"
    # Storage 640x360 with SAR 32/27 shows 759x360 (758.5 rounded), upright 360x759.
    assert info.display_size == (360, 759)
    assert info.audio_lead == 1.0


# --------------------------------------------------------------------------
# Real files
# --------------------------------------------------------------------------


def test_demo_clip_in_detail():
    info = probe_video(DEMO_CLIP)
    assert (info.width, info.height, info.storage_size, info.display_size) == (960, 540, (960, 540), (960, 540))
    assert (info.fps, info.frame_count, info.duration) == (30.0, 90, 3.0)
    assert (info.audio_stream_index, info.video_start, info.audio_start) == (1, 0.0, 0.0)
    assert info.time_base == Fraction(1, 15360) and info.sample_aspect_ratio == 1


def test_portrait_clip_rotation_from_the_display_matrix():
    info = probe_video(PORTRAIT_CLIP)
    assert info.rotation == 90
    assert info.storage_size == (640, 360)
    assert (info.width, info.height) == (360, 640) == info.display_size
    assert not info.has_audio and info.audio_start is None and info.audio_lead is None


def test_tags_imitating_ffmpeg_output_are_not_believed(files):
    info = probe_video(files["forged.mkv"])
    assert (info.width, info.height, info.rotation) == (960, 540, 0)
    assert info.fps == 30.0
    assert info.duration == pytest.approx(1.1, abs=0.05)  # not the hour the title claims
    assert info.frame_count == 33
    assert info.container == "matroska,webm"


def test_default_stream_wins_over_a_small_first_stream(files):
    info = probe_video(files["two_default.mp4"])
    assert (info.stream_index, info.stream_reason) == (1, "default")
    assert (info.width, info.height) == (960, 540)
    assert info.has_audio and info.audio_stream_index == 2


def test_largest_stream_without_a_default(files):
    info = probe_video(files["two_nodefault.mkv"])
    assert (info.stream_index, info.stream_reason) == (1, "largest")
    assert (info.width, info.height) == (960, 540)


def test_anamorphic_sample_aspect_ratio(files):
    info = probe_video(files["anamorphic.mp4"])
    assert info.sample_aspect_ratio == Fraction(32, 27)
    assert (info.width, info.height) == info.storage_size == (720, 480)
    assert info.display_size == (853, 480)  # 16:9 on screen


def test_video_starting_after_its_audio(files):
    info = probe_video(files["late_video.mp4"])
    assert info.video_start - info.audio_start == pytest.approx(1.0, abs=1 / info.fps)
    assert info.audio_lead == pytest.approx(1.0, abs=1 / info.fps)
    assert info.frame_count == 90  # the stream's own count, not the 4 s container x fps


def test_in_process_and_isolated_agree(files):
    for name in ("forged.mkv", "two_default.mp4", "two_nodefault.mkv", "anamorphic.mp4", "late_video.mp4"):
        assert probe_in_process(files[name]) == probe_video(files[name]), name


# --------------------------------------------------------------------------
# Errors: one line, naming the file and the reason
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, reason",
    [
        ("missing.mp4", "file not found"),
        (".", "is a directory, not a video file"),
        ("audio.m4a", "no video stream (audio only?)"),
        ("cover.m4a", "no video stream (only cover art)"),
        ("no_moov.mp4", "incomplete MP4: its index (moov atom) is missing"),
        ("still.mp4", "not a video file (it is a still image)"),
        ("png.mov", "not a video file (it is a still image)"),
        ("text.mp4", "not a video file (unrecognised or corrupt data)"),
        ("empty.mkv", "not a video file (unrecognised or corrupt data)"),
    ],
)
def test_errors(files, name, reason):
    path = files.get(name) or (files["text.mp4"].parent / name)
    for isolate in (True, False):
        with pytest.raises(MediaError) as caught:
            probe_video(path, isolate=isolate)
        message = str(caught.value)
        assert message.startswith(f"{path}: {reason}"), message
        assert "\n" not in message


def test_mp4_index_missing(files):
    assert mp4_index_missing(files["no_moov.mp4"]) and mp4_index_missing(files["cut_moov.mp4"])
    assert not mp4_index_missing(files["whole.mp4"])
    assert not mp4_index_missing(files["text.mp4"])
    assert not mp4_index_missing(files["forged.mkv"])


def test_a_reader_that_never_ends_times_out(tmp_path):
    fifo = tmp_path / "stuck.mp4"
    os.mkfifo(fifo)  # opening it blocks: no writer ever comes
    start = time.monotonic()
    with pytest.raises(MediaError, match=r"stuck\.mp4: timed out while reading the video header"):
        probe_video(fifo, timeout=1.5)
    assert time.monotonic() - start < 10


def _probe_children() -> list[int]:
    """PIDs of live child processes of this test process running the probe (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(")") + 2 :].split()[1])
        if ppid == os.getpid() and b"_child_main" in cmdline:
            found.append(int(entry.name))
    return found


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="uses /proc")
def test_a_crashing_probe_fails_that_file_only(tmp_path):
    fifo = tmp_path / "crash.mp4"
    os.mkfifo(fifo)
    outcome: dict[str, BaseException] = {}

    def run() -> None:
        try:
            probe_video(fifo, timeout=30)
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            outcome["exc"] = exc

    worker = threading.Thread(target=run)
    worker.start()
    deadline = time.monotonic() + 20
    while not _probe_children() and time.monotonic() < deadline:
        time.sleep(0.05)
    children = _probe_children()
    assert children, "the probe did not run in a child process"
    time.sleep(0.5)  # let it reach the blocking open
    os.kill(children[0], signal.SIGSEGV)
    worker.join(20)
    exc = outcome.get("exc")
    assert isinstance(exc, MediaError)
    assert str(exc).startswith(f"{fifo}: the video crashed FFmpeg") and "SIGSEGV" in str(exc)


def test_child_failure_messages():
    assert "SIGABRT" in str(_child_failure("a.mp4", -signal.SIGABRT, b""))
    broken = _child_failure("a.mp4", 1, b"ModuleNotFoundError: No module named 'av'\nmore")
    assert str(broken) == "a.mp4: cannot probe video: ModuleNotFoundError: No module named 'av'"
