"""The arithmetic of the accuracy levels on synthetic people: OKS at its edges, box areas, averaging,
which person seeds a fused cluster, scores exactly at a limit, and what an estimator says it runs.

No model: the people are built here (``test_caught_accuracy.py`` stands in for the model passes).
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from movenet_cli.pose.accuracy import (
    AccurateEstimator, Recipe, average, fuse, mirror_poses, oks, pose_area, pose_oks,
)
from movenet_cli.types import COCO_SIGMAS, Pose
from test_caught_accuracy import FRAME, High, Refiner, _estimator, figure


def test_oks_counts_keypoints_exactly_at_the_least_score_and_floors_the_area():
    k = np.column_stack([np.arange(17.0), np.zeros(17), np.full(17, 0.5)])
    assert oks(k, k, 100.0, min_score=0.5) == 1.0
    moved = k.copy()
    moved[:, 0] += 1.0
    assert oks(k, moved, 0.5) == pytest.approx(np.mean(np.exp(-1.0 / (2 * 0.5 * (2 * COCO_SIGMAS) ** 2))))
    assert oks(k, moved, 100.0, min_score=0.6) == 0.0  # no keypoint counts


def test_a_box_area_and_without_a_box_the_keypoints_extent():
    person = figure(50, 40, 0.9)
    assert pose_area(Pose(person.keypoints, 0.9, None)) == pytest.approx(40.0 * 90.0)
    assert pose_area(Pose(person.keypoints, 0.9, (10.0, 0.0, 10.0, 50.0))) == 0.0  # a box of no width
    assert pose_area(Pose(person.keypoints, 0.9, (0.0, 10.0, 30.0, 10.0))) == 0.0
    assert pose_area(Pose(person.keypoints, 0.9, (0.0, 0.0, 0.5, 4.0))) == 2.0
    assert mirror_poses([Pose(person.keypoints, 0.9, None, 4)], 320.0)[0].bbox is None


def test_an_average_keeps_the_first_id_and_has_no_box_when_none_had_one():
    a, b = figure(50, 40, 0.9), figure(54, 40, 0.5)
    a, b = Pose(a.keypoints, 0.9, None, 3), Pose(b.keypoints, 0.5, None, 8)
    merged = average([a, b], 0.7)
    assert merged.id == 3 and merged.bbox is None and merged.score == 0.7
    assert merged.keypoints[:, 0] == pytest.approx(a.keypoints[:, 0] + 2.0)  # equal scores: the midpoint


def test_the_highest_scoring_person_seeds_the_cluster_whatever_pass_found_it():
    low, high, between = figure(70, 40, 0.2), figure(50, 40, 0.9), figure(62, 40, 0.5)
    limit = (pose_oks(high, between) + pose_oks(high, low)) / 2
    assert pose_oks(high, low) < limit < pose_oks(high, between) < pose_oks(low, between)
    fused = fuse([[low], [high], [between]], limit)
    assert [p.score for p in fused] == pytest.approx([(0.9 + 0.5) / 3, 0.2 / 3])
    assert fused[0].keypoints[:, 0] == pytest.approx((high.keypoints[:, 0] + between.keypoints[:, 0]) / 2)


def test_an_oks_exactly_at_the_fusion_limit_merges():
    a, b = figure(50, 40, 0.9), figure(53, 41, 0.5)
    assert len(fuse([[a], [b]], pose_oks(a, b))) == 1
    assert len(fuse([[a], [b]], pose_oks(a, b) + 1e-9)) == 2


def test_a_person_exactly_at_the_least_pose_score_comes_out():
    person = figure(50, 40, 0.2)
    (people,) = High([person], [person], min_pose_score=0.2).estimate_batch([FRAME])
    assert [(p.id, p.score) for p in people] == [(1, 0.2)]


def test_the_level_and_refiner_an_estimator_is_built_with():
    assert AccurateEstimator(_estimator(True), refiner=Refiner([])).level == "high"  # the default level
    assert AccurateEstimator(_estimator(True), "high", refiner=Refiner([])).margin == 0.0
    own = SimpleNamespace(estimator=Refiner([]), margin=0.25)
    est = _estimator(True)
    est.refiner = own
    standard = AccurateEstimator(est, "standard")
    assert standard.refiner is own.estimator and standard.margin == 0.25 and standard.info()["refine"] == "thunder"
    high = AccurateEstimator(est, "high", refiner=Refiner([]))
    assert high.margin == 0.0  # its own crops, not the estimator's refiner margin
    two = AccurateEstimator(_estimator(True), recipe=Recipe("custom", sizes=(256, 320)))
    assert two.info()["size_merge_oks"] == 0.5 and two.level == "custom"
    single = AccurateEstimator(_estimator(False), recipe=Recipe("custom", nms_oks=0.8, crop_passes=2))
    assert single.info()["nms_oks"] is None and single.info()["crop_passes"] == 2


def test_what_estimate_batch_refuses():
    high = High([], [])
    assert high.estimate_batch([]) == []
    with pytest.raises(ValueError, match="^estimate_batch needs frames of one size$"):
        high.estimate_batch([FRAME, np.zeros((10, 10, 3), np.uint8)])
    with pytest.raises(ValueError, match="^crops are for SinglePose models$"):
        high.estimate_batch([FRAME], [None])


def test_info_says_only_what_the_model_kind_can_run():
    single = AccurateEstimator(_estimator(False), "standard").info()
    assert (single["crop_pass"], single["flip_heatmaps"], single["flip_match_oks"]) == (False, False, None)
    info = AccurateEstimator(_estimator(False), recipe=Recipe("x", flip=True, crop_passes=1)).info()
    assert info["flip_match_oks"] == 0.3 and info["flip_heatmaps"] is False  # flips on keypoints: matched by OKS
    assert AccurateEstimator(_estimator(False), recipe=Recipe("x", flip_heatmaps=True)).info()["flip_heatmaps"] is False
    multi = AccurateEstimator(_estimator(True), recipe=Recipe("x", crop_passes=2, refine_flip=True)).info()
    assert (multi["crop_passes"], multi["crop_pass"], multi["refine_flip"]) == (0, False, False)  # no refiner


def test_calls_count_the_frames_each_model_ran():
    left, right = figure(50, 40, 0.9), figure(150, 40, 0.8)
    high = High([left, right], [left, right])
    high.estimate_batch([FRAME, FRAME])
    high.estimate_batch([FRAME])
    assert high.calls == {"thunder": 6}  # two people refined in each of three frames
