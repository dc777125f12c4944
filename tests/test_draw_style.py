"""Drawing options: layers, widths and face blurring, as pixels on real frames with real poses."""

from __future__ import annotations

import json

import numpy as np
import pytest

from helpers import DEMO_CLIP, PERSON_JPG, run_movenet
from movenet_cli import media
from movenet_cli.render.draw import EDGE_COLORS, POINT_COLOR, DrawStyle, draw_poses, face_region
from movenet_cli.settings import DRAW_LAYERS

THRESHOLD = 0.3


@pytest.fixture(scope="module")
def frame_and_poses(estimators):
    """A frame of the sample clip with both people found (the one with the most keypoints drawn)."""
    est = estimators("multipose", min_pose_score=0.1)
    best = None
    for frame in media.iter_frames(DEMO_CLIP, every=15):
        poses = est(frame.image)
        shown = sum(int((p.keypoints[:, 2] >= THRESHOLD).sum()) for p in poses)
        if len(poses) >= 2 and (best is None or shown > best[2]):
            best = (frame.image, poses, shown)
    assert best is not None
    return best[0], best[1]


def _draw(frame_and_poses, **style):
    image, poses = frame_and_poses
    return draw_poses(image, poses, threshold=THRESHOLD, style=DrawStyle(**style))


def _changed(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.any(a != b, axis=2)


def _colour(image: np.ndarray, rgb) -> int:
    return int(np.all(image == np.array(rgb, np.uint8), axis=2).sum())


def test_default_style_is_todays_look(frame_and_poses):
    image, poses = frame_and_poses
    today = draw_poses(image, poses, threshold=THRESHOLD, show_ids=True)
    default = draw_poses(image, poses, threshold=THRESHOLD, show_ids=True, style=DrawStyle())
    np.testing.assert_array_equal(default, today)  # layers None: the caller's show_ids
    np.testing.assert_array_equal(_draw(frame_and_poses, layers=("skeleton", "points", "ids")), today)


def test_each_layer_can_be_turned_off(frame_and_poses):
    image, _ = frame_and_poses
    every = _draw(frame_and_poses, layers=DRAW_LAYERS)
    np.testing.assert_array_equal(_draw(frame_and_poses, layers=()), image)  # --draw none: the frame as it was
    for layer in DRAW_LAYERS:
        without = _draw(frame_and_poses, layers=tuple(x for x in DRAW_LAYERS if x != layer))
        only = _draw(frame_and_poses, layers=(layer,))
        assert _changed(every, without).sum() > 50, layer  # the layer draws something of its own
        assert _changed(only, image).sum() > 50, layer
    skeleton = _draw(frame_and_poses, layers=("skeleton",))
    points = _draw(frame_and_poses, layers=("points",))
    assert _colour(skeleton, POINT_COLOR) == _colour(image, POINT_COLOR)  # no dots with the skeleton alone
    assert _colour(points, POINT_COLOR) > 100
    for rgb in EDGE_COLORS.values():
        assert _colour(skeleton, rgb) > 50 and _colour(points, rgb) == _colour(image, rgb)


def test_widths_change_the_drawn_pixels(frame_and_poses):
    image, _ = frame_and_poses
    thin = _changed(_draw(frame_and_poses, layers=("skeleton",), line_width=2), image).sum()
    thick = _changed(_draw(frame_and_poses, layers=("skeleton",), line_width=8), image).sum()
    assert thick > 2.5 * thin > 0
    small = _changed(_draw(frame_and_poses, layers=("points",), point_radius=2), image).sum()
    large = _changed(_draw(frame_and_poses, layers=("points",), point_radius=6), image).sum()
    assert large > 4 * small > 0


def test_blur_faces_changes_the_face_and_nothing_far_from_it(frame_and_poses):
    image, poses = frame_and_poses
    blurred = _draw(frame_and_poses, layers=(), blur_faces=True)
    changed = _changed(blurred, image)
    inside = np.zeros_like(changed)
    regions = [face_region(p, THRESHOLD, *image.shape[:2]) for p in poses]
    regions = [r for r in regions if r is not None]
    assert regions
    for pose, (x0, y0, x1, y1) in zip(poses, regions):
        inside[y0:y1, x0:x1] = True
        nose = pose.keypoints[0]
        if nose[2] >= THRESHOLD:
            assert x0 <= nose[0] < x1 and y0 <= nose[1] < y1
        assert (y1 - y0) < 0.5 * (pose.bbox[3] - pose.bbox[1])  # a face, not the person
        diff = np.abs(blurred[y0:y1, x0:x1].astype(int) - image[y0:y1, x0:x1].astype(int)).mean()
        assert diff > 2, diff  # visibly blurred
    assert not (changed & ~inside).any()  # nothing outside the face squares changes
    assert changed.sum() > 0.5 * inside.sum()
    # Blurring sits under the drawing: the skeleton is drawn on top of it.
    both = _draw(frame_and_poses, layers=("skeleton", "points"), blur_faces=True)
    np.testing.assert_array_equal(both[~inside], _draw(frame_and_poses, layers=("skeleton", "points"))[~inside])


def test_style_checks():
    with pytest.raises(Exception, match="unknown drawing layer 'faces'"):
        DrawStyle(layers=("faces",)).check()
    with pytest.raises(Exception, match="line width"):
        DrawStyle(line_width=0).check()


def test_cli_options_reach_image_and_dir_workers(tmp_path):
    """`image` and `dir` (whose workers get the style through RunSettings) draw as asked."""
    source = media.read_image(PERSON_JPG).astype(int)
    plain, drawn = tmp_path / "plain.png", tmp_path / "drawn.png"
    assert run_movenet("image", PERSON_JPG, "-o", plain, "--draw", "none", "-q").returncode == 0
    assert run_movenet("image", PERSON_JPG, "-o", drawn, "--draw", "skeleton", "--line-width", "6", "-q").returncode == 0
    none_diff = np.abs(media.read_image(plain).astype(int) - source).max()
    assert none_diff <= 12  # only JPEG decoding noise: nothing drawn
    assert (np.abs(media.read_image(drawn).astype(int) - source).max(axis=2) > 100).sum() > 500
    r = run_movenet("image", PERSON_JPG, "-o", tmp_path / "x.png", "--draw", "skeleton,wings")
    assert r.returncode == 2 and "wings" in r.stderr
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "p.png").write_bytes(plain.read_bytes())
    r = run_movenet("dir", tmp_path / "in", "-o", tmp_path / "out", "-q", "--draw", "none", "--blur-faces")
    assert r.returncode == 0, r.stderr
    out = media.read_image(tmp_path / "out" / "p.png").astype(int)
    changed = np.abs(out - media.read_image(plain).astype(int)).max(axis=2) > 0
    ys, xs = np.nonzero(changed)
    assert 0 < changed.sum() < 0.05 * changed.size  # only the face, blurred
    doc = json.loads((tmp_path / "out" / "p.png.json").read_text())
    nose = doc["frames"][0]["people"][0]["keypoints"][0]
    assert xs.min() <= nose[0] <= xs.max() and ys.min() <= nose[1] <= ys.max()
    settings = json.loads((tmp_path / "out" / "movenet-run.json").read_text())["settings"]
    assert settings["style"] == {"layers": [], "line_width": None, "point_radius": None, "blur_faces": True,
                                 "angles": False}
