"""``--accuracy high`` for MultiPose: what comes out of fusion, refinement and OKS-NMS, on synthetic people.

The model passes are replaced by the people they would find (the steps after them are
arithmetic on poses), so each test knows exactly who must come out.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from movenet_cli.pose.accuracy import MULTIPOSE_LEVELS, AccurateEstimator, oks_nms, pose_oks
from movenet_cli.types import Pose

FRAME = np.zeros((240, 320, 3), np.uint8)


def figure(x0: float, y0: float, score: float, jitter: float = 0.0) -> Pose:
    """A person 40 x 90 px from (x0, y0); ``jitter`` moves every keypoint by that many pixels."""
    rng = np.random.default_rng(int(x0 * 7 + y0))
    xy = np.column_stack([x0 + np.linspace(0, 40, 17), y0 + np.linspace(0, 90, 17)])
    xy += jitter * rng.uniform(-1, 1, xy.shape)
    box = (float(xy[:, 0].min()), float(xy[:, 1].min()), float(xy[:, 0].max()), float(xy[:, 1].max()))
    return Pose(np.column_stack([xy, np.full(17, 0.8)]), score, box)


class Refiner:
    """Stands in for SinglePose Thunder on a crop: it finds the person nearest the crop's centre."""

    model = "thunder"
    spec = SimpleNamespace(input_size=256, multipose=False)

    def __init__(self, people: list[Pose]):
        self.people = people

    def infer(self, batch: np.ndarray) -> np.ndarray:
        return np.zeros(len(batch))

    def decode(self, raw, crop, min_pose_score: float = 0.0) -> list[Pose]:
        centre = np.array([crop.x0 + crop.size / 2, crop.y0 + crop.size / 2])
        best = min(self.people, key=lambda p: np.abs(p.keypoints[:, :2].mean(axis=0) - centre).sum())
        return [best]


class High(AccurateEstimator):
    """``--accuracy high`` whose model passes find the given people."""

    def __init__(self, found: list[Pose], refined: list[Pose], min_pose_score: float = 0.2):
        estimator = SimpleNamespace(spec=SimpleNamespace(multipose=True), min_pose_score=min_pose_score,
                                    input_size=256, refiner=None, model="multipose", threshold=0.3)
        super().__init__(estimator, "high", refiner=Refiner(refined))
        self.found = found

    def _passes(self, estimator, tensors, boxes):
        return [list(self.found) for _ in tensors]


def test_high_runs_oks_nms():
    assert MULTIPOSE_LEVELS["high"].nms_oks is not None
    assert High([], []).info()["nms_oks"] == MULTIPOSE_LEVELS["high"].nms_oks


def test_two_near_duplicates_become_one_person_and_a_third_stays():
    truth, other = figure(50, 40, 0.9), figure(220, 60, 0.5)
    duplicate = figure(60, 48, 0.7, jitter=2.0)  # the same person, found again some pixels off ...
    assert pose_oks(truth, duplicate) < MULTIPOSE_LEVELS["high"].nms_oks  # ... not a duplicate until refined
    estimator = High([duplicate, other, truth], [truth, other])
    (people,) = estimator.estimate_batch([FRAME])
    assert len(people) == 2, [p.score for p in people]
    assert [p.id for p in people] == [1, 2]
    assert [p.score for p in people] == pytest.approx([0.9, 0.5])  # the higher-scoring copy stays
    assert np.allclose(people[0].keypoints, truth.keypoints)
    assert np.allclose(people[1].keypoints, other.keypoints)


def test_two_people_side_by_side_both_stay():
    left, right = figure(50, 40, 0.9), figure(150, 40, 0.8)
    (people,) = High([left, right], [left, right]).estimate_batch([FRAME, FRAME])[:1]
    assert [p.score for p in people] == pytest.approx([0.9, 0.8])


def test_oks_nms_keeps_the_best_of_near_duplicates_and_only_drops_above_the_limit():
    best, copy, apart = figure(50, 40, 0.9), figure(51, 41, 0.6), figure(200, 40, 0.4)
    assert pose_oks(best, copy) > 0.8 > pose_oks(best, apart)
    assert oks_nms([copy, apart, best], 0.8) == [best, apart]
    assert oks_nms([copy, best], pose_oks(best, copy)) == [best, copy]  # exactly at the limit: kept


def _estimator(multipose: bool, input_size: int = 256, min_pose_score: float = 0.2):
    spec = SimpleNamespace(multipose=multipose, input_size=192)
    return SimpleNamespace(spec=spec, min_pose_score=min_pose_score, input_size=input_size, refiner=None,
                           model="multipose" if multipose else "thunder", threshold=0.3)


def test_what_each_level_says_it_ran():
    high = AccurateEstimator(_estimator(True), "high", refiner=Refiner([]))
    assert high.info() == {"level": "high", "input_sizes": [320], "flip": False, "refine": "thunder", "crop_pass": False,
                           "crop_passes": 0, "flip_heatmaps": False, "refine_flip": False, "nms_oks": 0.8,
                           "candidate_min_score": 0.05, "flip_match_oks": None, "size_merge_oks": None}
    top = AccurateEstimator(_estimator(True, min_pose_score=0.01), "max", refiner=Refiner([]))
    assert top.info() == {"level": "max", "input_sizes": [256, 320, 384], "flip": True, "refine": "thunder",
                          "crop_pass": False, "crop_passes": 0, "flip_heatmaps": False, "refine_flip": False,
                          "nms_oks": 0.8, "candidate_min_score": 0.01, "flip_match_oks": 0.3, "size_merge_oks": 0.5}
    plain = AccurateEstimator(_estimator(True, input_size=384), "standard")
    assert plain.info() == {"level": "standard", "input_sizes": [384], "flip": False, "refine": None,
                            "crop_pass": False, "crop_passes": 0, "flip_heatmaps": False, "refine_flip": False,
                            "nms_oks": None, "candidate_min_score": 0.2, "flip_match_oks": None, "size_merge_oks": None}
    single = AccurateEstimator(_estimator(False), "max")  # SinglePose max mirrors on heatmaps
    assert single.info() == {"level": "max", "input_sizes": [192], "flip": True, "refine": None, "crop_pass": True,
                             "crop_passes": 1, "flip_heatmaps": True, "refine_flip": False, "nms_oks": None,
                             "candidate_min_score": None, "flip_match_oks": None, "size_merge_oks": None}
    assert single.model == "thunder" and single.candidate_min == 0.0
    with pytest.raises(ValueError, match="give the SinglePose refiner"):
        AccurateEstimator(_estimator(True), "high")
