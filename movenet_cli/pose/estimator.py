"""PoseEstimator: a frame in, the people in it out, in source-frame pixels.

Example::

    from movenet_cli import PoseEstimator
    from movenet_cli.media import read_image

    estimator = PoseEstimator("multipose")
    for pose in estimator(read_image("sample_media/person.jpg")):
        print(pose.id, pose.score, pose.bbox, pose.keypoints[0])   # nose x, y, score
"""

from __future__ import annotations

import numpy as np

from .. import settings
from ..models.runners import make_heads_runner, make_runner
from ..models.store import ModelStore
from ..settings import RunSettings, check_pose_options
from ..types import MODELS, ModelSpec, Pose
from .accuracy import AccurateEstimator, recipe_for
from .crops import keypoint_extent
from .heatmaps import Heads, decode_singlepose, split
from .letterbox import Letterbox, letterbox, multipose_input_shape, to_keypoints
from .refine import Refiner


class PoseEstimator:
    """Runs one MoveNet model on frames of any size.

    ``model`` is ``lightning``, ``thunder`` or ``multipose``; ``backend`` ``auto``, ``tf``
    or ``tflite``. Models come from :class:`~movenet_cli.models.store.ModelStore`
    (fetched on first use). ``refine`` (``thunder`` or ``lightning``, MultiPose only)
    re-estimates each person found on a crop with that SinglePose model
    (:class:`~movenet_cli.pose.refine.Refiner`). ``threads`` caps the TFLite threads
    (default: every core); ``batch_size`` is how many frames a video pipeline hands
    :meth:`infer` at once (TFLite runs them side by side, see the runner).
    """

    def __init__(
        self,
        model: str = "multipose",
        *,
        backend: str = "auto",
        threshold: float = settings.THRESHOLD,
        min_pose_score: float = settings.MIN_POSE_SCORE,
        input_size: int = settings.INPUT_SIZE,
        store: ModelStore | None = None,
        refine: str | None = None,
        threads: int | None = None,
        batch_size: int = 1,
        accuracy: str = settings.ACCURACY,
    ):
        check_pose_options(model, backend, threshold, min_pose_score, input_size, refine, accuracy)
        self.spec: ModelSpec = MODELS[model]
        self.threshold = float(threshold)
        self.min_pose_score = float(min_pose_score)
        self.input_size = int(input_size) if self.spec.multipose else self.spec.input_size
        self.store = store or ModelStore()
        self.batch_size = max(1, int(batch_size), 2 if accuracy != "standard" else 1)  # flips run side by side
        self.runner = make_runner(self.store, model, backend, threads, self.batch_size)
        self.weights_sha256 = self.store.manifest(model)["weights_sha256"]
        self._threads = threads
        self._heads = None
        self.refiner = None
        if refine is not None:
            single = PoseEstimator(refine, backend=backend, threshold=threshold, store=self.store, threads=threads)
            self.refiner = Refiner(single)
        self.accurate = None if accuracy == "standard" else self._accurate(accuracy, threads)

    def _accurate(self, level: str, threads: int | None) -> AccurateEstimator:
        """The accuracy level's runner, with the SinglePose model that refines MultiPose people
        (this estimator's own refiner model if it has one, else the level's)."""
        recipe = recipe_for(level, self.spec.multipose)
        refiner = None
        if self.spec.multipose and recipe.refine is not None:
            if self.refiner is not None:
                refiner = self.refiner.estimator
            else:
                refiner = PoseEstimator(recipe.refine, backend=self.backend, threshold=self.threshold, store=self.store,
                                        threads=threads, batch_size=self.batch_size)
        return AccurateEstimator(self, level, refiner=refiner)

    @property
    def accuracy(self) -> str:
        return "standard" if self.accurate is None else self.accurate.level

    def accuracy_info(self) -> dict:
        """What the accuracy level ran, for the JSON ``model`` block."""
        return AccurateEstimator(self, "standard").info() if self.accurate is None else self.accurate.info()

    @classmethod
    def from_settings(cls, run: RunSettings, *, threads: int | None = None, batch_size: int = 1,
                      store: ModelStore | None = None) -> "PoseEstimator":
        """The estimator a run's settings ask for (the one factory the CLI and the engines use)."""
        return cls(
            run.model, backend=run.backend, threshold=run.threshold, min_pose_score=run.min_pose_score,
            input_size=run.input_size, refine=run.refine, threads=threads, batch_size=batch_size, store=store,
            accuracy=run.accuracy,
        )

    @property
    def model(self) -> str:
        return self.spec.name

    @property
    def backend(self) -> str:
        return self.runner.name

    def input_shape(self, height: int, width: int) -> tuple[int, int]:
        """Model input (h, w) for a source of this size."""
        if self.spec.multipose:
            return multipose_input_shape(height, width, self.input_size)
        return self.spec.input_size, self.spec.input_size

    def plan(self, height: int, width: int) -> Letterbox:
        return Letterbox.fit(height, width, *self.input_shape(height, width))

    def preprocess(self, image: np.ndarray, box: Letterbox | None = None) -> tuple[np.ndarray, Letterbox]:
        """Letterbox a uint8 HxWx3 frame into the model input (uint8 [h, w, 3])."""
        box = box or self.plan(*image.shape[:2])
        return letterbox(image, box), box

    def infer(self, inputs: np.ndarray) -> np.ndarray:
        """Run the model on a batch of letterboxed inputs (uint8/int32 [N, h, w, 3])."""
        return self.runner(inputs)

    def infer_heads(self, inputs: np.ndarray) -> list[Heads]:
        """Run the model cut before its decoding (:mod:`~movenet_cli.pose.heatmaps`) on a batch of
        inputs; the cut model is made on first use (SinglePose models)."""
        if self.spec.multipose:
            raise ValueError("decoding heads is implemented for the SinglePose models")
        if self._heads is None:
            self._heads = make_heads_runner(self.store, self.model, self._threads, self.batch_size)
        return [split(raw) for raw in self._heads[0](inputs)]

    def decode_heads(self, heads: Heads, box, min_pose_score: float | None = None) -> list[Pose]:
        """:meth:`decode` of heads from :meth:`infer_heads` (averaged or not): MoveNet's own decoding."""
        assert self._heads is not None, "infer_heads first"
        return self.decode(decode_singlepose(heads, self._heads[1])[None], box, min_pose_score)

    def mirror_heads(self, heads: Heads) -> Heads:
        """Heads of a mirrored input, as heads of the input itself (:func:`~movenet_cli.pose.heatmaps.mirror_back`)."""
        from .heatmaps import mirror_back

        assert self._heads is not None, "infer_heads first"
        return mirror_back(heads, self._heads[1])

    def decode(self, raw: np.ndarray, box: Letterbox, min_pose_score: float | None = None) -> list[Pose]:
        """Turn one raw model output ([1,17,3] or [6,56]) into poses in source pixels; people scoring
        below ``min_pose_score`` (default: the estimator's) are dropped. ``box`` is the letterbox or
        the crop the input was cut with."""
        least = self.min_pose_score if min_pose_score is None else float(min_pose_score)
        if self.spec.multipose:
            return self._decode_multipose(raw, box, least)
        return self._decode_singlepose(raw, box, least)

    def __call__(self, image: np.ndarray) -> list[Pose]:
        """Estimate the poses in one uint8 HxWx3 RGB frame (or a :class:`~movenet_cli.media.yuv.Yuv420` frame
        with its colour table), at the estimator's accuracy level."""
        if self.accurate is not None:
            return self.accurate(image)
        tensor, box = self.preprocess(image)
        poses = self.decode(self.infer(tensor[None])[0], box)
        return self.refiner(image, poses) if self.refiner is not None else poses

    # -- decoding ---------------------------------------------------------
    def _decode_singlepose(self, raw: np.ndarray, box, least: float) -> list[Pose]:
        keypoints = to_keypoints(raw, box)
        score = float(keypoints[:, 2].mean())
        if score < least:
            return []
        return [Pose(keypoints, score, keypoint_extent(keypoints, self.threshold), id=1)]

    def _decode_multipose(self, raw: np.ndarray, box, least: float) -> list[Pose]:
        people = []
        for row in np.asarray(raw).reshape(-1, 56):
            score = float(row[55])
            if score < least:
                continue
            keypoints = to_keypoints(row[:51], box)
            x0, y0 = box.to_source(row[52], row[51])
            x1, y1 = box.to_source(row[54], row[53])
            people.append(Pose(keypoints, score, (float(x0), float(y0), float(x1), float(y1))))
        people.sort(key=lambda p: -p.score)
        for i, pose in enumerate(people, 1):
            pose.id = i
        return people
