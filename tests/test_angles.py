"""Joint and segment angles: each convention pinned on poses of known geometry, then the real clip."""

from __future__ import annotations

import csv
import io

import numpy as np
import pytest

from movenet_cli.analysis.angles import (
    ANGLE_NAMES,
    ANGLES,
    angle_series,
    angle_table,
    angles_csv_header,
    angles_csv_rows,
    compute_angles,
    frame_angles,
    pose_angles,
)
from movenet_cli.types import KEYPOINT_NAMES, FrameResult, Pose

K = {name: i for i, name in enumerate(KEYPOINT_NAMES)}


def standing(**moves) -> Pose:
    """A person standing upright, facing +x, in image pixels (y down); ``moves`` override points."""
    pts = {
        "nose": (100, 20), "left_eye": (104, 16), "right_eye": (104, 16), "left_ear": (95, 18), "right_ear": (95, 18),
        "left_shoulder": (90, 60), "right_shoulder": (110, 60),
        "left_elbow": (90, 110), "right_elbow": (110, 110), "left_wrist": (90, 160), "right_wrist": (110, 160),
        "left_hip": (90, 160), "right_hip": (110, 160), "left_knee": (90, 240), "right_knee": (110, 240),
        "left_ankle": (90, 320), "right_ankle": (110, 320),
    }
    pts.update(moves)
    kp = np.ones((17, 3))
    for name, xy in pts.items():
        kp[K[name], :2] = xy
    return Pose(kp, 0.9, (80, 10, 120, 330), 1)


def test_a_right_angle_at_the_knee_reads_90():
    pose = standing(right_knee=(110, 240), right_ankle=(30, 240))  # shank straight back, facing +x
    assert pose_angles(pose)["right_knee"] == pytest.approx(90.0, abs=0.1)
    pose = standing(right_ankle=(110 - 80 * np.sin(np.radians(37)), 240 + 80 * np.cos(np.radians(37))))
    assert pose_angles(pose)["right_knee"] == pytest.approx(37.0, abs=0.1)


def test_upright_pose_conventions():
    a = pose_angles(standing())
    for joint in ("knee", "hip", "shoulder", "elbow"):
        for side in ("left", "right"):
            assert a[f"{side}_{joint}"] == pytest.approx(0.0, abs=1e-9), joint
    for seg in ("shank", "thigh", "arm", "forearm"):
        assert a[f"right_{seg}"] == pytest.approx(-90.0) and a[f"left_{seg}"] == pytest.approx(-90.0)
    assert a["trunk"] == pytest.approx(90.0)
    assert a["head"] == pytest.approx(90.0)  # nose straight above the neck
    assert a["pelvis"] == pytest.approx(0.0) and a["shoulders"] == pytest.approx(0.0)
    assert a["neck"] == pytest.approx(0.0)  # nose straight above the neck, in line with the trunk


def test_flexion_signs_facing_plus_x():
    hip = standing(right_knee=(190, 160), right_ankle=(190, 240))  # thigh forward, horizontal
    a = pose_angles(hip)
    assert a["right_hip"] == pytest.approx(90.0) and a["right_knee"] == pytest.approx(90.0)
    assert a["right_thigh"] == pytest.approx(0.0)  # hip -> knee points +x
    assert a["right_shank"] == pytest.approx(-90.0)
    arm = pose_angles(standing(right_elbow=(160, 60), right_wrist=(160, 10)))  # arm forward, forearm up
    assert arm["right_shoulder"] == pytest.approx(90.0)
    assert arm["right_elbow"] == pytest.approx(90.0)
    assert arm["right_arm"] == pytest.approx(0.0) and arm["right_forearm"] == pytest.approx(90.0)
    lean = pose_angles(standing(nose=(160, 40), left_shoulder=(130, 80), right_shoulder=(130, 80)))
    assert lean["trunk"] == pytest.approx(np.degrees(np.arctan2(80, 30)))  # leaning forward: below 90
    assert lean["trunk"] < 90


def test_pelvis_and_shoulders_are_level_at_zero_and_wrap_to_90():
    front = standing(left_hip=(130, 160), right_hip=(70, 160), left_shoulder=(130, 60), right_shoulder=(70, 60))
    a = pose_angles(front)
    assert a["pelvis"] == pytest.approx(0.0) and a["shoulders"] == pytest.approx(0.0)
    tilted = pose_angles(standing(left_hip=(130, 150), right_hip=(70, 160)))  # left hip higher (y up)
    assert tilted["pelvis"] == pytest.approx(np.degrees(np.arctan2(10, 60)))
    # seen from behind, the same line: a line's inclination, whichever hip is on the left
    mirrored = pose_angles(standing(left_hip=(70, 160), right_hip=(130, 150)))
    assert mirrored["pelvis"] == pytest.approx(np.degrees(np.arctan2(10, 60)))
    falling = pose_angles(standing(left_hip=(130, 170), right_hip=(70, 160)))
    assert falling["pelvis"] == pytest.approx(-np.degrees(np.arctan2(10, 60)))


def test_side_left_mirrors_so_flexion_stays_positive():
    facing_minus_x = standing(right_knee=(110, 240), right_ankle=(190, 240))
    assert pose_angles(facing_minus_x)["right_knee"] == pytest.approx(-90.0)
    assert pose_angles(facing_minus_x, side="left")["right_knee"] == pytest.approx(90.0)
    with pytest.raises(ValueError):
        compute_angles(facing_minus_x.keypoints, side="front")


def test_side_left_mirrors_x_not_y_so_segments_keep_their_meaning():
    """Seen from the left (facing -x), x is mirrored: up stays up, backward becomes forward."""
    kicking_back = standing(right_knee=(110, 240), right_ankle=(190, 240))  # shank horizontal, toward +x
    right, left = pose_angles(kicking_back), pose_angles(kicking_back, side="left")
    assert right["right_shank"] == pytest.approx(0.0) and abs(left["right_shank"]) == pytest.approx(180.0)
    assert left["right_thigh"] == pytest.approx(-90.0) and left["trunk"] == pytest.approx(90.0)  # not flipped upside down
    assert left["head"] == pytest.approx(90.0) and left["right_arm"] == pytest.approx(-90.0)
    tilted = standing(left_hip=(130, 150), right_hip=(70, 160))  # the left hip higher in the image
    assert pose_angles(tilted, side="left")["pelvis"] == pytest.approx(-pose_angles(tilted)["pelvis"])


def test_neck_flexion_is_positive_with_the_head_forward():
    """Facing +x, the nose ahead of the trunk line reads positive flexion; behind it, negative."""
    for dx, sign in ((30, 1), (-30, -1)):
        pose = standing(nose=(100 + dx, 20))  # neck (mid-shoulders) at (100, 60), trunk vertical
        expected = sign * np.degrees(np.arctan2(30, 40))
        assert pose_angles(pose)["neck"] == pytest.approx(expected)
        assert pose_angles(pose)["head"] == pytest.approx(90 - expected)
        assert pose_angles(standing(nose=(100 - dx, 20)), side="left")["neck"] == pytest.approx(expected)


def test_below_threshold_keypoints_give_none_not_a_number():
    pose = standing()
    pose.keypoints[K["right_ankle"], 2] = 0.29
    a = pose_angles(pose, threshold=0.3)
    assert a["right_knee"] is None and a["right_shank"] is None
    assert a["left_knee"] == pytest.approx(0.0) and a["right_thigh"] == pytest.approx(-90.0)
    pose.keypoints[K["left_shoulder"], 2] = 0.1  # the neck needs both shoulders
    a = pose_angles(pose, threshold=0.3)
    assert a["trunk"] is None and a["right_hip"] is None and a["neck"] is None and a["shoulders"] is None
    assert a["pelvis"] is not None
    assert pose_angles(pose, threshold=0.05)["trunk"] == pytest.approx(90.0)


def test_arrays_of_frames_at_once():
    poses = np.stack([standing().keypoints, standing(right_ankle=(30, 240)).keypoints])
    out = compute_angles(poses[None], names=["right_knee", "trunk"])
    assert out["right_knee"].shape == (1, 2)
    assert out["right_knee"][0] == pytest.approx([0.0, 90.0])
    with pytest.raises(ValueError, match="unknown angle"):
        compute_angles(poses, names=["left_ankle"])


def test_table_lists_every_angle_with_its_keypoints():
    table = angle_table()
    assert len(ANGLES) == len(ANGLE_NAMES) == 21
    for a in ANGLES:
        assert f"`{a.name}`" in table
    assert "nose stands in" in table


@pytest.fixture(scope="module")
def clip_doc(clip_second):
    """The real MultiPose result of the first second of the sample clip."""
    return clip_second


def test_clip_angles_csv_and_json_blocks_agree(clip_doc):
    frames = clip_doc.frames
    rows = angles_csv_rows(frames)
    assert len(rows) == sum(len(f.people) for f in frames) > 0
    blocks = frame_angles(frames)
    text = io.StringIO()
    csv.writer(text).writerows([angles_csv_header(), *rows])
    back = list(csv.DictReader(io.StringIO(text.getvalue())))
    i = 0
    for frame, block in zip(frames, blocks):
        for pose in frame.people:
            row = back[i]
            i += 1
            assert int(row["frame"]) == frame.index and int(row["person_id"]) == pose.id
            for name in ANGLE_NAMES:
                value = block[pose.id][name]
                assert (row[name] == "") == (value is None)
                if value is not None:
                    assert float(row[name]) == value
    # the standing man and the walking woman: knees and trunk found in most frames
    knees = [b[pid]["right_knee"] for b in blocks for pid in b]
    assert sum(v is not None for v in knees) >= 0.8 * len(knees)
    trunks = [v for b in blocks for pid in b if (v := b[pid]["trunk"]) is not None]
    assert all(60 < v < 120 for v in trunks), trunks  # both people upright


def test_clip_empty_angles_are_exactly_the_unsure_keypoints(clip_doc):
    for frame in clip_doc.frames:
        for pose in frame.people:
            sure = pose.keypoints[:, 2] >= 0.3
            knee = pose_angles(pose)["left_knee"]
            needed = sure[[K["left_ankle"], K["left_knee"], K["left_hip"]]].all()
            assert (knee is not None) == needed


def test_angle_series_follows_one_person(clip_doc):
    pid = clip_doc.frames[0].people[0].id
    times, values = angle_series(clip_doc.frames, "right_knee", pid)
    assert len(times) == sum(any(p.id == pid for p in f.people) for f in clip_doc.frames)
    assert np.all(np.diff(times) > 0)
    assert np.nanmax(np.abs(values)) <= 180


def test_empty_frames_give_no_rows():
    assert angles_csv_rows([FrameResult(0, 0.0, [])]) == []
