"""Accuracy levels: better keypoints from the same MoveNet weights, by spending model calls.

MoveNet's own pipeline runs the model once on the letterboxed frame. With the same
weights and no training, a few inference-time techniques find more people and place
their keypoints better:

* **several input sizes** (MultiPose at larger side 256, 320, 384): small people get
  more pixels, large ones fit the receptive field better;
* **horizontal flip**: the model also sees the mirrored input. MultiPose: the mirror's people
  are mapped back (x -> W - x, left/right keypoints swapped) and averaged with the others.
  SinglePose (``flip_heatmaps``): the mirror's heatmaps are mapped back and averaged with the
  input's, then decoded once by MoveNet's own decoding (:mod:`~movenet_cli.pose.heatmaps`),
  so a keypoint the two passes disagree on is not pulled to the midpoint of two guesses;
* **fusion** (:func:`fuse`): people seen by several passes are matched one to one by
  object keypoint similarity (:func:`oks`) and averaged (positions weighted by keypoint
  score); a person's score is the sum of its scores over the number of passes, so one
  seen by a single pass of two keeps half its score;
* **refinement**: each fused person is re-estimated by SinglePose Thunder on the square
  centred on its box (side = the box's longer side); it keeps the fused score;
* **OKS non-maximum suppression** (:func:`oks_nms`): refinement can pull two boxes onto
  the same person, the lower-scoring copy goes;
* SinglePose (``lightning``/``thunder``) on stills: a **second pass** on the crop the
  first pass's keypoints give (the MoveNet tutorial's crop-region rule), and flips.

Every choice (which level flips, on keypoints or heatmaps, sizes, thresholds) was made on the
tuning half of ``tests/data/devset`` and checked on its other half (``bench/accuracy_devset.py``).

:data:`MULTIPOSE_LEVELS` and :data:`SINGLEPOSE_LEVELS` say what ``standard``, ``high``
and ``max`` run (a :class:`Recipe` each); ``standard`` is the model's single pass.
People scoring down to :attr:`Recipe.candidate_min_score` take part in the fusion;
what comes out is filtered by the estimator's ``min_pose_score``.

:class:`AccurateEstimator` runs a level on frames of one size; every model call of a
stage goes to the runner as one batch (:meth:`PoseEstimator.infer`), so an estimator
built with ``batch_size`` >= 2 runs the flips, sizes and crops side by side.

Example::

    from movenet_cli import PoseEstimator
    from movenet_cli.media import read_image

    estimator = PoseEstimator("multipose", accuracy="high")        # an AccurateEstimator inside
    for pose in estimator(read_image("sample_media/person.jpg")):
        print(pose.id, round(pose.score, 3), pose.keypoints[0])   # nose: x, y, score
    print(estimator.accuracy_info())                               # for the JSON model block
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Sequence

import numpy as np

from ..errors import UsageError
from ..settings import ACCURACY_LEVELS as LEVELS
from ..types import COCO_SIGMAS, FLIP_INDEX, Pose
from .crops import Crop, box_square, crop_region, crop_resize, keypoint_extent
from .heatmaps import mean
from .letterbox import Letterbox, letterbox, multipose_input_shape

DEFAULT_REFINER = "thunder"
CANDIDATE_MIN_SCORE = 0.05  # people kept for fusion; the output is filtered by min_pose_score
FLIP_MATCH_OKS = 0.3  # a person and its mirror image are the same person from this OKS on
SIZE_MERGE_OKS = 0.5  # people found at different input sizes are the same person from this OKS on
NMS_OKS = 0.8  # of two people this similar, the lower-scoring one is a duplicate
_FALLOFF2 = (2 * COCO_SIGMAS) ** 2


class AccuracyError(UsageError):
    """An accuracy level that does not exist, or does not fit the model."""


@dataclass(frozen=True)
class Recipe:
    """What one accuracy level runs.

    ``sizes``: MultiPose input sizes (larger side; empty: the estimator's ``input_size``);
    ``flip``: also run every input mirrored; ``refine``: SinglePose model that re-estimates
    each MultiPose person on a crop; ``crop_passes``: SinglePose passes on the crop the pass
    before gives; ``nms_oks``: final OKS-NMS threshold (``None``: none);
    ``candidate_min_score``: people kept for fusion (``None``: the estimator's min pose score).
    ``flip_heatmaps``: SinglePose passes average an input's heatmaps with its mirror's and decode
    once (:mod:`~movenet_cli.pose.heatmaps`) instead of averaging two decoded people;
    ``flip_from``: the first SinglePose pass that is mirrored (0: all, 1: the crop passes);
    ``refine_flip``: MultiPose refinement crops mirrored too, on heatmaps.
    """

    level: str
    sizes: tuple[int, ...] = ()
    flip: bool = False
    refine: str | None = None
    crop_passes: int = 0
    nms_oks: float | None = None
    candidate_min_score: float | None = None
    flip_oks: float = FLIP_MATCH_OKS
    merge_oks: float = SIZE_MERGE_OKS
    flip_heatmaps: bool = False
    flip_from: int = 0
    refine_flip: bool = False


MULTIPOSE_LEVELS = {
    "standard": Recipe("standard"),
    "high": Recipe("high", (320,), False, DEFAULT_REFINER, nms_oks=NMS_OKS, candidate_min_score=CANDIDATE_MIN_SCORE),
    "max": Recipe(
        "max", (256, 320, 384), True, DEFAULT_REFINER, nms_oks=NMS_OKS, candidate_min_score=CANDIDATE_MIN_SCORE
    ),
}
SINGLEPOSE_LEVELS = {
    "standard": Recipe("standard"),
    "high": Recipe("high", crop_passes=1),
    "max": Recipe("max", crop_passes=1, flip=True, flip_heatmaps=True),
}


def recipe_for(level: str, multipose: bool) -> Recipe:
    """The :class:`Recipe` of ``level`` for a MultiPose or a SinglePose model."""
    levels = MULTIPOSE_LEVELS if multipose else SINGLEPOSE_LEVELS
    if level not in levels:
        raise AccuracyError(f"unknown accuracy level {level!r}; choose one of {', '.join(LEVELS)}")
    return levels[level]


# -- geometry shared by matching, clustering, NMS (and tracking) ------------------------------


def oks(a: np.ndarray, b: np.ndarray, area: float, min_score: float = 0.0) -> float:
    """COCO object keypoint similarity of two (17, 3) keypoint sets (x, y, score), same pixels.

    ``area`` is the object's area in those pixels squared (COCO: the labelled segment;
    here usually the mean of the two boxes, :func:`pair_area`). Keypoints count where
    both scores are >= ``min_score``; 0 when none does. 1 for identical positions.
    """
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    both = (a[:, 2] >= min_score) & (b[:, 2] >= min_score)
    if not both.any():
        return 0.0
    d2 = ((a[both, :2] - b[both, :2]) ** 2).sum(axis=1)
    return float(np.exp(-d2 / (2 * max(float(area), 1e-6) * _FALLOFF2[both])).mean())


def pose_area(pose: Pose) -> float:
    """Area of a person's box (of its keypoints' extent when it has no box), pixels squared."""
    if pose.bbox is not None:
        x0, y0, x1, y1 = pose.bbox
    else:
        x0, y0 = pose.keypoints[:, :2].min(axis=0)
        x1, y1 = pose.keypoints[:, :2].max(axis=0)
    return float(max(0.0, x1 - x0) * max(0.0, y1 - y0))


def pair_area(a: Pose, b: Pose) -> float:
    """The object area two people are compared at: the mean of their box areas."""
    return (pose_area(a) + pose_area(b)) / 2


def pose_oks(a: Pose, b: Pose) -> float:
    """:func:`oks` of two people at :func:`pair_area`."""
    return oks(a.keypoints, b.keypoints, pair_area(a, b))


def mirror_poses(poses: Sequence[Pose], width: float) -> list[Pose]:
    """People found in a horizontally mirrored input, mapped back: x -> ``width`` - x,
    left and right keypoints swapped, boxes mirrored. ``width`` is twice the mirror axis
    (the frame's width for a mirrored frame)."""
    out = []
    for pose in poses:
        keypoints = pose.keypoints[list(FLIP_INDEX)].copy()
        keypoints[:, 0] = width - keypoints[:, 0]
        bbox = None if pose.bbox is None else (width - pose.bbox[2], pose.bbox[1], width - pose.bbox[0], pose.bbox[3])
        out.append(replace(pose, keypoints=keypoints, bbox=bbox))
    return out


def mirror_width(box: Letterbox | Crop) -> float:
    """The ``width`` for :func:`mirror_poses` of a mirrored model input: where its two
    edges land in source pixels, added (twice the source x of the input's centre line)."""
    x = box.to_source(np.array([0.0, 1.0]), np.zeros(2))[0]
    return float(x[0] + x[1])


# -- fusion and suppression ---------------------------------------------------------------------


def average(poses: Sequence[Pose], score: float) -> Pose:
    """One person from several estimates of it: positions weighted by keypoint score (plain
    mean where every score is 0), mean keypoint scores, mean box, the given ``score``."""
    k = np.stack([p.keypoints for p in poses])
    weight = k[:, :, 2:3]
    total = weight.sum(axis=0)
    weighted = (k[:, :, :2] * weight).sum(axis=0) / np.where(total > 0, total, 1.0)
    xy = np.where(total > 0, weighted, k[:, :, :2].mean(axis=0))
    boxes = [p.bbox for p in poses if p.bbox is not None]
    bbox = tuple(float(v) for v in np.mean(boxes, axis=0)) if boxes else None
    return Pose(np.column_stack([xy, k[:, :, 2].mean(axis=0)]), float(score), bbox, poses[0].id)


def fuse(passes: Sequence[Sequence[Pose]], min_oks: float) -> list[Pose]:
    """The people of several passes over one image, each seen once.

    Clusters are seeded by the highest-scoring person not yet taken; each other pass adds
    its untaken person most similar to the seed (:func:`pose_oks` >= ``min_oks``), so a
    cluster holds at most one person per pass. A cluster is :func:`average`-d with score
    = sum of its members' scores / number of passes. Highest score first. (Scoring a cluster
    as its best member measured +0.01 AP on the tuning half but put a second, phantom person
    at 0.43 in sample_media/person.jpg at ``max``: a person one pass alone finds is often none.)
    """
    everyone = [(i, j) for i, people in enumerate(passes) for j in range(len(people))]
    taken: set[tuple[int, int]] = set()
    fused = []
    for i, j in sorted(everyone, key=lambda ij: -passes[ij[0]][ij[1]].score):  # stable: ties in pass order
        if (i, j) in taken:
            continue
        taken.add((i, j))
        seed = passes[i][j]
        members = [seed]
        for k, people in enumerate(passes):
            free = [(pose_oks(seed, p), m) for m, p in enumerate(people) if k != i and (k, m) not in taken]
            best = max(free, default=None, key=lambda item: item[0])
            if best is not None and best[0] >= min_oks:
                taken.add((k, best[1]))
                members.append(people[best[1]])
        fused.append(average(members, sum(p.score for p in members) / len(passes)))
    fused.sort(key=lambda p: -p.score)
    return fused


def oks_nms(poses: Sequence[Pose], max_oks: float) -> list[Pose]:
    """Highest score first, drop each person whose :func:`pose_oks` with one already kept
    exceeds ``max_oks``."""
    kept: list[Pose] = []
    for pose in sorted(poses, key=lambda p: -p.score):
        if all(pose_oks(pose, other) <= max_oks for other in kept):
            kept.append(pose)
    return kept


def _candidate_min(recipe: Recipe, estimator) -> float:
    if recipe.candidate_min_score is None:
        return estimator.min_pose_score
    return min(recipe.candidate_min_score, estimator.min_pose_score)


def _number(people: list[Pose], min_score: float) -> list[Pose]:
    """The people scoring at least ``min_score``, highest first, numbered from 1."""
    kept = sorted((p for p in people if p.score >= min_score), key=lambda p: -p.score)
    return [replace(p, id=i) for i, p in enumerate(kept, 1)]


class AccurateEstimator:
    """Runs an accuracy level (:func:`recipe_for`) with ``estimator``'s model and settings.

    Call it on one uint8 HxWx3 RGB image, or :meth:`estimate_batch` on frames of one size
    (independent frames, e.g. a video's; every stage is one batched model call). The
    output is filtered by ``estimator.min_pose_score`` and numbered from 1 by score.
    ``refiner`` is the SinglePose estimator for MultiPose refinement at ``high`` and ``max``
    (:class:`~movenet_cli.pose.estimator.PoseEstimator` builds it: its own refiner's model if it
    has one, so ``refine="lightning"`` is kept, else Thunder). ``standard`` is the estimator's
    own single pass, its refinement included.
    ``calls`` counts the frames each model has run, for cost measurements.
    """

    def __init__(
        self,
        estimator,
        level: str = "high",
        *,
        refiner=None,
        recipe: Recipe | None = None,
    ):
        self.estimator = estimator
        self.multipose = estimator.spec.multipose
        self.recipe = recipe or recipe_for(level, self.multipose)
        self.level = self.recipe.level
        self.candidate_min = _candidate_min(self.recipe, estimator) if self.multipose else 0.0
        self.refiner = None
        self.margin = 0.0
        if self.multipose and self.recipe.refine is not None:
            if refiner is None:
                raise ValueError(f"accuracy {self.level!r} refines people: give the SinglePose refiner")
            self.refiner = refiner
        elif self.multipose and self.level == "standard" and estimator.refiner is not None:
            self.refiner, self.margin = estimator.refiner.estimator, estimator.refiner.margin
        self.calls: dict[str, int] = {}

    @property
    def model(self) -> str:
        return self.estimator.model

    def info(self) -> dict[str, Any]:
        """What this level ran, for the JSON ``model`` block (as ``accuracy``)."""
        recipe, est, multipose = self.recipe, self.estimator, self.multipose
        return {
            "level": recipe.level,
            "input_sizes": list(recipe.sizes or (est.input_size,)) if multipose else [est.spec.input_size],
            "flip": recipe.flip,
            "refine": None if self.refiner is None else self.refiner.model,
            "crop_pass": bool(recipe.crop_passes) and not multipose,
            "crop_passes": 0 if multipose else recipe.crop_passes,
            "flip_heatmaps": recipe.flip_heatmaps and recipe.flip and not multipose,
            "refine_flip": recipe.refine_flip and self.refiner is not None,
            "nms_oks": recipe.nms_oks if multipose else None,
            "candidate_min_score": self.candidate_min if multipose else None,
            "flip_match_oks": recipe.flip_oks if recipe.flip and (multipose or not recipe.flip_heatmaps) else None,
            "size_merge_oks": recipe.merge_oks if multipose and len(recipe.sizes) > 1 else None,
        }

    def __call__(self, image: np.ndarray) -> list[Pose]:
        """The people in one uint8 HxWx3 RGB image."""
        return self.estimate_batch([image])[0]

    def estimate_batch(
        self, images: Sequence[np.ndarray], crops: Sequence[Crop | None] | None = None
    ) -> list[list[Pose]]:
        """The people in each of ``images`` (uint8 HxWx3, all one size), frame by frame.

        ``crops`` (SinglePose only) gives a frame's first-pass crop, e.g. the one crop
        following chose (``None``: the letterboxed frame).
        """
        if not len(images):
            return []
        if len({im.shape for im in images}) != 1:
            raise ValueError("estimate_batch needs frames of one size")
        if self.multipose:
            if crops is not None:
                raise ValueError("crops are for SinglePose models")
            return self._multipose(images)
        return self._singlepose(images, crops)

    # -- MultiPose ---------------------------------------------------------------------------
    def _multipose(self, images: Sequence[np.ndarray]) -> list[list[Pose]]:
        recipe = self.recipe
        height, width = images[0].shape[:2]
        per_size = []
        for size in recipe.sizes or (self.estimator.input_size,):
            box = Letterbox.fit(height, width, *multipose_input_shape(height, width, size))
            per_size.append(self._passes(self.estimator, [letterbox(im, box) for im in images], [box] * len(images)))
        if len(per_size) == 1:
            people = per_size[0]
        else:
            people = [fuse([found[i] for found in per_size], recipe.merge_oks) for i in range(len(images))]
        # Refinement keeps the scores and NMS only removes: nobody below the output's min pose
        # score can come out or suppress anyone who does, so they need no refinement.
        people = [[p for p in found if p.score >= self.estimator.min_pose_score] for found in people]
        if self.refiner is not None:
            people = self._refine(images, people)
        if recipe.nms_oks is not None:
            people = [oks_nms(found, recipe.nms_oks) for found in people]
        return [_number(found, self.estimator.min_pose_score) for found in people]

    def _passes(self, estimator, tensors: list, boxes: list, flip: bool | None = None) -> list[list[Pose]]:
        """Each tensor's people (decoded through its box); with ``flip`` (default: the recipe's)
        fused with its mirror's."""
        n = len(tensors)
        flip = self.recipe.flip if flip is None else flip
        batch = tensors + [t[:, ::-1] for t in tensors] if flip else tensors
        raws = self._infer(estimator, batch)
        found = [estimator.decode(raw, box, min_pose_score=self.candidate_min) for raw, box in zip(raws, boxes + boxes)]
        if not flip:
            return found
        return [
            fuse([found[i], mirror_poses(found[n + i], mirror_width(boxes[i]))], self.recipe.flip_oks)
            for i in range(n)
        ]

    def _refine_crop(self, pose: Pose) -> Crop | None:
        """The square centred on ``pose``'s box, side = its longer side (x (1 + 2 margin))."""
        assert self.refiner is not None
        return box_square(pose.bbox, self.margin, self.refiner.spec.input_size)

    def _refine(self, images: Sequence[np.ndarray], people: list[list[Pose]]) -> list[list[Pose]]:
        """Every person re-estimated on its crop by the refiner, in one batch; keeps score and box."""
        assert self.refiner is not None
        jobs = [(i, k, self._refine_crop(p)) for i, found in enumerate(people) for k, p in enumerate(found)]
        jobs = [(i, k, crop) for i, k, crop in jobs if crop is not None]
        out = [list(found) for found in people]
        if not jobs:
            return out
        tensors = [crop_resize(images[i], crop) for i, _, crop in jobs]
        crops = [crop for _, _, crop in jobs]
        if self.recipe.refine_flip:
            refined = self._heatmap_passes(self.refiner, tensors, crops)
        else:
            refined = [self.refiner.decode(raw, crop, min_pose_score=0.0)[0]
                       for raw, crop in zip(self._infer(self.refiner, tensors), crops)]
        for (i, k, _), pose in zip(jobs, refined):
            out[i][k] = replace(out[i][k], keypoints=pose.keypoints)
        return out

    # -- SinglePose --------------------------------------------------------------------------
    def _singlepose(self, images: Sequence[np.ndarray], crops: Sequence[Crop | None] | None) -> list[list[Pose]]:
        est = self.estimator
        height, width = images[0].shape[:2]
        plan = est.plan(height, width)
        boxes = [c if c is not None else plan for c in (crops or [None] * len(images))]
        tensors = [crop_resize(im, b) if isinstance(b, Crop) else letterbox(im, b) for im, b in zip(images, boxes)]
        people = self._single_passes(tensors, boxes, 0)
        for stage in range(1, self.recipe.crop_passes + 1):
            again = [crop_region(p.keypoints, height, width, est.spec.input_size) for p in people]
            redo = [i for i, crop in enumerate(again) if crop is not None]
            if not redo:
                break
            crops2 = [again[i] for i in redo]
            found = self._single_passes([crop_resize(images[i], c) for i, c in zip(redo, crops2)], crops2, stage)
            for i, pose in zip(redo, found):
                people[i] = pose
        return [_number([p], est.min_pose_score) for p in people]

    def _single_passes(self, tensors: list, boxes: list, stage: int) -> list[Pose]:
        """The one person of each tensor; from pass ``flip_from`` on, with its mirror's."""
        recipe, est = self.recipe, self.estimator
        flip = recipe.flip and stage >= recipe.flip_from
        if flip and recipe.flip_heatmaps:
            return self._heatmap_passes(est, tensors, boxes)
        found = [people[0] for people in self._passes(est, tensors, boxes, flip)]
        if flip:  # the box of a SinglePose person is the extent of its keypoints
            found = [replace(p, bbox=keypoint_extent(p.keypoints, est.threshold)) for p in found]
        return found

    def _heatmap_passes(self, estimator, tensors: list, boxes: list) -> list[Pose]:
        """The one person of each tensor, decoded once from the mean of its heads and its mirror's
        heads mapped back (SinglePose ``estimator``)."""
        n = len(tensors)
        self.calls[estimator.model] = self.calls.get(estimator.model, 0) + 2 * n
        heads = estimator.infer_heads(np.ascontiguousarray(np.stack(tensors + [t[:, ::-1] for t in tensors])))
        people = []
        for i in range(n):
            both = mean(heads[i], estimator.mirror_heads(heads[n + i]))
            (pose,) = estimator.decode_heads(both, boxes[i], min_pose_score=0.0)
            people.append(pose)
        return people

    def _infer(self, estimator, tensors: list) -> np.ndarray:
        self.calls[estimator.model] = self.calls.get(estimator.model, 0) + len(tensors)
        return estimator.infer(np.ascontiguousarray(np.stack(tensors)))
