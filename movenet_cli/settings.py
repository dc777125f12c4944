"""The one home of every default and of the checks on settings.

CLI options, :class:`RunSettings`, :class:`VideoQuality` and the API read their
defaults from here; a default changed here changes everywhere.

Example::

    settings = RunSettings("lightning", end=2.0)
    settings.check()                      # raises UsageError for settings that cannot work
    print(settings.threshold, settings.quality.tracker)
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

from .errors import UsageError
from .types import MODEL_NAMES, MODELS

# -- pose -----------------------------------------------------------------------
MODEL = "multipose"
BACKENDS = ("auto", "tf", "tflite")
BACKEND = "auto"
THRESHOLD = 0.3  # keypoint score needed to draw it (and to count it in a SinglePose bbox)
MIN_POSE_SCORE = 0.25  # people scoring below this are dropped
INPUT_SIZE = 256  # MultiPose: larger side of the model input, a multiple of 32
INPUT_SIZE_RANGE = (64, 1024)
REFINE_MODELS = tuple(name for name in MODEL_NAMES if not MODELS[name].multipose)
# The refinement crop's side is the box's longer side times (1 + 2 * margin). MultiPose boxes
# already reach 5-20% beyond the keypoints, and every margin tried (0 to 0.5) did worse than
# none on the coco-dev images (AP) and on the sample footage (scores and jitter).
REFINE_MARGIN = 0.0

# -- drawing --------------------------------------------------------------------
DRAW_LAYERS = ("skeleton", "points", "boxes", "ids", "scores")
# None: skeleton and points, plus ids for MultiPose; line width and dot radius scale with the frame.
DRAW = None
LINE_WIDTH = None
POINT_RADIUS = None
BLUR_FACES = False

# -- video frames and encoding --------------------------------------------------
EVERY = 1
PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow")
PRESET = "veryfast"
CRF = 23
CRF_RANGE = (0, 51)

# -- tracking and smoothing -----------------------------------------------------
TRACKERS = ("box", "keypoints")
TRACKER = "box"
MAX_TRACKS = 18  # three times what MultiPose can find in one frame
MAX_AGE_MS = 1000.0
MIN_SIMILARITY = {"box": 0.15, "keypoints": 0.2}

# -- runs -----------------------------------------------------------------------
ENGINES = ("local", "ray")
ENGINE = "local"
BATCH_SIZE_MAX = 64

# -- reports --------------------------------------------------------------------
REPORT_LOW_SCORE = 0.3  # inputs whose mean person score is below this go in the "low score" bucket
REPORT_THUMB_WIDTH = 320  # pixels
REPORT_NAME = "report.html"


@dataclass(frozen=True)
class OneEuroParams:
    """One-Euro filter settings; speeds are in frame sizes per second, cut-offs in Hz.

    ``min_cutoff`` and ``beta`` are ours, chosen by measurement: a cut-off of at least 5 Hz
    keeps the lag of a steadily moving keypoint under 1 / (2 pi 5 Hz) = 32 ms, less than
    one frame at 30 fps, at any speed; beta 10 still halves the jitter of the sample clip.
    The others are pose-detection's. ``frequency`` is only the guess for the first step;
    later steps use the timestamps.
    """

    min_cutoff: float = 5.0
    beta: float = 10.0
    derivative_cutoff: float = 2.5
    threshold_cutoff: float | None = 0.5
    threshold_beta: float = 5.0
    frequency: float = 30.0


@dataclass(frozen=True)
class VideoQuality:
    """What happens to poses across the frames of a video.

    ``tracker`` is ``"box"``, ``"keypoints"`` or ``None`` (MultiPose ids are then just the
    rank in each frame, and nothing is smoothed); ``max_age`` is in milliseconds;
    ``min_similarity`` ``None`` takes the tracker's default. ``follow`` makes SinglePose
    models follow the person with a crop.
    """

    tracker: str | None = TRACKER
    max_tracks: int = MAX_TRACKS
    max_age: float = MAX_AGE_MS
    min_similarity: float | None = None
    smooth: bool = True
    smoothing: OneEuroParams = field(default_factory=OneEuroParams)
    follow: bool = True

    @classmethod
    def off(cls) -> "VideoQuality":
        """Every frame on its own, as for still images."""
        return cls(tracker=None, smooth=False, follow=False)

    def batches(self, model: str) -> bool:
        """Whether frames of ``model`` can go to the model several at a time: their model
        inputs do not depend on earlier results (as they do when SinglePose follows)."""
        return not (self.follow and not MODELS[model].multipose)

    def check(self) -> None:
        if self.tracker is not None and self.tracker not in TRACKERS:
            raise UsageError(f"unknown tracker {self.tracker!r}; choose one of {', '.join(TRACKERS)}")
        if self.max_tracks < 1:
            raise UsageError(f"max_tracks must be at least 1, got {self.max_tracks}")
        if not (math.isfinite(self.max_age) and self.max_age > 0):
            raise UsageError(f"max_age must be a positive number of milliseconds, got {self.max_age}")
        if self.min_similarity is not None and not 0 <= self.min_similarity <= 1:
            raise UsageError(f"min_similarity must be between 0 and 1, got {self.min_similarity}")


def check_pose_options(model: str, backend: str, threshold: float, min_pose_score: float, input_size: int,
                       refine: str | None) -> None:
    """Raise :class:`UsageError` for pose settings that cannot work."""
    if model not in MODELS:
        raise UsageError(f"unknown model {model!r}; choose one of {', '.join(MODEL_NAMES)}")
    if backend not in BACKENDS:
        raise UsageError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    for name, value in (("threshold", threshold), ("min_pose_score", min_pose_score)):
        if not (isinstance(value, (int, float)) and 0 <= value <= 1):
            raise UsageError(f"{name} must be a number from 0 to 1, got {value}")
    if MODELS[model].multipose and (input_size % 32 or not INPUT_SIZE_RANGE[0] <= input_size <= INPUT_SIZE_RANGE[1]):
        raise UsageError(f"input size must be a multiple of 32 from {INPUT_SIZE_RANGE[0]} to {INPUT_SIZE_RANGE[1]}, "
                         f"got {input_size}")
    if refine is not None:
        if refine not in REFINE_MODELS:
            raise UsageError(f"refine takes {' or '.join(REFINE_MODELS)}, not {refine!r}")
        if not MODELS[model].multipose:
            raise UsageError("refinement re-estimates MultiPose people; use it with the multipose model")


def check_frame_range(start: float | None, end: float | None, every: int) -> None:
    """Raise :class:`UsageError` for a frame selection that cannot work."""
    for name, value in (("start", start), ("end", end)):
        if value is not None and not (math.isfinite(value) and value >= 0):
            raise UsageError(f"{name} must be a finite number of seconds >= 0, got {value}")
    if start is not None and end is not None and end <= start:
        raise UsageError("end must be after start")
    if every < 1:
        raise UsageError(f"every must be at least 1, got {every}")


@dataclass(frozen=True)
class RunSettings:
    """How every input is processed: the model and the video options.

    Plain values only, so a settings object travels to worker processes and Ray tasks.
    """

    model: str = MODEL
    backend: str = BACKEND
    threshold: float = THRESHOLD
    min_pose_score: float = MIN_POSE_SCORE
    input_size: int = INPUT_SIZE
    refine: str | None = None
    start: float | None = None
    end: float | None = None
    every: int = EVERY
    preset: str = PRESET
    crf: int = CRF
    quality: VideoQuality = field(default_factory=VideoQuality)
    style: "object | None" = None  # a render.draw.DrawStyle (None: the default look); checked by its own check()

    def check(self) -> "RunSettings":
        """Raise :class:`UsageError` when the settings cannot work together; return self."""
        check_pose_options(self.model, self.backend, self.threshold, self.min_pose_score, self.input_size, self.refine)
        check_frame_range(self.start, self.end, self.every)
        if self.preset not in PRESETS:
            raise UsageError(f"unknown preset {self.preset!r}; choose one of {', '.join(PRESETS)}")
        if not CRF_RANGE[0] <= self.crf <= CRF_RANGE[1]:
            raise UsageError(f"crf must be from {CRF_RANGE[0]} to {CRF_RANGE[1]}, got {self.crf}")
        self.quality.check()
        if self.style is not None:
            self.style.check()
        return self

    def video_options(self) -> dict:
        return dict(
            start=self.start, end=self.end, every=self.every, preset=self.preset, crf=self.crf, quality=self.quality,
            style=self.style,
        )

    def as_dict(self) -> dict:
        return asdict(self)
