"""media/encode.py: H.264 with the source's audio, padded odd sizes, atomic on failure."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from helpers import DEMO_CLIP, ffmpeg_children
from movenet_cli import media

needs_proc = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses /proc")


def test_writer_round_trip_with_audio(tmp_path):
    out = tmp_path / "annotated.mp4"
    with media.VideoWriter(out, 960, 540, 30, audio_source=DEMO_CLIP) as writer:
        for frame in media.iter_frames(DEMO_CLIP):
            writer.write(frame.image)
    assert writer.frames_written == 90
    info = media.probe_video(out)
    assert (info.width, info.height, info.codec) == (960, 540, "h264")
    assert info.has_audio and info.audio_codec == "aac"
    assert sum(1 for _ in media.iter_frames(out)) == 90
    assert os.listdir(tmp_path) == ["annotated.mp4"]


def test_writer_trims_audio_to_range(tmp_path):
    out = tmp_path / "part.mp4"
    with media.VideoWriter(out, 960, 540, 30, audio_source=DEMO_CLIP, audio_start=1.0, audio_end=2.0) as w:
        for frame in media.iter_frames(DEMO_CLIP, start=1.0, end=2.0):
            w.write(frame.image)
    info = media.probe_video(out)
    assert info.has_audio
    assert sum(1 for _ in media.iter_frames(out)) == 30
    # The video keeps its length; copied AAC may overhang by one packet.
    assert 0.99 <= info.duration <= 1.06


def test_writer_reencodes_audio_that_mp4_cannot_copy(tmp_path):
    src = tmp_path / "vorbis.mkv"
    subprocess.run(
        [
            media.ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-nostdin",
            "-f", "lavfi", "-i", "testsrc=size=64x48:rate=10:duration=1",
            "-f", "lavfi", "-i", "sine=frequency=440:duration=1",
            "-c:v", "mpeg4", "-c:a", "libvorbis", str(src),
        ],
        check=True,
    )  # fmt: skip
    assert media.probe_video(src).audio_codec == "vorbis"
    out = tmp_path / "out.mp4"
    with media.VideoWriter(out, 64, 48, 10, audio_source=src) as w:
        for frame in media.iter_frames(src):
            w.write(frame.image)
    info = media.probe_video(out)
    assert info.audio_codec == "aac"
    assert sum(1 for _ in media.iter_frames(out)) == 10


def test_writer_pads_odd_size(tmp_path):
    rng = np.random.default_rng(0)
    # Gray noise: survives 4:2:0 chroma subsampling, but not any rescaling.
    image = np.repeat(rng.integers(40, 255, (45, 61, 1), dtype=np.uint8), 3, axis=2)
    out = tmp_path / "odd.mp4"
    with media.VideoWriter(out, 61, 45, 25, crf=0) as w:
        for _ in range(5):
            w.write(image)
    info = media.probe_video(out)
    assert (info.width, info.height) == (62, 46)
    back = next(media.iter_frames(out)).image
    assert back.shape == (46, 62, 3)
    # Not rescaled: the original pixels stay where they were.
    assert np.abs(back[:45, :61].astype(int) - image).mean() < 3
    # Padding is black (chroma of the shared 2x2 block may bleed a little).
    assert back[45, :60].mean() < 30 and back[:44, 61].mean() < 30


@needs_proc
def test_writer_is_atomic_on_exception(tmp_path):
    out = tmp_path / "clip.mp4"
    with pytest.raises(RuntimeError):
        with media.VideoWriter(out, 64, 48, 25) as w:
            w.write(np.zeros((48, 64, 3), np.uint8))
            assert ffmpeg_children()
            raise RuntimeError("interrupted")
    assert os.listdir(tmp_path) == []
    assert ffmpeg_children() == []


def test_writer_abort_and_empty(tmp_path):
    out = tmp_path / "clip.mp4"
    out.write_bytes(b"previous")
    w = media.VideoWriter(out, 64, 48, 25)
    w.write(np.zeros((48, 64, 3), np.uint8))
    w.abort()
    assert os.listdir(tmp_path) == ["clip.mp4"] and out.read_bytes() == b"previous"

    with pytest.raises(media.MediaError, match="no frames"):
        with media.VideoWriter(tmp_path / "empty.mp4", 64, 48, 25):
            pass
    assert os.listdir(tmp_path) == ["clip.mp4"]

    with media.VideoWriter(tmp_path / "x.mp4", 64, 48, 25) as w:
        with pytest.raises(ValueError):
            w.write(np.zeros((48, 63, 3), np.uint8))
        w.write(np.zeros((48, 64, 3), np.uint8))


def test_encoder_threads_are_passed_to_x264_and_default_to_half_the_cores():
    from movenet_cli.media.encode import _encoder_command
    from movenet_cli.util.system import encoder_threads

    cmd = _encoder_command(64, 48, 25, None, "veryfast", 23, "out.mp4", threads=1)
    assert cmd[cmd.index("libx264") + 1 : cmd.index("libx264") + 3] == ["-threads", "1"]
    assert "-threads" not in _encoder_command(64, 48, 25, None, "veryfast", 23, "out.mp4")
    assert [encoder_threads(n) for n in (1, 2, 3, 8)] == [1, 1, 1, 4]


def test_the_default_preset_gets_its_measured_tuning_and_others_none():
    """veryfast runs with subme 1 and diamond search (bench/encoder.py); a preset the user
    chooses otherwise goes to x264 as it is."""
    from movenet_cli.media.encode import _encoder_command

    cmd = _encoder_command(64, 48, 25, None, "veryfast", 23, "out.mp4")
    assert cmd[cmd.index("-x264-params") + 1] == "subme=1:me=dia"
    assert "-x264-params" not in _encoder_command(64, 48, 25, None, "medium", 23, "out.mp4")
