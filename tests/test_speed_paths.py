"""The fast paths give the same answers as the plain ones: resize, drawing, batching, start-up."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image, ImageDraw

from helpers import DEMO_CLIP, PERSON_JPG, PORTRAIT_CLIP, run_movenet
from movenet_cli import media
from movenet_cli.render.draw import BOX_COLOR, EDGE_COLORS, POINT_COLOR, _font, draw_poses, line_width
from movenet_cli.types import SKELETON
from movenet_cli.pose.letterbox import resize


@pytest.fixture(scope="module")
def clip_frames():
    """A few real frames of the sample clip (two people walk and stand in it)."""
    return [f.image for f in media.iter_frames(DEMO_CLIP, every=20)]


def test_resize_is_tf_image_resize(clip_frames):
    """The letterbox resize is TensorFlow's half-pixel bilinear, rounded to uint8 (TF blends the
    other axis first, so its floats differ in the last bits: a value at x.5 may round either way)."""
    from movenet_cli.models._tf import tensorflow

    tf = tensorflow()
    frame = clip_frames[1]
    for h, w in [(143, 256), (144, 256), (192, 192), (600, 1000)]:
        ours = resize(frame, h, w).astype(np.float64)
        ref = tf.image.resize(frame[None], (h, w), method="bilinear", antialias=False)[0].numpy()
        assert np.abs(ours - ref).max() <= 0.51, (h, w)


def test_decoding_only_the_pixels_the_resize_reads():
    """ffmpeg hands over exactly image[rows][:, cols] of the upright frames, ranges and steps kept."""
    from movenet_cli.pose.letterbox import Letterbox, letterbox, letterbox_samples

    info = media.probe_video(PORTRAIT_CLIP)  # stored landscape, rotation 90
    box = Letterbox.fit(info.height, info.width, 256, 160)
    grid = box.samples()
    full = list(media.iter_frames(PORTRAIT_CLIP, start=0.3, end=1.2, every=2))
    part = list(media.iter_frames(PORTRAIT_CLIP, start=0.3, end=1.2, every=2, pixels=(grid.rows, grid.cols)))
    assert [f.index for f in part] == [f.index for f in full] and len(full) == 14
    for a, b in zip(full, part):
        assert b.image.shape == (len(grid.rows), len(grid.cols), 3)
        np.testing.assert_array_equal(b.image, grid.take(a.image))
        np.testing.assert_array_equal(letterbox_samples(b.image, grid, box), letterbox(a.image, box))
    with pytest.raises(ValueError):
        media.iter_frames(PORTRAIT_CLIP, pixels=([0, info.height], [0]))
    with pytest.raises(ValueError):
        media.iter_frames(PORTRAIT_CLIP, size=(90, 160), pixels=([0], [0]))


def test_no_video_gives_the_keypoints_of_the_full_run(tmp_path):
    out = tmp_path / "full.mp4"
    for extra in ([], ["--no-video", "--json", tmp_path / "data.json", "--csv", tmp_path / "data.csv"]):
        r = run_movenet("video", DEMO_CLIP, "-o", out, "--end", "1", "-q", *extra)
        assert r.returncode == 0, r.stderr
    full = json.loads(out.with_suffix(".json").read_text())["frames"]
    data = json.loads((tmp_path / "data.json").read_text())["frames"]
    assert len(full) == 30 and sum(len(f["people"]) for f in full) >= 30
    assert data == full
    assert (tmp_path / "data.csv").read_text() == out.with_suffix(".csv").read_text()


def _draw_whole_frame(image, poses, threshold, show_ids):
    """Reference drawing: every pose drawn straight on one full-frame canvas."""
    canvas = Image.fromarray(image)
    pen = ImageDraw.Draw(canvas)
    lw = line_width(*image.shape[:2])
    radius = max(2, round(lw * 1.4))
    font = _font(max(12, lw * 6))
    for pose in poses:
        kp = pose.keypoints
        for a, b, side in SKELETON:
            if kp[a, 2] >= threshold and kp[b, 2] >= threshold:
                pen.line([(kp[a, 0], kp[a, 1]), (kp[b, 0], kp[b, 1])], fill=EDGE_COLORS[side], width=lw)
        for x, y, score in kp:
            if score >= threshold:
                pen.ellipse([x - radius, y - radius, x + radius, y + radius], fill=POINT_COLOR)
        if show_ids and pose.bbox is not None:
            x0, y0 = pose.bbox[:2]
            left, top, right, bottom = pen.textbbox((x0, y0), str(pose.id), font=font)
            ty = max(0, y0 - (bottom - top) - 2 * lw)
            pen.rectangle([x0, ty, x0 + (right - left) + 2 * lw, ty + (bottom - top) + 2 * lw], fill=(0, 0, 0))
            pen.text((x0 + lw, ty + lw - (top - y0)), str(pose.id), fill=BOX_COLOR, font=font)
    return np.asarray(canvas)


def test_drawing_on_crops_equals_drawing_on_the_whole_frame(estimators, clip_frames):
    est = estimators("multipose", min_pose_score=0.1)
    drawn = 0
    for frame in clip_frames:
        poses = est(frame)
        for threshold in (0.3, 0.05):
            expected = _draw_whole_frame(frame, poses, threshold, show_ids=True)
            before = frame.copy()
            copy = draw_poses(frame, poses, threshold=threshold, show_ids=True)
            np.testing.assert_array_equal(frame, before)  # the input is left alone
            np.testing.assert_array_equal(copy, expected)
            inplace = frame.copy()
            assert draw_poses(inplace, poses, threshold=threshold, show_ids=True, inplace=True) is inplace
            np.testing.assert_array_equal(inplace, expected)
            drawn += len(poses)
    assert drawn >= 10


def test_tflite_batches_give_the_single_frame_answers(store, estimators, clip_frames):
    from movenet_cli.models.runners import make_runner

    est = estimators("multipose")
    tensors = np.stack([est.preprocess(f)[0] for f in clip_frames[:3]])
    single = np.concatenate([est.infer(t[None]) for t in tensors])
    batched = make_runner(store, "multipose", "tflite", threads=2, batch_size=2)(tensors)
    assert batched.shape == single.shape == (3, 6, 56)
    np.testing.assert_allclose(batched, single, atol=1e-4)


def test_video_batch_size_keeps_every_frame_in_order(tmp_path):
    outs = {}
    for batch in (1, 3):
        out = tmp_path / f"b{batch}.json"
        r = run_movenet("video", DEMO_CLIP, "--no-video", "--json", out, "--end", "0.5", "--batch-size", batch)
        assert r.returncode == 0, r.stderr
        assert "15 frames in" in r.stderr  # interpreters made side by side leave stderr working
        outs[batch] = json.loads(out.read_text())
    assert outs[3]["frames"] and [f["index"] for f in outs[3]["frames"]] == list(range(15))
    for a, b in zip(outs[1]["frames"], outs[3]["frames"]):
        assert len(a["people"]) == len(b["people"])
        for pa, pb in zip(a["people"], b["people"]):
            np.testing.assert_allclose(pa["keypoints"], pb["keypoints"], atol=0.02)


def test_commands_that_need_no_tensorflow_do_not_import_it(estimators, tmp_path):
    """--help, models list and a TFLite image run start without loading TensorFlow."""
    estimators("multipose", "tflite")  # the TFLite conversion is cached (that step does need TensorFlow)
    script = (
        "import sys\n"
        "from movenet_cli.cli import main\n"
        "sys.argv = ['movenet'] + sys.argv[1:]\n"
        "code = 0\ntry:\n    main()\n"
        "except SystemExit as exc:\n    code = exc.code\n"
        "print('TENSORFLOW' if 'tensorflow' in sys.modules else 'NO-TENSORFLOW', code, file=sys.stderr)\n"
    )
    out = tmp_path / "out.jpg"
    for args in (["--help"], ["models", "list"], ["image", str(PERSON_JPG), "-o", str(out), "--backend", "tflite", "-q"]):
        r = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True, timeout=120)
        assert r.stderr.strip().splitlines()[-1] == "NO-TENSORFLOW 0", (args, r.stderr)
    assert out.exists() and out.with_suffix(".json").exists()


def test_a_failing_writer_stops_a_batched_run(estimators, tmp_path, monkeypatch):
    """The writer thread dying mid-run ends the run with its error instead of a hang."""
    import threading
    import time

    from movenet_cli import pipeline
    from movenet_cli.pipeline import video as video_pipeline

    calls = []

    def failing_draw(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            time.sleep(1.5)  # the model thread meanwhile fills the queue and waits on it
            raise OSError("disk full")
        return args[0]

    monkeypatch.setattr(video_pipeline, "draw_poses", failing_draw)
    monkeypatch.setattr(video_pipeline, "draw_poses_yuv", failing_draw)  # frames kept as YUV planes
    est = estimators("multipose", "tflite", batch_size=3)
    out = tmp_path / "out.mp4"
    outcome = {}

    def run():
        try:
            pipeline.process_video(est, DEMO_CLIP, pipeline.Outputs(out, tmp_path / "o.json"), end=2.0, progress=False)
        except OSError as exc:
            outcome["error"] = exc

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(60)
    assert not worker.is_alive(), "the run hung after its writer failed"
    assert "disk full" in str(outcome.get("error"))
    assert not out.exists() and not (tmp_path / "o.json").exists()
