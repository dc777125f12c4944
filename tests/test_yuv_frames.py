"""Frames kept as YUV planes give today's answers: the decoder's RGB bit for bit, the same
keypoints, the same drawing, and planes that reach the MP4 unconverted."""

from __future__ import annotations

import json
import subprocess

import numpy as np
import pytest

from helpers import DEMO_CLIP, PORTRAIT_CLIP, diagonal
from movenet_cli import media, pipeline
from movenet_cli.media.yuv import Yuv420, colour_table, yuv_colours
from movenet_cli.pipeline import video as video_pipeline
from movenet_cli.pose.letterbox import Letterbox, letterbox, letterbox_yuv
from movenet_cli.render.draw import DrawStyle, draw_poses

# Drawing bound: on the pixels the drawing covers (grown by 2 px), the annotated video made from
# planes is within this PSNR of the one made from RGB frames, both encoded losslessly (x264 crf 0)
# so that only the drawing and the colour conversions differ (measured 35.4-36.5 dB). At crf 23 the
# encoder's own noise on the sharp edges of the lines brings the two to about 25 dB of each other.
DRAWN_PSNR_DB = 33.0


@pytest.mark.parametrize("clip", [DEMO_CLIP, PORTRAIT_CLIP], ids=["demo", "rotated"])
def test_planes_give_the_decoders_rgb_and_model_input_bit_for_bit(clip):
    info = media.probe_video(clip)
    table = colour_table(yuv_colours(info))
    box = Letterbox.fit(info.height, info.width, 160, 256)
    rgb = list(media.iter_frames(clip, start=0.5, end=2.0, every=7))
    yuv = list(media.iter_frames(clip, start=0.5, end=2.0, every=7, yuv=True))
    assert [f.index for f in yuv] == [f.index for f in rgb] and len(rgb) >= 5
    for a, b in zip(rgb, yuv):
        assert (b.image.width, b.image.height) == (info.width, info.height)
        np.testing.assert_array_equal(table.to_rgb(b.image), a.image)
        np.testing.assert_array_equal(letterbox_yuv(b.image, box.samples(), box, table), letterbox(a.image, box))


def test_only_8bit_420_bt709_even_sources_stay_planes():
    from movenet_cli.media.probe import VideoInfo

    base = VideoInfo("x", 1768, 994, 30.0, 1, 1.0, 0, False, "vp9", pix_fmt="yuv420p", color_space="bt709",
                     color_range="tv")  # fmt: skip
    assert yuv_colours(base) == ("bt709", "tv")
    assert yuv_colours(media.probe_video(DEMO_CLIP)) == ("bt709", "tv")
    for change in ({"width": 1767}, {"height": 993}, {"pix_fmt": "yuv420p10le"}, {"pix_fmt": "yuv444p"},
                   {"color_space": None}, {"color_space": "smpte170m"}, {"color_range": "pc"}):  # fmt: skip
        assert yuv_colours(VideoInfo(**{**base.__dict__, **change})) is None, change


def _run(est, clip, tmp_path, name, monkeypatch, layout, style=None, end=None):
    monkeypatch.setenv("MOVENET_FRAMES", layout)
    out = tmp_path / f"{name}-{layout}.mp4"
    pipeline.process_video(est, clip, pipeline.Outputs(out, out.with_suffix(".json")), progress=False, style=style,
                           end=end, crf=0, preset="ultrafast")  # fmt: skip
    return out, json.loads(out.with_suffix(".json").read_text())["frames"]


def _decoded(path):
    return [f.image for f in media.iter_frames(path)]


def _drawn_psnr(est, a, b, frames, style=None):
    """PSNR between two annotated videos on the pixels the drawing covers (grown by 2 px)."""
    from PIL import Image, ImageFilter

    from movenet_cli.types import Pose

    errors, count = 0.0, 0
    for x, y, frame in zip(_decoded(a), _decoded(b), frames):
        poses = [Pose(np.array(p["keypoints"]), p["score"], p["bbox"], p["id"]) for p in frame["people"]]
        mask = draw_poses(np.zeros_like(x), poses, threshold=est.threshold, show_ids=True, style=style).any(axis=2)
        mask = np.asarray(Image.fromarray(mask).filter(ImageFilter.MaxFilter(5)))
        errors += float(((x[mask].astype(np.float64) - y[mask]) ** 2).sum())
        count += int(mask.sum()) * 3
    assert count > 0, "nothing was drawn"
    psnr = 10 * np.log10(255**2 / (errors / count))
    print(f"drawn pixels: {psnr:.1f} dB PSNR")
    return psnr


@pytest.mark.parametrize("clip", [DEMO_CLIP, PORTRAIT_CLIP], ids=["demo", "rotated"])
def test_planes_and_rgb_frames_give_the_same_keypoints_and_drawing(estimators, clip, tmp_path, monkeypatch):
    est = estimators("multipose")
    drawn, original = [], video_pipeline.draw_poses_yuv
    monkeypatch.setattr(video_pipeline, "draw_poses_yuv", lambda *a, **k: drawn.append(1) or original(*a, **k))
    rgb_mp4, rgb = _run(est, clip, tmp_path, clip.stem, monkeypatch, "rgb")
    assert not drawn
    yuv_mp4, yuv = _run(est, clip, tmp_path, clip.stem, monkeypatch, "auto")
    assert len(drawn) == len(yuv), "the run did not keep its frames as planes"
    info = media.probe_video(clip)
    limit = 0.005 * diagonal(info.height, info.width)
    assert [f["index"] for f in yuv] == [f["index"] for f in rgb] and len(rgb) >= 30
    for a, b in zip(rgb, yuv):
        assert len(a["people"]) == len(b["people"]), a["index"]
        for p, q in zip(a["people"], b["people"]):
            moved = np.hypot(*(np.array(p["keypoints"])[:, :2] - np.array(q["keypoints"])[:, :2]).T)
            assert moved.max() <= limit, (a["index"], moved.max())
    assert _drawn_psnr(est, rgb_mp4, yuv_mp4, rgb) >= DRAWN_PSNR_DB


def test_blurred_faces_on_planes_look_like_blurred_rgb(estimators, tmp_path, monkeypatch):
    est = estimators("multipose")
    style = DrawStyle(blur_faces=True)
    rgb_mp4, rgb = _run(est, DEMO_CLIP, tmp_path, "blur", monkeypatch, "rgb", style, end=1.0)
    yuv_mp4, _ = _run(est, DEMO_CLIP, tmp_path, "blur", monkeypatch, "auto", style, end=1.0)
    assert _drawn_psnr(est, rgb_mp4, yuv_mp4, rgb, style) >= DRAWN_PSNR_DB


@pytest.mark.parametrize("size", [(322, 182), (96, 994)])
def test_planes_reach_the_mp4_unconverted(tmp_path, size):
    """Sizes that are no multiple of 16 (994 rows, 182 rows): lossless x264 gives the planes back."""
    width, height = size
    src = tmp_path / "src.mp4"
    subprocess.run([media.ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i", f"testsrc2=s={width}x{height}:d=0.2",
                    "-vf", "setparams=range=tv:colorspace=bt709", "-pix_fmt", "yuv420p", "-c:v", "libx264",
                    "-crf", "18", str(src)], check=True)  # fmt: skip
    frames = [f.image for f in media.iter_frames(src, yuv=True)]
    assert frames and all((f.width, f.height) == size for f in frames)
    out = tmp_path / "out.mp4"
    with media.VideoWriter(out, width, height, 25, pix_fmt="yuv420p", preset="ultrafast", crf=0) as writer:
        for frame in frames:
            writer.write(frame)
        with pytest.raises(ValueError):
            writer.write(Yuv420.blank(width + 2, height))
    back = [f.image for f in media.iter_frames(out, yuv=True)]
    assert len(back) == len(frames)
    for a, b in zip(frames, back):
        np.testing.assert_array_equal(a.data, b.data)
    with pytest.raises(ValueError):
        media.VideoWriter(tmp_path / "odd.mp4", width + 1, height, 25, pix_fmt="yuv420p")
