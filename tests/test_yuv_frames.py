"""Frames kept as YUV planes give today's answers: the decoder's RGB bit for bit, the same
keypoints, the same drawing, and planes that reach the MP4 unconverted."""

from __future__ import annotations

import json
import subprocess

import numpy as np
import pytest

from helpers import DEMO_CLIP, PORTRAIT_CLIP, diagonal
from movenet_cli import media, pipeline
from movenet_cli.media.yuv import Yuv420, colour_table, plane_filter
from movenet_cli.pipeline import video as video_pipeline
from movenet_cli.pose.crops import Crop, crop_resize
from movenet_cli.pose.letterbox import Letterbox, letterbox
from movenet_cli.render.draw import DrawStyle, draw_poses

# Drawing bound: on the pixels the drawing covers (grown by 2 px), the annotated video made from
# planes is within this PSNR of the one made from RGB frames, both encoded losslessly (x264 crf 0)
# so that only the drawing and the colour conversions differ (measured 35.4-36.5 dB). At crf 23 the
# encoder's own noise on the sharp edges of the lines brings the two to about 25 dB of each other.
DRAWN_PSNR_DB = 33.0


@pytest.mark.parametrize("clip", [DEMO_CLIP, PORTRAIT_CLIP], ids=["demo", "rotated"])
def test_planes_give_the_decoders_rgb_and_model_input_bit_for_bit(clip):
    info = media.probe_video(clip)
    table = colour_table()
    box = Letterbox.fit(info.height, info.width, 160, 256)
    rgb = list(media.iter_frames(clip, start=0.5, end=2.0, every=7))
    yuv = list(media.iter_frames(clip, start=0.5, end=2.0, every=7, yuv=True, table=table))
    assert [f.index for f in yuv] == [f.index for f in rgb] and len(rgb) >= 5
    # Crops as following, refinement and the accuracy levels cut them: inside, across an edge and
    # a corner, odd sizes and offsets, larger than the frame.
    h, w = info.height, info.width
    crops = [Crop(w * 0.3 + 0.7, h * 0.2 + 0.3, min(h, w) * 0.5, 192), Crop(-41.5, h - 77.25, 255.0, 256),
             Crop(w - 13.0, -9.0, 31.0, 192), Crop(-w * 0.1, -h * 0.3, max(h, w) * 1.4, 256)]  # fmt: skip
    for a, b in zip(rgb, yuv):
        assert b.image.shape == a.image.shape == (h, w, 3)
        np.testing.assert_array_equal(table.to_rgb(b.image), a.image)
        np.testing.assert_array_equal(letterbox(b.image, box), letterbox(a.image, box))
        for crop in crops:
            np.testing.assert_array_equal(crop_resize(b.image, crop), crop_resize(a.image, crop))


def test_the_stored_colour_table_is_the_captured_one(tmp_path, monkeypatch):
    from movenet_cli.media import yuv

    monkeypatch.setattr(yuv, "_TABLES", {})
    (tmp_path / "yuv2rgb-ffmpeg-1-bt709-tv.bin").write_bytes(b"an earlier, 16 MB layout")
    captured = colour_table(cache=tmp_path)
    stored = list(tmp_path.glob("yuv2rgb4-*.bin"))
    assert [p.name for p in tmp_path.iterdir()] == [stored[0].name]  # the earlier layout is gone
    assert stored[0].stat().st_size < 400_000
    monkeypatch.setattr(yuv, "_TABLES", {})
    monkeypatch.setattr(yuv, "_capture", lambda colours: pytest.fail("captured again"))
    loaded = colour_table(cache=tmp_path)
    for name in ("r", "b", "g_index", "g_columns"):
        np.testing.assert_array_equal(getattr(loaded, name), getattr(captured, name))
    stored[0].write_bytes(stored[0].read_bytes()[:-256])  # a truncated file is captured again
    monkeypatch.setattr(yuv, "_TABLES", {})
    with pytest.raises(pytest.fail.Exception):
        colour_table(cache=tmp_path)


def test_planar_yuv_sources_become_planes_in_the_decoder():
    from movenet_cli.media.probe import VideoInfo

    base = VideoInfo("x", 1768, 994, 30.0, 1, 1.0, 0, False, "vp9", pix_fmt="yuv420p", color_space="bt709",
                     color_range="tv")  # fmt: skip
    assert plane_filter(base) == plane_filter(media.probe_video(DEMO_CLIP)) == ""
    like = lambda **change: VideoInfo(**{**base.__dict__, **change})  # noqa: E731
    assert plane_filter(like(pix_fmt="yuv420p10le")) == plane_filter(like(pix_fmt="yuv444p")) == "format=yuv420p"
    for change in ({"color_space": None}, {"color_space": "smpte170m"}, {"color_range": "pc"},
                   {"pix_fmt": "yuvj420p", "color_range": None}, {"color_space": "bt2020nc", "pix_fmt": "yuv420p10le"}):
        assert "colorspace=ispace=" in plane_filter(like(**change)), change
    for change in ({"width": 1767}, {"height": 993}, {"pix_fmt": "rgb24"}, {"pix_fmt": "gray"}, {"pix_fmt": "nv12"},
                   {"color_space": "fcc"}, {"color_space": "gbr", "pix_fmt": "gbrp"}):  # fmt: skip
        assert plane_filter(like(**change)) is None, change


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


@pytest.mark.parametrize("model, options, media_out", [
    ("lightning", {}, True),                      # crop following, one frame at a time
    ("lightning", {}, False),                     # the same without an annotated video
    ("multipose", {"refine": "thunder"}, True),   # SinglePose on a square around each person
    ("thunder", {"accuracy": "max"}, False),      # crop pass, flips
    ("multipose", {"accuracy": "high"}, True),    # two input sizes, refinement
], ids=["follow", "follow-no-video", "refine", "singlepose-max", "multipose-high"])  # fmt: skip
def test_crops_and_inputs_cut_from_planes_give_identical_keypoints(estimators, tmp_path, monkeypatch, model, options,
                                                                   media_out):
    """Whatever looks at pixels beyond the letterbox (crop following, refinement, accuracy levels)
    reads them from the planes: no whole RGB frame is made, and the keypoints are the RGB way's."""
    est = estimators(model, **options)
    seen = []
    original = video_pipeline.FrameProcessor.estimate
    monkeypatch.setattr(video_pipeline.FrameProcessor, "estimate",
                        lambda self, images, *a: seen.append(type(images[0])) or original(self, images, *a))
    found = {}
    for layout in ("rgb", "auto"):
        monkeypatch.setenv("MOVENET_FRAMES", layout)
        out = tmp_path / f"{layout}.mp4"
        outputs = pipeline.Outputs(out if media_out else None, out.with_suffix(".json"))
        pipeline.process_video(est, DEMO_CLIP, outputs, progress=False, end=1.0, preset="ultrafast")
        found[layout] = [[p["keypoints"] for p in f["people"]] for f in json.loads(outputs.json.read_text())["frames"]]
    assert set(seen[: len(seen) // 2]) == {np.ndarray} and set(seen[len(seen) // 2 :]) == {Yuv420}
    assert len(found["rgb"]) >= 25 and any(found["rgb"])
    assert found["auto"] == found["rgb"]


def _matched_moves(a: list, b: list, min_score: float = 0.3) -> tuple[list, int]:
    """Moves of the keypoints both runs are confident of, people paired by nearest keypoints;
    and how many confident people have no partner."""
    moves, alone = [], 0
    for x, y in zip(a, b):
        others = [np.array(q["keypoints"]) for q in y["people"]]
        paired = set()
        for person in x["people"]:
            p = np.array(person["keypoints"])
            gaps = [np.inf if j in paired else np.median(np.hypot(*(p[:, :2] - q[:, :2]).T)) for j, q in enumerate(others)]
            if not gaps or not np.isfinite(min(gaps)):
                alone += person["score"] >= min_score
                continue
            j = int(np.argmin(gaps))
            paired.add(j)
            both = (p[:, 2] >= min_score) & (others[j][:, 2] >= min_score)
            moves += list(np.hypot(*(p[both, :2] - others[j][both, :2]).T))
        alone += sum(q["score"] >= min_score for j, q in enumerate(y["people"]) if j not in paired)
    return moves, alone


# Sources in other layouts are converted to 8-bit 4:2:0 BT.709 limited-range planes in the decoder.
# The model then sees the converted pixels, not ffmpeg's direct conversion to RGB: within a level
# or three of it, which moves keypoints as much as +-1 of noise on the model input does (measured
# on the bench clip: median 0.03-0.04%, 99th percentile 0.3-0.5% of the diagonal, for both).
CONVERTED = {
    "10bit": ["-pix_fmt", "yuv420p10le"],
    "bt2020-10bit": ["-vf", "colorspace=space=bt2020ncl:trc=bt709:primaries=bt709:iall=bt709:format=yuv420p10",
                     "-pix_fmt", "yuv420p10le"],
    "444": ["-pix_fmt", "yuv444p"],
    "bt601-fullrange": ["-vf", "colorspace=all=bt601-6-525:iall=bt709:format=yuv420p", "-pix_fmt", "yuvj420p"],
    "untagged": ["-vf", "setparams=colorspace=unknown:range=unknown", "-pix_fmt", "yuv420p"],
}


@pytest.mark.parametrize("layout", list(CONVERTED))
def test_converted_planes_show_the_colours_ffmpeg_shows(tmp_path, layout):
    """Saturated colours (test bars, blurred: ffmpeg interpolates chroma where it converts 10-bit or
    4:4:4 to RGB, which sharp edges would show), so that a wrong matrix or range shows: the planes a
    layout is converted to give, through the table, the RGB ffmpeg gives for the file itself."""
    clip = tmp_path / f"bars-{layout}.mkv"
    subprocess.run([media.ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i", "testsrc2=s=320x240:d=0.2", "-vf",
                    "gblur=sigma=4,setparams=colorspace=bt709:range=tv:color_primaries=bt709:color_trc=bt709,format=yuv444p",
                    "-c:v", "ffv1", "-f", "matroska", str(tmp_path / "src.mkv")], check=True)  # fmt: skip
    subprocess.run([media.ffmpeg_exe(), "-v", "error", "-i", str(tmp_path / "src.mkv"), *CONVERTED[layout],
                    "-c:v", "libx264", "-preset", "ultrafast", "-crf", "0", str(clip)], check=True)  # fmt: skip
    table = colour_table()
    shown = [f.image.astype(int) for f in media.iter_frames(clip)]
    planes = [table.to_rgb(f.image).astype(int) for f in media.iter_frames(clip, yuv=True, table=table)]
    assert len(shown) == len(planes) >= 4
    gaps = np.concatenate([np.abs(a - b).ravel() for a, b in zip(shown, planes)])
    print(f"{layout}: mean {gaps.mean():.2f}, 99.9th percentile {np.percentile(gaps, 99.9):.0f}, max {gaps.max()}")
    # Measured: 0.4-0.8 levels on average (1.7 for 4:4:4, whose chroma the planes halve); a wrong
    # matrix or range: 3.6 (BT.2020 taken as BT.709) to 10 levels.
    assert gaps.mean() <= 2.0


@pytest.mark.parametrize("layout", list(CONVERTED))
def test_other_yuv_layouts_become_planes_once_and_agree(estimators, tmp_path, monkeypatch, layout):
    clip = tmp_path / f"{layout}.mp4"
    subprocess.run([media.ffmpeg_exe(), "-v", "error", "-i", str(DEMO_CLIP), "-t", "1", *CONVERTED[layout],
                    "-c:v", "libx264", "-preset", "ultrafast", "-crf", "10", str(clip)], check=True)  # fmt: skip
    info = media.probe_video(clip)
    assert plane_filter(info), (info.pix_fmt, info.color_space, info.color_range)
    est = estimators("multipose")
    drawn, original = [], video_pipeline.draw_poses_yuv
    monkeypatch.setattr(video_pipeline, "draw_poses_yuv", lambda *a, **k: drawn.append(1) or original(*a, **k))
    rgb_mp4, rgb = _run(est, clip, tmp_path, layout, monkeypatch, "rgb")
    yuv_mp4, yuv = _run(est, clip, tmp_path, layout, monkeypatch, "auto")
    assert len(drawn) == len(yuv) == len(rgb) >= 25, "the run did not keep its frames as planes"
    moves, alone = _matched_moves(rgb, yuv)
    diag = diagonal(info.height, info.width)
    assert alone == 0 and len(moves) > 300
    assert np.median(moves) <= 0.001 * diag and np.percentile(moves, 95) <= 0.005 * diag, np.percentile(moves, [50, 95])
    # Colours: away from the drawing, the planes way is as close to the source as the RGB way, or closer.
    error = {"rgb": 0.0, "yuv": 0.0}
    for source, a, b in zip(_decoded(clip), _decoded(rgb_mp4), _decoded(yuv_mp4)):
        source = source.astype(np.float64)
        undrawn = (np.abs(a - source).max(-1) <= 40) & (np.abs(b - source).max(-1) <= 40)
        error["rgb"] += float(((a - source)[undrawn] ** 2).sum())
        error["yuv"] += float(((b - source)[undrawn] ** 2).sum())
    assert error["yuv"] <= error["rgb"] * 1.05, error


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
