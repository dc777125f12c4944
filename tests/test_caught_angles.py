"""Angles as the CSV, the JSON blocks and the API give them, on poses of known geometry: rows, rounding,
empty cells, series of one person, where a joint angle is drawn, and the words of the angle table.

No model: ``standing()`` of ``test_angles.py`` is an upright person facing +x.
"""

from __future__ import annotations

import numpy as np
import pytest

from movenet_cli.analysis.angles import (
    ANGLE_NAMES, angle_series, angle_table, angles_csv_header, angles_csv_rows, angles_model_block, compute_angles,
    frame_angles, joint_anchor, pose_angles,
)
from movenet_cli.types import FrameResult, Pose
from test_angles import K, standing

KNEE_37 = (110 - 80 * np.sin(np.radians(37.123456)), 240 + 80 * np.cos(np.radians(37.123456)))


def _pose(pid: int, **moves) -> Pose:
    pose = standing(**moves)
    return Pose(pose.keypoints, pose.score, pose.bbox, pid)


def test_csv_rows_one_per_person_rounded_with_empty_cells_for_unsure_keypoints():
    unsure = _pose(4)
    unsure.keypoints[K["right_ankle"], 2] = 0.1
    frames = [FrameResult(12, 0.4000004, [_pose(2, right_ankle=KNEE_37), unsure]), FrameResult(13, 0.43, [])]
    rows = angles_csv_rows(frames, threshold=0.3)
    assert angles_csv_header() == ["frame", "time", "person_id", *ANGLE_NAMES] and len(ANGLE_NAMES) == 21
    assert [row[:3] for row in rows] == [[12, 0.4, 2], [12, 0.4, 4]]
    assert all(len(row) == 3 + 21 for row in rows)
    knee = 3 + ANGLE_NAMES.index("right_knee")
    assert rows[0][knee] == 37.12 and rows[1][knee] == "" and rows[1][3 + ANGLE_NAMES.index("left_knee")] == 0.0
    assert angles_csv_rows(frames, threshold=0.05)[1][knee] == 0.0  # the same keypoint passes a lower threshold


def test_csv_rows_mirror_a_person_seen_from_the_left():
    back = [FrameResult(0, 0.0, [_pose(1, right_ankle=(190, 240))])]  # the shank folds toward +x: facing -x
    knee = 3 + ANGLE_NAMES.index("right_knee")
    assert angles_csv_rows(back, side="left")[0][knee] == 90.0
    assert angles_csv_rows(back)[0][knee] == -90.0


def test_json_blocks_by_person_id_rounded_to_two_digits_unless_asked():
    frames = [FrameResult(0, 0.0, [_pose(3, right_ankle=KNEE_37)]), FrameResult(1, 0.1, [])]
    blocks = frame_angles(frames)
    assert list(blocks[0]) == [3] and blocks[1] == {}
    assert blocks[0][3]["right_knee"] == 37.12 and set(blocks[0][3]) == set(ANGLE_NAMES)
    assert frame_angles(frames, digits=4)[0][3]["right_knee"] == 37.1235
    assert frame_angles(frames, digits=None)[0][3]["right_knee"] == pytest.approx(37.123456, abs=1e-9)
    unsure = _pose(3)
    unsure.keypoints[K["right_knee"], 2] = 0.35
    assert frame_angles([FrameResult(0, 0.0, [unsure])], threshold=0.4)[0][3]["right_knee"] is None
    assert frame_angles([FrameResult(0, 0.0, [unsure])], threshold=0.35)[0][3]["right_knee"] == 0.0  # at it: counts
    assert frame_angles([FrameResult(0, 0.0, [_pose(1, right_ankle=(190, 240))])], side="left")[0][1]["right_knee"] == 90.0
    assert pose_angles(_pose(1, right_ankle=KNEE_37), digits=1)["right_knee"] == 37.1


def test_the_model_block_records_what_shaped_the_angles():
    assert angles_model_block() == {"units": "degrees", "convention": "sports2d", "side": "right", "threshold": 0.3,
                                    "names": list(ANGLE_NAMES)}
    assert angles_model_block(0.5, "left")["side"] == "left" and angles_model_block(0.5, "left")["threshold"] == 0.5


def test_an_angle_series_follows_one_person_and_is_nan_where_unsure():
    unsure = _pose(1)
    unsure.keypoints[K["right_hip"], 2] = 0.2
    frames = [FrameResult(0, 0.0, [_pose(1), _pose(2, right_ankle=(30, 240))]), FrameResult(1, 0.1, [_pose(2)]),
              FrameResult(2, 0.2, [unsure]), FrameResult(3, 0.3, [_pose(1, right_ankle=(190, 240))])]
    times, values = angle_series(frames, "right_knee", 1)
    assert times.tolist() == [0.0, 0.2, 0.3] and values[0] == pytest.approx(0.0) and np.isnan(values[1])
    assert values[2] == pytest.approx(-90.0)
    assert angle_series(frames, "right_knee", 1, side="left")[1][2] == pytest.approx(90.0)
    assert not np.isnan(angle_series(frames, "right_knee", 1, threshold=0.1)[1][1])  # a lower threshold: defined
    times, values = angle_series(frames, "right_knee", 2)
    assert times.tolist() == [0.0, 0.1] and values == pytest.approx([90.0, 0.0])
    assert angle_series(frames, "trunk", 9)[0].shape == (0,)


def test_a_joint_angle_is_drawn_at_its_point():
    pose = standing()
    assert joint_anchor(pose.keypoints, "right_knee") == (110.0, 240.0)
    assert joint_anchor(pose.keypoints, "neck") == (100.0, 60.0)  # the midpoint of the shoulders
    pose.keypoints[K["left_shoulder"], 2] = 0.3
    assert joint_anchor(pose.keypoints, "neck", threshold=0.3) == (100.0, 60.0)  # exactly at the threshold
    assert joint_anchor(pose.keypoints, "neck", threshold=0.31) is None
    assert joint_anchor(pose.keypoints.tolist(), "right_knee") == (110.0, 240.0)  # plain lists too


def test_side_must_be_right_or_left():
    with pytest.raises(ValueError, match=r"^side must be one of \('right', 'left'\), not 'front'$"):
        compute_angles(standing().keypoints, side="front")
    with pytest.raises(ValueError, match=r"^unknown angle 'ankle'; known: right_knee, right_hip, "):
        compute_angles(standing().keypoints, names=["trunk", "ankle"])
    ints = np.rint(standing().keypoints).astype(int)  # integer keypoints are read as numbers, not truncated
    assert compute_angles(ints, side="left", names=["trunk"])["trunk"] == pytest.approx(90.0)


def test_the_angle_table_rows_as_rendered():
    lines = angle_table().splitlines()
    assert lines[:2] == ["| angle | kind | keypoints | convention |", "| --- | --- | --- | --- |"]
    assert len(lines) == 2 + 21
    assert lines[2] == ("| `right_knee` | joint | right_ankle, right_knee, right_hip | flexion: 0 straight leg, positive "
                        "when the shank folds back behind the thigh (facing +x) |")
    assert lines[-1] == ("| `head` | segment | nose, neck | direction neck->nose, counter-clockwise from the +x axis with y up; "
                         "+90 straight up (Sports2D uses the top of the head; MoveNet has none, so the nose stands in) |")
