"""render/draw.py: the documented colours on the documented sides, and drawing on crops (the fast
path) giving exactly the whole-frame drawing of an independent reference."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from helpers import CYAN, DEMO_CLIP, EDGES, MAGENTA, SIDE_COLOR
from movenet_cli import media
from movenet_cli.render.draw import draw_poses
from movenet_cli.types import KEYPOINT_NAMES, Pose

POINT = (255, 20, 147)  # keypoint dots: deep pink
LABEL = (255, 255, 255)  # id text, on black



def _stick_figure(cx: float, top: float, scale: float = 1.0) -> Pose:
    """A person facing the camera: their left side is on the image's right."""
    at = {
        "nose": (0, 0), "left_eye": (6, -5), "right_eye": (-6, -5), "left_ear": (14, 0), "right_ear": (-14, 0),
        "left_shoulder": (40, 50), "right_shoulder": (-40, 50), "left_elbow": (70, 110), "right_elbow": (-70, 110),
        "left_wrist": (90, 170), "right_wrist": (-90, 170), "left_hip": (30, 170), "right_hip": (-30, 170),
        "left_knee": (35, 260), "right_knee": (-35, 260), "left_ankle": (40, 350), "right_ankle": (-40, 350),
    }  # fmt: skip
    kp = np.array([[cx + at[n][0] * scale, top + at[n][1] * scale, 0.9] for n in KEYPOINT_NAMES])
    return Pose(kp, 0.9, (kp[:, 0].min(), kp[:, 1].min(), kp[:, 0].max(), kp[:, 1].max()), id=1)


def test_each_side_is_drawn_in_its_documented_colour():
    frame = np.zeros((480, 640, 3), np.uint8)
    pose = _stick_figure(320, 60)
    drawn = draw_poses(frame, [pose], threshold=0.3)
    index = {name: i for i, name in enumerate(KEYPOINT_NAMES)}
    for a, b, side in EDGES:
        if "eye" in a + b or "ear" in a + b:
            continue  # too short: the dots cover them
        # a point 40% of the way along the edge: clear of the dots at its ends
        x, y = pose.keypoints[index[a], :2] * 0.6 + pose.keypoints[index[b], :2] * 0.4
        assert tuple(drawn[int(round(y)), int(round(x))]) == SIDE_COLOR[side], (a, b, side)
    x, y = pose.keypoints[index["left_knee"], :2]
    assert tuple(drawn[int(y), int(x)]) == POINT
    # facing the camera, the person's left side (magenta) is on the image's right
    magenta = np.all(drawn == MAGENTA, axis=2).nonzero()[1]
    cyan = np.all(drawn == CYAN, axis=2).nonzero()[1]
    assert len(magenta) > 200 and len(cyan) > 200
    assert magenta.min() > 320 - 3 and cyan.max() < 320 + 3
    low = Pose(pose.keypoints * [1, 1, 0.1], 0.9, pose.bbox)
    assert draw_poses(frame, [low], threshold=0.3).max() == 0


def _reference_drawing(image: np.ndarray, poses, threshold: float) -> np.ndarray:
    """Every pose drawn straight on one full-frame canvas, with the documented look: lines
    1/320 of the diagonal wide (at least 2 px), dots 1.4 times that, ids in Pillow's default
    font of 6 line widths (at least 12 px) on a black box above the person's box."""
    canvas = Image.fromarray(image)
    pen = ImageDraw.Draw(canvas)
    height, width = image.shape[:2]
    lw = max(2, round((height * height + width * width) ** 0.5 / 320))
    radius = max(2, round(lw * 1.4))
    font = ImageFont.load_default(size=max(12, lw * 6))
    index = {name: i for i, name in enumerate(KEYPOINT_NAMES)}
    for pose in poses:
        kp = pose.keypoints
        for a, b, side in EDGES:
            a, b = index[a], index[b]
            if kp[a, 2] >= threshold and kp[b, 2] >= threshold:
                pen.line([(kp[a, 0], kp[a, 1]), (kp[b, 0], kp[b, 1])], fill=SIDE_COLOR[side], width=lw)
        for x, y, score in kp:
            if score >= threshold:
                pen.ellipse([x - radius, y - radius, x + radius, y + radius], fill=POINT)
        if pose.bbox is not None:
            x0, y0 = pose.bbox[:2]
            left, top, right, bottom = pen.textbbox((x0, y0), str(pose.id), font=font)
            ty = max(0, y0 - (bottom - top) - 2 * lw)
            pen.rectangle([x0, ty, x0 + (right - left) + 2 * lw, ty + (bottom - top) + 2 * lw], fill=(0, 0, 0))
            pen.text((x0 + lw, ty + lw - (top - y0)), str(pose.id), fill=LABEL, font=font)
    return np.asarray(canvas)


@pytest.fixture(scope="module")
def clip_frames():
    """A few real frames of the sample clip (two people walk and stand in it)."""
    return [f.image for f in media.iter_frames(DEMO_CLIP, every=20)]


def test_drawing_on_crops_equals_drawing_on_the_whole_frame(estimators, clip_frames):
    est = estimators("multipose", min_pose_score=0.1)
    drawn = 0
    for frame in clip_frames:
        poses = est(frame)
        for threshold in (0.3, 0.05):
            expected = _reference_drawing(frame, poses, threshold)
            before = frame.copy()
            copy = draw_poses(frame, poses, threshold=threshold, show_ids=True)
            np.testing.assert_array_equal(frame, before)  # the input is left alone
            np.testing.assert_array_equal(copy, expected)
            inplace = frame.copy()
            assert draw_poses(inplace, poses, threshold=threshold, show_ids=True, inplace=True) is inplace
            np.testing.assert_array_equal(inplace, expected)
            drawn += len(poses)
    assert drawn >= 10
