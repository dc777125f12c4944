"""The ``angles`` drawing layer (``--draw-angles``): joint angles written beside their joints,
as pixels on a real photo with the poses the model finds in it."""

from __future__ import annotations

import numpy as np
import pytest

from helpers import DEMO_CLIP, PERSON_JPG, run_movenet
from movenet_cli import media
from movenet_cli.analysis.angles import JOINT_ANGLES, joint_anchor, pose_angles
from movenet_cli.render.draw import DrawStyle, draw_poses

THRESHOLD = 0.3


@pytest.fixture(scope="module")
def photo(estimators, person_image):
    poses = estimators("multipose")(person_image)
    knees = [p for p in poses if pose_angles(p, threshold=THRESHOLD)["right_knee"] is not None]
    assert knees, "the sample photo should show a person with a measurable right knee"
    return person_image, knees[:1]


def _changed(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.any(a != b, axis=2)


def _near(mask: np.ndarray, xy, reach: int) -> int:
    x, y = int(round(xy[0])), int(round(xy[1]))
    return int(mask[max(0, y - reach):y + reach, max(0, x - reach):x + reach].sum())


def test_angle_text_appears_near_the_knee_only_with_the_layer(photo):
    image, poses = photo
    kp = poses[0].keypoints
    knee = joint_anchor(kp, "right_knee", THRESHOLD)
    plain = draw_poses(image, poses, threshold=THRESHOLD, style=DrawStyle(layers=("skeleton", "points")))
    angled = draw_poses(image, poses, threshold=THRESHOLD, style=DrawStyle(layers=("skeleton", "points"), angles=True))
    same = draw_poses(image, poses, threshold=THRESHOLD, style=DrawStyle(layers=("skeleton", "points", "angles")))
    np.testing.assert_array_equal(angled, same)  # --draw-angles is the "angles" layer
    added = _changed(angled, plain)
    assert _near(added, knee, 40) > 40  # a label beside the knee
    # White text on a black box: both are there next to the knee, and neither was before.
    x, y = int(knee[0]), int(knee[1])
    patch = angled[max(0, y - 40):y + 40, max(0, x - 60):x + 60]
    assert (patch.max(axis=2) < 20).sum() > 30 and (patch.min(axis=2) > 235).sum() > 5
    # Every change is beside some joint that has an angle, none anywhere else.
    anchors = [a for a in (joint_anchor(kp, n, THRESHOLD) for n in JOINT_ANGLES) if a is not None]
    near_any = np.zeros_like(added)
    for ax, ay in anchors:
        near_any[max(0, int(ay) - 40):int(ay) + 40, max(0, int(ax) - 80):int(ax) + 80] = True
    assert added.sum() > 0 and not (added & ~near_any).any()
    # Without a person's knee keypoints the knee label goes, the others stay.
    hidden = poses[0].keypoints.copy()
    hidden[[12, 14, 16], 2] = 0.0  # right hip, knee, ankle below the threshold
    blind = [type(poses[0])(hidden, poses[0].score, poses[0].bbox, poses[0].id)]
    without_knee = draw_poses(image, blind, threshold=THRESHOLD, style=DrawStyle(layers=(), angles=True))
    assert _near(_changed(without_knee, image), knee, 12) == 0


def test_angle_labels_are_integer_degrees_of_pose_angles(photo):
    """The text is the rounded value of pose_angles: a knee bent the other way draws another number."""
    image, poses = photo
    style = DrawStyle(layers=(), angles=True)
    first = draw_poses(image, poses, threshold=THRESHOLD, style=style)
    moved = poses[0].keypoints.copy()
    moved[16, 0] += 0.5 * abs(moved[16, 1] - moved[14, 1])  # swing the right ankle: another knee angle
    other = [type(poses[0])(moved, poses[0].score, poses[0].bbox, poses[0].id)]
    assert round(pose_angles(other[0], threshold=THRESHOLD)["right_knee"]) != round(
        pose_angles(poses[0], threshold=THRESHOLD)["right_knee"])
    second = draw_poses(image, other, threshold=THRESHOLD, style=style)
    knee = joint_anchor(poses[0].keypoints, "right_knee", THRESHOLD)
    assert _near(_changed(first, second), knee, 40) > 10


def test_cli_draw_angles_on_image_and_video(tmp_path):
    plain, angled = tmp_path / "plain.png", tmp_path / "angled.png"
    assert run_movenet("image", PERSON_JPG, "-o", plain, "-q").returncode == 0
    r = run_movenet("image", PERSON_JPG, "-o", angled, "--draw-angles", "-q")
    assert r.returncode == 0, r.stderr
    assert _changed(media.read_image(plain), media.read_image(angled)).sum() > 200
    videos = {}
    for name, extra in (("plain", []), ("angled", ["--draw-angles"])):
        out = tmp_path / f"{name}_clip.mp4"
        r = run_movenet("video", DEMO_CLIP, "-o", out, "--end", "0.2", "-q", *extra)
        assert r.returncode == 0, r.stderr
        videos[name] = [f.image.astype(int) for f in media.iter_frames(out)]
    assert len(videos["plain"]) == len(videos["angled"]) == 6
    diff = [int((np.abs(a - b).max(axis=2) > 100).sum()) for a, b in zip(videos["plain"], videos["angled"])]
    assert min(diff) > 100, diff  # every frame carries its own labels
