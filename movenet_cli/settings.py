"""The one home of every default and of the checks on settings.

CLI options, :class:`RunSettings`, :class:`VideoQuality` and the API read their
defaults from here; a default changed here changes everywhere.

Example::

    from movenet_cli.settings import RunSettings

    settings = RunSettings("lightning", end=2.0)
    settings.check()                      # raises UsageError for settings that cannot work
    print(settings.threshold, settings.quality.tracker)   # 0.3 box
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
# Accuracy levels: what each runs is in pose/accuracy.py, measured in the README's Pose quality.
ACCURACY_LEVELS = ("standard", "high", "max")
ACCURACY = "standard"  # video, dir, eval: footage at a useful speed
ACCURACY_IMAGE = "high"  # image: one photo, where 0.5 s against 0.3 s is nothing to a person
# MultiPose "high" on video (temporal/high.py): detect now and then, follow each person between with
# SinglePose "lightning" or "thunder"; "frame" runs every frame as a photo. MOVENET_VIDEO_HIGH picks one.
VIDEO_HIGH_MODES = ("lightning", "thunder", "frame")
VIDEO_HIGH_ENV = "MOVENET_VIDEO_HIGH"
VIDEO_HIGH = "lightning"

# -- drawing --------------------------------------------------------------------
DRAW_LAYERS = ("skeleton", "points", "boxes", "ids", "scores", "angles")
# None: skeleton and points, plus ids for MultiPose; line width and dot radius scale with the frame.
DRAW = None
LINE_WIDTH = None
POINT_RADIUS = None
# Pixels: wider than any frame's diagonal the model sees is drawn the same; the range keeps
# the numbers in what the drawing code's C integers hold.
LINE_WIDTH_RANGE = (1, 1000)
POINT_RADIUS_RANGE = (1, 1000)
BLUR_FACES = False
DRAW_ANGLES = False  # --draw-angles: the "angles" layer on top of the others

# -- video frames and encoding --------------------------------------------------
EVERY = 1
# The annotated video runs at fps/every; the encoder keeps rates to 1/10000 of a frame a second,
# so every 1000th frame of a 10 fps video (one a 100 s) is the slowest it writes exactly.
EVERY_RANGE = (1, 1000)
# --start/--end: seconds (about three years: beyond any recording, within ffmpeg's timestamps).
SECONDS_MAX = 1e8
PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow")
PRESET = "veryfast"
CRF = 23
CRF_RANGE = (0, 51)
SCALE = 1.0  # --scale: the annotated video's size against the source's (0.5: a quick preview)
SCALE_RANGE = (0.05, 1.0)
# How an annotated video's frames travel: "auto" keeps 8-bit 4:2:0 BT.709 sources as YUV planes
# from decoder to encoder (see media/yuv.py), "rgb" converts every frame to RGB and back.
# MOVENET_FRAMES=rgb picks the RGB way, to compare the two.
FRAME_LAYOUTS = ("auto", "rgb")
FRAME_LAYOUT_ENV = "MOVENET_FRAMES"
FRAME_LAYOUT = "auto"

# -- tracking and smoothing -----------------------------------------------------
TRACKERS = ("box", "keypoints")
TRACKER = "box"
MAX_TRACKS = 18  # three times what MultiPose can find in one frame
MAX_TRACKS_RANGE = (1, 1000)
MAX_AGE_MS = 1000.0
MAX_AGE_RANGE_MS = (1.0, 86_400_000.0)  # a millisecond to a day
MIN_SIMILARITY = {"box": 0.15, "keypoints": 0.2}

# -- runs -----------------------------------------------------------------------
ENGINES = ("local", "ray")
ENGINE = "local"
BATCH_SIZE_MAX = 64
THREADS_RANGE = (1, 1024)  # more than the cores is cut to the cores, with a warning
JOBS_RANGE = (1, 1024)  # `dir --jobs`: processes (or Ray tasks) at once

# -- CI and scripts -------------------------------------------------------------
COMPARE_TOLERANCE = 0.02  # `compare`: a keypoint may move this fraction of the person's box diagonal
COMPARE_SCORE_TOLERANCE = 0.1  # `compare`: a keypoint or person score may change this much
COMPARE_MIN_OKS = 0.1  # `compare`: least OKS for two untracked people to be the same person
COMPARE_SHOWN = 10  # `compare`: differences listed in the summary (all of them with --report)
URL_TIMEOUT_S = 15.0  # http(s)/rtsp inputs: seconds to wait for the server before giving up
URL_TIMEOUT_RANGE_S = (0.1, 86_400.0)  # ffmpeg takes the wait in microseconds (a 64-bit count)


# -- analysis (offline filters, angles, exports) --------------------------------
FILTERS = ("butterworth", "savgol", "one-euro", "none")
BUTTERWORTH_CUTOFF_HZ = 6.0  # Sports2D's defaults: 4th-order zero-phase Butterworth at 6 Hz
BUTTERWORTH_ORDER = 4
SAVGOL_WINDOW = 9  # frames
SAVGOL_POLY = 2
# Frames. Sports2D's help text gives 10 for interp_gap_smaller_than (its config ships 100);
# 10 frames is a third of a second at 30 fps, as long as a guess across a gap should run.
MAX_GAP = 10
MAX_GAP_RANGE = (1, 1_000_000)
HEIGHT_RANGE_M = (0.1, 10.0)  # --height: a person's height in metres
EXPORT_FORMATS = ("openpose", "coco", "trc")
# Keypoint layouts of the OpenPose export: COCO-17 is Pose2Sim's COCO_17 ('Body'), whose OpenSim
# kinematics exist; COCO-18 is OpenPose's own order with a Neck (Pose2Sim's 'COCO', no kinematics).
OPENPOSE_LAYOUTS = ("coco17", "coco18")
OPENPOSE_LAYOUT = "coco17"

# -- reports --------------------------------------------------------------------
REPORT_LOW_SCORE = 0.3  # inputs whose mean person score is below this go in the "low score" bucket
REPORT_THUMB_WIDTH = 320  # pixels
REPORT_NAME = "report.html"


def check_range(name: str, value, bounds: tuple, *, integer: bool = False, unit: str = "") -> None:
    """Raise :class:`UsageError` unless ``value`` is a finite number (a whole one with ``integer``)
    within ``bounds`` (inclusive): the one check behind every numeric option and setting."""
    low, high = bounds
    if isinstance(value, bool) or not isinstance(value, int if integer else (int, float)) or \
            (isinstance(value, float) and not math.isfinite(value)) or not low <= value <= high:
        kind = "a whole number" if integer else "a number"
        raise UsageError(f"{name} must be {kind} from {_plain(low)} to {_plain(high)}{unit}, got {value!r}")


def _plain(number) -> str:
    """A bound as people write it: 86400000, 0.1."""
    return str(int(number)) if float(number).is_integer() else f"{number:g}"


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
        check_range("max_tracks", self.max_tracks, MAX_TRACKS_RANGE, integer=True)
        check_range("max_age", self.max_age, MAX_AGE_RANGE_MS, unit=" milliseconds")
        if self.min_similarity is not None and not 0 <= self.min_similarity <= 1:
            raise UsageError(f"min_similarity must be between 0 and 1, got {self.min_similarity}")


@dataclass(frozen=True)
class AnalysisSettings:
    """What is made from an input's poses before its outputs are published.

    ``filter`` is ``butterworth[:CUTOFF_HZ[:ORDER]]`` or ``savgol[:WINDOW[:POLY]]`` (an offline,
    zero-phase filter over whole tracks: it replaces the One-Euro smoothing), ``one-euro``
    (the default) or ``none``; ``max_gap`` is in frames. ``formats`` are exports
    (:data:`EXPORT_FORMATS`); ``height`` (metres) puts the TRC export in metres; ``layout`` is the
    OpenPose export's keypoint layout (:data:`OPENPOSE_LAYOUTS`).
    """

    angles: bool = False
    formats: tuple[str, ...] = ()
    height: float | None = None
    filter: str | None = None
    max_gap: int = MAX_GAP
    layout: str = OPENPOSE_LAYOUT

    @property
    def offline(self) -> bool:
        """Whether an offline filter is asked for (the whole track must be known)."""
        return (self.filter or "").split(":")[0].strip().lower() in ("butterworth", "butter", "savgol")

    @property
    def replaces_smoothing(self) -> bool:
        """Whether the One-Euro smoothing is off: an offline filter takes the raw track, ``none`` asks for none."""
        return self.offline or (self.filter or "").strip().lower() == "none"

    @property
    def active(self) -> bool:
        """Whether there is anything to do after the poses are found."""
        return self.angles or bool(self.formats) or self.offline

    def check(self) -> None:
        unknown = [f for f in self.formats if f not in EXPORT_FORMATS]
        if unknown:
            raise UsageError(f"unknown format {unknown[0]!r}; choose from {', '.join(EXPORT_FORMATS)}")
        if self.height is not None:
            check_range("height", self.height, HEIGHT_RANGE_M, unit=" metres")
        check_range("max_gap", self.max_gap, MAX_GAP_RANGE, integer=True, unit=" frames")
        if self.layout not in OPENPOSE_LAYOUTS:
            raise UsageError(f"unknown keypoint layout {self.layout!r}; choose from {', '.join(OPENPOSE_LAYOUTS)}")

def check_pose_options(model: str, backend: str, threshold: float, min_pose_score: float, input_size: int,
                       refine: str | None, accuracy: str = ACCURACY) -> None:
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
    if accuracy not in ACCURACY_LEVELS:
        raise UsageError(f"unknown accuracy level {accuracy!r}; choose one of {', '.join(ACCURACY_LEVELS)}")
    if accuracy != "standard" and MODELS[model].multipose and input_size != INPUT_SIZE:
        raise UsageError(f"input size sets the single pass of accuracy standard; {accuracy} chooses its own sizes")
    if refine is not None:
        if refine not in REFINE_MODELS:
            raise UsageError(f"refine takes {' or '.join(REFINE_MODELS)}, not {refine!r}")
        if not MODELS[model].multipose:
            raise UsageError("refinement re-estimates MultiPose people; use it with the multipose model")


def check_frame_range(start: float | None, end: float | None, every: int) -> None:
    """Raise :class:`UsageError` for a frame selection that cannot work."""
    for name, value in (("start", start), ("end", end)):
        if value is not None:
            check_range(name, value, (0, SECONDS_MAX), unit=" seconds")
    if start is not None and end is not None and end <= start:
        raise UsageError("end must be after start")
    check_range("every", every, EVERY_RANGE, integer=True)


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
    accuracy: str = ACCURACY
    start: float | None = None
    end: float | None = None
    every: int = EVERY
    preset: str = PRESET
    crf: int = CRF
    scale: float = SCALE
    quality: VideoQuality = field(default_factory=VideoQuality)
    analysis: AnalysisSettings = field(default_factory=AnalysisSettings)
    style: "object | None" = None  # a render.draw.DrawStyle (None: the default look); checked by its own check()

    def check(self) -> "RunSettings":
        """Raise :class:`UsageError` when the settings cannot work together; return self."""
        check_pose_options(self.model, self.backend, self.threshold, self.min_pose_score, self.input_size, self.refine,
                           self.accuracy)
        check_frame_range(self.start, self.end, self.every)
        if self.preset not in PRESETS:
            raise UsageError(f"unknown preset {self.preset!r}; choose one of {', '.join(PRESETS)}")
        check_range("crf", self.crf, CRF_RANGE, integer=True)
        check_range("scale", self.scale, SCALE_RANGE)
        self.quality.check()
        self.analysis.check()
        if self.analysis.offline and self.quality.tracker is None and MODELS[self.model].multipose:
            raise UsageError("an offline filter follows each person's track; it needs a tracker (not --tracker none)")
        if self.style is not None:
            self.style.check()
        return self

    def video_options(self) -> dict:
        return dict(
            start=self.start, end=self.end, every=self.every, preset=self.preset, crf=self.crf, scale=self.scale,
            quality=self.quality,
            analysis=self.analysis, style=self.style,
        )

    def as_dict(self) -> dict:
        return asdict(self)
