"""The option groups the commands share, built from :mod:`movenet_cli.settings`, and the objects
made from their values.

Every default shown in ``--help`` is read from settings, so it is stated once.
"""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import click

from .. import settings
from ..analysis.filters import parse_filter
from ..errors import MovenetError
from ..media.url import is_url
from ..pipeline.outputs import Target, WriteSet
from ..pose import PoseEstimator
from ..render.draw import DrawStyle
from ..render.report import pictures_folder, pictures_listing
from ..results.expect import parse_expectations
from ..run.checks import RunChecks
from ..settings import AnalysisSettings, RunSettings, VideoQuality
from ..storage import as_url
from ..types import MODEL_NAMES
from ..util.system import default_threads, usable_cores


class Number(click.ParamType):
    """A finite number (``nan`` and ``inf`` refused) in an optional closed range."""

    name = "number"

    def __init__(self, low: float | None = None, high: float | None = None, *, integer: bool = False,
                 positive: bool = False):
        self.low, self.high, self.integer, self.positive = low, high, integer, positive
        self.name = "integer" if integer else "number"

    def convert(self, value, param, ctx):
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            number = value
        else:
            try:
                number = int(value) if self.integer else float(value)
            except (TypeError, ValueError):
                self.fail(f"{value!r} is not {'a whole number' if self.integer else 'a number'}", param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        if (self.low is not None and number < self.low) or (self.high is not None and number > self.high):
            self.fail(f"{value} is not in the range {_plain(self.low)}..{_plain(self.high)}", param, ctx)
        if self.positive and number <= 0:
            self.fail(f"{value} must be greater than 0", param, ctx)
        return number


def _plain(bound) -> str:
    return "" if bound is None else str(int(bound)) if float(bound).is_integer() else f"{bound:g}"


def _apply(fn, options):
    """Apply click options so that they appear in --help in the order listed."""
    for option in reversed(options):
        fn = option(fn)
    return fn


def pose_options(fn):
    """Options shared by every command that runs a model."""
    return _apply(fn, [
        click.option("--model", "-m", type=click.Choice(MODEL_NAMES), default=settings.MODEL, show_default=True,
                     help="MoveNet model: SinglePose Lightning/Thunder, or MultiPose Lightning (up to 6 people)."),
        click.option("--backend", type=click.Choice(settings.BACKENDS), default=settings.BACKEND, show_default=True,
                     help="Runtime: TFLite (XNNPACK) on CPU, TensorFlow; auto picks TensorFlow only when a GPU is present."),
        click.option("--threshold", type=Number(0, 1), default=settings.THRESHOLD, show_default=True,
                     help="Keypoint confidence needed to draw a keypoint (and to count it in a singlepose bbox)."),
        click.option("--min-pose-score", type=Number(0, 1), default=settings.MIN_POSE_SCORE, show_default=True,
                     help="People scoring below this are dropped."),
        click.option("--input-size", type=Number(*settings.INPUT_SIZE_RANGE, integer=True), default=settings.INPUT_SIZE,
                     show_default=True, help="MultiPose: larger side of the model input (a multiple of 32)."),
        click.option("--refine", type=click.Choice(settings.REFINE_MODELS), default=None,
                     help="MultiPose: re-estimate each person on a crop with this SinglePose model (slower, more accurate)."),
        click.option("--overwrite", is_flag=True, help="Replace output files that already exist."),
        click.option("--quiet", "-q", is_flag=True, help="No progress bars or per-file lines."),
    ])


def video_options(fn):
    return _apply(fn, [
        click.option("--start", type=Number(0, settings.SECONDS_MAX), default=None, help="First second to process."),
        click.option("--end", type=Number(0, settings.SECONDS_MAX), default=None, help="Second to stop at (exclusive)."),
        click.option("--every", type=Number(*settings.EVERY_RANGE, integer=True), default=settings.EVERY, show_default=True,
                     help="Process every Nth frame; the annotated video then runs at fps/N."),
        click.option("--preset", type=click.Choice(settings.PRESETS), default=settings.PRESET, show_default=True,
                     help="x264 preset: slower presets give smaller files for more time."),
        click.option("--crf", type=Number(*settings.CRF_RANGE, integer=True), default=settings.CRF, show_default=True,
                     help="x264 quality (lower is better)."),
        click.option("--scale", type=Number(*settings.SCALE_RANGE), default=settings.SCALE, show_default=True,
                     help="Annotated video at this share of the source size (0.5: a quick preview); "
                     "keypoints stay in source pixels."),
    ])


def quality_options(fn):
    """Tracking and smoothing across the frames of a video."""
    similarity = ", ".join(f"{v} for {k}" for k, v in settings.MIN_SIMILARITY.items())
    return _apply(fn, [
        click.option("--tracker", type=click.Choice((*settings.TRACKERS, "none")), default=settings.TRACKER,
                     show_default=True,
                     help="How MultiPose people keep their ids across frames: box IoU, keypoint similarity (OKS), "
                     "or none (ids are the rank in each frame, nothing is smoothed)."),
        click.option("--max-tracks", type=Number(*settings.MAX_TRACKS_RANGE, integer=True), default=settings.MAX_TRACKS, show_default=True,
                     help="Most people tracked at once."),
        click.option("--max-age", type=Number(*settings.MAX_AGE_RANGE_MS), default=settings.MAX_AGE_MS, show_default=True,
                     help="Milliseconds a person may go unseen and keep their id."),
        click.option("--min-similarity", type=Number(0, 1), default=None,
                     help=f"Least similarity to keep an id [default: {similarity}]."),
        click.option("--no-smooth", is_flag=True, help="Do not smooth keypoints over time (One-Euro filter)."),
        click.option("--no-follow", is_flag=True,
                     help="SinglePose: give the model the whole frame every time instead of a crop that follows the "
                     "person (less accurate on small people; frames can then be decoded at model size and batched)."),
    ])


def runner_options(fn):
    """How the model runs over the frames of a video."""
    return _apply(fn, [
        click.option("--threads", type=Number(*settings.THREADS_RANGE, integer=True), default=None,
                     help="TFLite inference threads [default: every core; one fewer while an MP4 is encoded, "
                     "leaving that core to ffmpeg]."),
        click.option("--batch-size", type=Number(1, settings.BATCH_SIZE_MAX, integer=True), default=None,
                     help="Frames per model call [default: as many as --threads, or 1 where each frame's input "
                     "depends on the last result, as when SinglePose follows the person]. MoveNet takes one frame "
                     "at a time, so TFLite runs a batch on up to --threads interpreters side by side; TensorFlow "
                     "runs a batch frame by frame."),
    ])


def accuracy_option(default: str):
    """``--accuracy``; each command has its own default (see settings)."""
    return click.option(
        "--accuracy", type=click.Choice(settings.ACCURACY_LEVELS), default=default, show_default=True,
        help="standard: one model pass; high: MultiPose at 320 and its mirror image, each person re-estimated "
        "by Thunder, duplicates removed (about 4x the time); max: three input sizes, each mirrored (about 8x). "
        "SinglePose: high adds a pass on a crop around the person, max also the mirror image.",
    )


POSE_KEYS = ("model", "backend", "threshold", "min_pose_score", "input_size", "refine", "accuracy")
VIDEO_KEYS = ("start", "end", "every", "preset", "crf", "scale")


def take(params: dict, keys) -> dict:
    """Remove ``keys`` from ``params`` (those present) and return them."""
    return {key: params.pop(key) for key in keys if key in params}


def video_quality(params: dict) -> VideoQuality:
    """The tracking/smoothing options taken out of ``params``."""
    tracker = params.pop("tracker")
    return VideoQuality(
        tracker=None if tracker == "none" else tracker, max_tracks=params.pop("max_tracks"),
        max_age=params.pop("max_age"), min_similarity=params.pop("min_similarity"),
        smooth=not params.pop("no_smooth"), follow=not params.pop("no_follow"),
    )


def run_settings(params: dict) -> RunSettings:
    """The settings taken out of ``params`` (pose, frames, encoding, tracking), checked.

    A combination that cannot work is a usage error, reported by Click (exit 2)."""
    quality = video_quality(params) if "tracker" in params else VideoQuality()
    analysis = analysis_settings(params)
    style = draw_style(params) if "draw" in params else None
    run = RunSettings(**take(params, POSE_KEYS), **take(params, VIDEO_KEYS), quality=quality, analysis=analysis,
                      style=style)
    try:
        return run.check()
    except settings.UsageError as exc:
        raise click.UsageError(str(exc)) from None


def check_options(fn):
    """What a CI job asks of a run: expectations on each input's results, and a JUnit report."""
    return _apply(fn, [
        click.option("--expect-people", metavar="MIN[:MAX]", default=None,
                     help="Expect MIN to MAX people (MIN or more without MAX) in every processed frame."),
        click.option("--expect-detected", metavar="FRACTION", default=None,
                     help="Expect at least one person in this share of processed frames (0.9 or 90%)."),
        click.option("--expect-score", metavar="MIN", default=None,
                     help="Expect a mean person score of at least MIN."),
        click.option("--junit", "junit_path", type=click.Path(path_type=Path, dir_okay=False), default=None,
                     help="Write a JUnit XML report here: one testcase per input (for CI test viewers)."),
    ])


def run_checks(params: dict, suite: str) -> RunChecks:
    """The expectations and JUnit report taken out of ``params``; a text that is no expectation is a usage error."""
    try:
        expect = parse_expectations(params.pop("expect_people"), params.pop("expect_detected"),
                                    params.pop("expect_score"))
    except settings.UsageError as exc:
        raise click.UsageError(str(exc)) from None
    return RunChecks(expect, params.pop("junit_path"), suite)


def _filter_spec(ctx, param, value):
    if value is not None:
        try:
            parse_filter(value)
        except MovenetError as exc:
            raise click.BadParameter(str(exc)) from None
    return value


def analysis_options(fn):
    """Angles and exports, made from the poses before the outputs are published."""
    return _apply(fn, [
        click.option("--angles", is_flag=True,
                     help="Joint and segment angles (Sports2D conventions) per person in the JSON and in *.angles.csv."),
        click.option("--format", "formats", multiple=True, type=click.Choice(settings.EXPORT_FORMATS),
                     help="Also export: openpose (a folder of per-frame JSON), coco (results file), "
                     "trc (a folder, one file per tracked person). Repeatable."),
        click.option("--height", type=Number(*settings.HEIGHT_RANGE_M), default=None,
                     help="The person's height in metres: the TRC export is then in metres (scale from this height)."),
        openpose_layout_option,
    ])


openpose_layout_option = click.option(
    "--openpose-layout", "layout", type=click.Choice(settings.OPENPOSE_LAYOUTS), default=settings.OPENPOSE_LAYOUT,
    show_default=True, help="Keypoints of the OpenPose export: coco17 (Pose2Sim pose_model 'COCO_17', which its "
    "kinematics take) or coco18 (OpenPose's COCO order with a Neck, Pose2Sim 'COCO').")


def filter_options(fn):
    """Offline filtering of whole tracks (recorded video)."""
    return _apply(fn, [
        click.option("--filter", "filter_", default=None, callback=_filter_spec, metavar="SPEC",
                     help=f"butterworth[:CUTOFF_HZ[:ORDER]] (zero-phase, default {settings.BUTTERWORTH_CUTOFF_HZ:g} Hz, "
                     f"order {settings.BUTTERWORTH_ORDER}), savgol[:WINDOW[:POLY]], one-euro (the default: online) or "
                     "none. An offline filter replaces the One-Euro smoothing."),
        click.option("--max-gap", type=Number(*settings.MAX_GAP_RANGE, integer=True), default=settings.MAX_GAP, show_default=True,
                     help="Offline filter: gaps shorter than this many frames are filled (cubic); longer ones split the track."),
    ])


ANALYSIS_KEYS = {"angles": "angles", "formats": "formats", "height": "height", "filter_": "filter", "max_gap": "max_gap",
                 "layout": "layout"}


def analysis_settings(params: dict) -> AnalysisSettings:
    """The angle, export and filter options taken out of ``params``."""
    values = {ANALYSIS_KEYS[key]: params.pop(key) for key in list(params) if key in ANALYSIS_KEYS}
    if values.get("formats") is not None:
        values["formats"] = tuple(dict.fromkeys(values["formats"]))
    return AnalysisSettings(**values)


def report_page_options(fn):
    """How the HTML report sorts inputs into buckets."""
    return _apply(fn, [
        click.option("--low-score", type=Number(0, 1), default=settings.REPORT_LOW_SCORE, show_default=True,
                     help="Inputs whose mean person score is below this go in the report's 'low score' bucket."),
        click.option("--quiet", "-q", is_flag=True, help="Do not print the report's path."),
    ])


class Layers(click.ParamType):
    """A comma-separated list of drawing layers, or ``none``."""

    name = "layers"

    def convert(self, value, param, ctx):
        if isinstance(value, tuple):
            return value
        layers = tuple(part.strip() for part in str(value).split(",") if part.strip())
        if layers == ("none",):
            return ()
        unknown = [layer for layer in layers if layer not in settings.DRAW_LAYERS]
        if unknown or not layers:
            self.fail(f"{value!r}: give some of {','.join(settings.DRAW_LAYERS)}, or none", param, ctx)
        return layers


def draw_options(fn):
    """What the annotated image or video shows."""
    return _apply(fn, [
        click.option("--draw", "draw", type=Layers(), default=settings.DRAW, metavar="LAYERS",
                     help=f"Comma-separated layers to draw, from {','.join(settings.DRAW_LAYERS)}, or none "
                     "[default: skeleton,points, plus ids for multipose]."),
        click.option("--line-width", type=Number(*settings.LINE_WIDTH_RANGE, integer=True), default=settings.LINE_WIDTH,
                     help="Skeleton line width in pixels [default: about 1/320 of the frame diagonal]."),
        click.option("--point-radius", type=Number(*settings.POINT_RADIUS_RANGE, integer=True), default=settings.POINT_RADIUS,
                     help="Keypoint dot radius in pixels [default: 1.4 times the default line width]."),
        click.option("--blur-faces", is_flag=True, default=settings.BLUR_FACES,
                     help="Blur each person's face region (around the nose, eyes and ears keypoints). A "
                     "convenience, not an anonymisation guarantee: faces the model misses stay sharp."),
    ])


def draw_style(params: dict) -> DrawStyle | None:
    """The drawing options taken out of ``params``; None when they are all at their defaults."""
    style = DrawStyle(layers=params.pop("draw"), line_width=params.pop("line_width"),
                      point_radius=params.pop("point_radius"), blur_faces=params.pop("blur_faces"),
                      angles=params.pop("draw_angles", settings.DRAW_ANGLES))
    return None if style == DrawStyle() else style


def runner_size(threads: int | None, batch_size: int | None, *, encoding: bool, warn) -> tuple[int, int | None]:
    """Threads (at most the cores) and batch size (at most the threads: a larger batch runs no
    faster and only holds more frames in memory), with a warning where the asked ones are cut."""
    cores = usable_cores()
    if threads is not None and threads > cores:
        warn(f"--threads {threads} is more than the {cores} cores this process may use; using {cores}")
        threads = cores
    threads = threads or default_threads(encoding=encoding)
    if batch_size is not None and batch_size > threads:
        warn(f"--batch-size {batch_size} is more than the {threads} inference threads; using {threads}")
        batch_size = threads
    return threads, batch_size


def video_estimator(chosen, threads: int | None, batch_size: int | None, *, encoding: bool, warn):
    """The estimator of a video run: threads and batch as :func:`runner_size` allows them."""
    threads, batch_size = runner_size(threads, batch_size, encoding=encoding, warn=warn)
    batch_size = batch_size or (threads if chosen.quality.batches(chosen.model) else 1)
    return PoseEstimator.from_settings(chosen, threads=threads, batch_size=batch_size)


def check_report_path(report_path, outputs) -> None:
    """``video --report``: an .html path and a JSON to build it from."""
    if report_path is None:
        return
    if report_path.suffix.lower() not in (".html", ".htm"):
        raise click.BadParameter(f"{report_path} must end in .html", param_hint="--report")
    if outputs.json is None:
        raise click.BadParameter("the report is built from the JSON: give -o or --json", param_hint="--report")


def add_report(writes: WriteSet, page, option: str) -> None:
    """An HTML report among what a command writes: the page (an earlier report is rebuilt), its
    pictures folder (shared: other files there stay) and the listing of the pictures it made."""
    if page is None:
        return
    writes.add(page, option, rebuilds="report")
    writes.add(pictures_folder(page), f"the pictures folder of {option}", shared=True)
    writes.add(pictures_listing(page), f"the pictures listing of {option}", managed=True)


def check_video_writes(inputs, outputs, page, junit, *, overwrite: bool, named: dict) -> None:
    """``video``: every file it writes (outputs, report, JUnit) checked as one set before any work;
    ``named``: the data files given by their own option (else they are named after -o)."""
    writes = WriteSet(inputs)
    writes.add_outputs(outputs, options={"media": "--output", "plot": "--plot", "jsonl": "--jsonl",
                                         **{kind: f"--{kind}" for kind, path in named.items() if path}})
    add_report(writes, page, "--report")
    writes.add(junit, "--junit", rebuilds="junit")
    writes.check(overwrite=overwrite)


def report_and_junit(out_dir, page, junit, overwrite: bool) -> list[Target]:
    """``dir``'s HTML report and JUnit report, checked here against the output folder (``-``, one
    path for two), then by the plan with every input's outputs (an existing file that is not an
    earlier report of ours is refused unless --overwrite)."""
    writes = WriteSet()
    writes.add(out_dir, "--output", shared=True, managed=True)
    add_report(writes, page, "--report")
    writes.add(junit, "--junit", rebuilds="junit")
    writes.check(overwrite=True)
    return [replace(target, managed=target.managed or overwrite) for target in writes.targets[1:]]


class VideoSource(click.Path):
    """A video file, ``-`` for stdin, or an http/https/rtsp or bucket URL (kept as the string it is)."""

    def __init__(self):
        super().__init__(path_type=Path, readable=False, allow_dash=True)

    def convert(self, value, param, ctx):
        return value if is_url(value) or as_url(value) else super().convert(value, param, ctx)


class FolderOrBucket(click.Path):
    """A folder, or a bucket URL (s3://, gs://, az://: kept as the string it is; see movenet_cli.storage)."""

    def __init__(self, **kwargs):
        super().__init__(path_type=Path, file_okay=False, **kwargs)

    def convert(self, value, param, ctx):
        return as_url(value) or super().convert(value, param, ctx)


def url_options(fn):
    """How long a network input may keep the run waiting."""
    return _apply(fn, [
        click.option("--url-timeout", type=Number(*settings.URL_TIMEOUT_RANGE_S), default=settings.URL_TIMEOUT_S, show_default=True,
                     metavar="SECONDS", help="For an http(s)/rtsp SOURCE: give up when the server does not "
                     "answer (connect, or send more data) within this many seconds."),
    ])


def draw_angles_option(fn):
    """Joint angles drawn on the annotated image or video."""
    return _apply(fn, [
        click.option("--draw-angles", is_flag=True, default=settings.DRAW_ANGLES,
                     help="Write each joint angle (integer degrees, per frame, unfiltered) next to its joint; "
                     "the same as adding 'angles' to --draw."),
    ])
