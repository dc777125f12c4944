"""One video through the stages: decode -> letterbox -> model -> poses -> follow/track/smooth ->
draw/encode + JSON/CSV (+ plot).

Three overlapped stages joined by bounded queues (:mod:`movenet_cli.pipeline.stages`): a decoder
thread reads and letterboxes frames (without an annotated video or crops, ffmpeg hands over only
the pixels the resize reads; else whole frames, as YUV planes where the source allows, see
:mod:`movenet_cli.media.yuv`); the calling thread runs the model, in batches where frames are
independent, and the per-video :class:`~movenet_cli.temporal.FrameProcessor`; a writer thread
draws, encodes and feeds the sinks. Every output is written under a temporary name and renamed
into place only when the run completes.

Example::

    from pathlib import Path
    from movenet_cli import PoseEstimator
    from movenet_cli.pipeline import Outputs, process_video

    estimator = PoseEstimator("multipose")
    stats = process_video(estimator, "sample_media/demo_clip.mp4",
                          Outputs(Path("out/demo.mp4"), Path("out/demo.json"), Path("out/demo.csv")), end=1.0)
    print(stats.frames, stats.fps)          # 30 frames, and how many a second
"""

from __future__ import annotations

import logging
import math
import os
import queue
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .. import settings
from ..errors import MediaError
from ..media import VideoInfo, VideoWriter, iter_frames, probe_video
from ..media.url import display_url, is_url
from ..media.yuv import Yuv420, colour_table, plane_filter
from ..models.store import cache_dir
from ..pose.letterbox import letterbox_samples
from ..render.draw import DrawStyle, draw_poses
from ..render.draw_yuv import draw_poses_yuv
from ..render.jsonl import JsonlSink
from ..render.plot import RunSummary
from ..render.sinks import JsonSink
from ..settings import AnalysisSettings, VideoQuality
from ..temporal import FrameProcessor
from ..types import FrameResult
from ..util.preflight import check_input
from ..util.progress import progress_bar
from ..util.system import encoder_threads
from .analysis import check_filter_rate, publish_analysis, video_quality, wanted
from .outputs import Outputs, OutputSet, model_info, open_sinks, source_info
from .stages import DONE, QUEUE_DEPTH, Decoded, Estimated, Stage, get, put

logger = logging.getLogger(__name__)


@dataclass
class RunStats:
    """What one input produced.

    ``complete`` is false when the input decoded only in part (a truncated or damaged video):
    the outputs then hold the frames that decoded, the JSON says ``"complete": false``, and
    ``problem`` tells what was missing.
    """

    frames: int
    seconds: float
    people: int = 0
    complete: bool = True
    problem: str | None = None

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0


@dataclass
class _Run:
    """What the stages of one video share."""

    path: Path | str  # a str for an http/https/rtsp URL
    info: VideoInfo
    estimator: object
    process: FrameProcessor
    box: object
    stop: threading.Event
    decoded: queue.Queue
    estimated: queue.Queue
    problems: list
    style: DrawStyle | None = None
    colours: object = None  # the ColourTable of a video whose frames stay YUV planes (None: RGB frames)


def _decode(run: _Run, frame_range: dict, grid) -> None:
    """The decoder stage: frames and their model inputs, in order, then DONE."""
    frames = None
    try:
        pixels = None if grid is None else (grid.rows, grid.cols)
        frames = iter_frames(run.path, pixels=pixels, info=run.info, yuv=run.colours is not None, table=run.colours,
                             **frame_range)
        for frame in frames:
            image = frame.image  # RGB, the pixels of the grid, or planes (Yuv420)
            if grid is None and image.shape[:2] != (run.info.height, run.info.width):
                raise MediaError(f"frame {frame.index} is {image.shape[1]}x{image.shape[0]}, "
                                 f"expected {run.info.width}x{run.info.height}")
            if grid is not None:
                tensor = letterbox_samples(image, grid, run.box)
            elif run.estimator.accurate is not None:  # an accuracy level letterboxes at its own sizes
                tensor = None
            else:
                tensor, _ = run.estimator.preprocess(image, run.box)
            if not put(run.decoded, Decoded(frame, tensor), run.stop):
                return
        if frames.problem:
            run.problems.append(frames.problem)
    finally:
        if frames is not None:
            frames.close()
        put(run.decoded, DONE, run.stop)


def _write(run: _Run, sinks: list, writer: VideoWriter | None) -> None:
    """The writer stage: sinks and the annotated frame, in order, until DONE."""
    est = run.estimator
    while (item := get(run.estimated, run.stop)) is not DONE:
        for sink in sinks:
            sink.add(item.result)
        if writer is None:
            continue
        image, options = item.frame.image, dict(threshold=est.threshold, show_ids=est.spec.multipose, style=run.style)
        if isinstance(image, Yuv420):  # drawn on the planes, in place
            writer.write(draw_poses_yuv(image, item.result.people, **options))
        else:  # the frame was decoded for this run only: drawn on in place
            writer.write(draw_poses(image, item.result.people, inplace=True, **options))


def _next_batch(run: _Run, size: int) -> tuple[list[Decoded], bool]:
    """Up to ``size`` decoded frames, and whether the decoder is done."""
    batch = []
    while len(batch) < size:
        item = get(run.decoded, run.stop)
        if item is DONE:
            return batch, True
        batch.append(item)
    return batch, False


def _infer(run: _Run, on_result: Callable[[FrameResult], None]) -> None:
    """The inference stage, in the calling thread: batches of frames through the model and the processor."""
    size = run.estimator.batch_size if run.process.batchable else 1
    finished = False
    while not finished:
        batch, finished = _next_batch(run, size)
        if not batch:
            break
        frames = [item.frame for item in batch]
        estimated = run.process.estimate([f.image for f in frames], [item.tensor for item in batch], run.box)
        found = [run.process.track(people, frame.time) for frame, people in zip(frames, estimated)]
        for item, people in zip(batch, found):
            result = FrameResult(item.frame.index, item.frame.time, people)
            on_result(result)
            if not put(run.estimated, Estimated(item.frame, result), run.stop):
                return
    put(run.estimated, DONE, run.stop)


def _run_stages(run: _Run, sinks: list, writer: VideoWriter | None, frame_range: dict, grid,
                on_result: Callable[[FrameResult], None]) -> None:
    decoder = Stage(lambda: _decode(run, frame_range, grid), "movenet-decode", run.stop)
    encoder = Stage(lambda: _write(run, sinks, writer), "movenet-write", run.stop)
    decoder.start()
    encoder.start()
    try:
        _infer(run, on_result)
        encoder.join()
    finally:
        run.stop.set()
        decoder.join()
        encoder.join()
    for stage in (decoder, encoder):
        if stage.error is not None:
            raise stage.error


def process_video(
    estimator,
    path: str | os.PathLike,
    outputs: Outputs,
    *,
    start: float | None = None,
    end: float | None = None,
    every: int = settings.EVERY,
    preset: str = settings.PRESET, crf: int = settings.CRF, scale: float = settings.SCALE,
    progress: bool = True,
    on_result: Callable[[FrameResult], None] | None = None,
    quality: VideoQuality | None = None,
    source_name: str | None = None,
    analysis: AnalysisSettings | None = None,
    style: DrawStyle | None = None,
    url_timeout: float = settings.URL_TIMEOUT_S,
    warn: Callable[[str], None] | None = None,
) -> RunStats:
    """Run the estimator over a video, writing the annotated MP4, JSON and CSV (and plot).

    ``quality`` sets tracking, smoothing and crop following (default: all on, see
    :class:`~movenet_cli.settings.VideoQuality`; ``VideoQuality.off()`` for none); ``analysis`` adds
    an offline filter, angles and exports (:mod:`movenet_cli.pipeline.analysis`); ``style`` is how the
    annotated video is drawn; ``source_name``: what the results call the input (``-`` for stdin).
    ``path`` may be an http/https/rtsp URL (each wait on the server limited to ``url_timeout``
    seconds); what a URL cannot give is left out with a line to ``warn`` (default: the log). ``scale`` < 1:
    a smaller annotated video (the data stay in source pixels)."""
    settings.check_frame_range(start, end, every)
    path, info = _open_input(path, url_timeout, outputs, progress, warn or logger.warning)
    check_filter_rate(analysis, info.fps, every, display_url(source_name or path))
    box = estimator.plan(info.height, info.width)
    process = FrameProcessor(video_quality(quality or VideoQuality(), analysis), estimator, info.width, info.height)
    run = _Run(path, info, estimator, process, box, threading.Event(), queue.Queue(QUEUE_DEPTH),
               queue.Queue(QUEUE_DEPTH), [], style)
    grid = _frame_layout(run, outputs)
    summary = RunSummary(display_url(path), estimator.threshold) if outputs.plot is not None else None
    bar = _progress(path, info, start, end, every) if progress else None
    counts = {"frames": 0, "people": 0}
    kept: list[FrameResult] | None = [] if wanted(analysis) else None  # for the analysis step
    found = _listener(counts, on_result, summary and summary.add, None if bar is None else (lambda _: bar.update(1)),
                      kept is not None and kept.append)
    started = time.perf_counter()
    try:
        with OutputSet() as outs:
            source = source_info(display_url(source_name or path), info.width, info.height, info.fps, info.rotation, video=info)
            model = dict(model_info(estimator, (box.in_h, box.in_w)), **process.info())
            sinks = open_sinks(outs, outputs, source, model) if kept is None else []  # else written after analysis
            writer = _open_writer(outs, outputs, info, path, start, end, every, preset, crf, run.colours is not None,
                                  scale)
            _run_stages(run, sinks, writer, dict(start=start, end=end, every=every, url_timeout=url_timeout), grid,
                        found)
            if counts["frames"] == 0:
                raise MediaError("no frames could be decoded" + (" in the selected range" if start or end else ""))
            _finish_data(outs, outputs, sinks, kept, summary, source, model, analysis, estimator.threshold,
                         not run.problems)
    finally:
        if bar is not None:
            bar.close()
    return RunStats(counts["frames"], time.perf_counter() - started, counts["people"], not run.problems,
                    run.problems[0] if run.problems else None)


def _frame_layout(run: _Run, outputs: Outputs):
    """How frames travel from the decoder: with nothing to draw on or crop from, only the pixels the
    letterbox resize reads (the grid returned); else whole frames, as YUV planes where the source
    allows (``run.colours`` set: drawing, model inputs and crops all come from the planes), or RGB."""
    if outputs.media is None and not run.process.uses_image:
        return run.box.samples()
    run.colours = _colour_table(run.info)
    return None


def _progress(path, info: VideoInfo, start, end, every):
    name = Path(path).name if not is_url(path) else (display_url(path).rstrip("/").rsplit("/", 1)[-1])
    return progress_bar(_expected_frames(info, start, end, every), unit="frame", desc=name)


def _open_input(path, url_timeout: float, outputs: Outputs, progress: bool, warn) -> tuple[Path | str, VideoInfo]:
    """The input checked and probed; for a URL, a warning for each output it cannot give in full."""
    if not is_url(path):
        path = Path(path)
        check_input(path)
        return path, probe_video(path)
    info = probe_video(path, url_timeout=url_timeout)
    name = display_url(path)
    warn(f"{name}: read once from the network: frame times come from the decoder's own timestamps "
         "(no pre-pass over the whole input)")
    if outputs.media is not None and info.has_audio:
        warn(f"{name}: the annotated video has no audio (audio is not copied from a URL)")
    if progress and info.frame_count is None:
        warn(f"{name}: the stream does not state its length; the progress shows frames done only")
    return path, info


def _listener(counts: dict, *listeners) -> Callable[[FrameResult], None]:
    """One call per frame result: count it, and hand it to each listener that is not None/False."""
    active = [listener for listener in listeners if listener]

    def found(result: FrameResult) -> None:
        counts["frames"] += 1
        counts["people"] += len(result.people)
        for listener in active:
            listener(result)

    return found


def _finish_data(outs, outputs, sinks, kept, summary, source, model, analysis, threshold, complete) -> None:
    """The plot; the JSON marked incomplete where the input was; or the data files after the analysis step."""
    if summary is not None:
        outs.add_file(outputs.plot, summary.save)
    for sink in sinks:
        if isinstance(sink, (JsonSink, JsonlSink)) and not complete:
            sink.complete = False
    if kept is not None:
        publish_analysis(outs, outputs, kept, source=source, model=model, analysis=analysis, threshold=threshold,
                         complete=complete)


def _colour_table(info: VideoInfo):
    """The decoder's YUV->RGB table where ``info``'s frames can stay YUV planes, else None."""
    if plane_filter(info) is None or os.environ.get(settings.FRAME_LAYOUT_ENV, settings.FRAME_LAYOUT) == "rgb":
        return None
    try:
        return colour_table(cache=cache_dir() / "colour")
    except (MediaError, OSError):  # the RGB way always works
        return None


def _open_writer(outs: OutputSet, outputs: Outputs, info: VideoInfo, path: Path, start, end, every, preset, crf,
                 planes: bool = False, scale: float = settings.SCALE):
    if outputs.media is None:
        return None
    return outs.add(
        VideoWriter(outputs.media, info.width, info.height, info.fps / every,
                    audio_source=str(path) if info.has_audio and not is_url(path) else None,
                    audio_start=start, audio_end=end,
                    audio_info=info, sample_aspect_ratio=info.sample_aspect_ratio, preset=preset, crf=crf,
                    pix_fmt="yuv420p" if planes else "rgb24", threads=encoder_threads(), scale=scale)
    )


def _expected_frames(info: VideoInfo, start, end, every) -> int | None:
    if info.frame_count is None and info.duration is None:
        return None
    total = info.frame_count if info.frame_count is not None else round(info.duration * info.fps)
    first = 0 if not start else min(total, math.ceil(start * info.fps - 1e-6))
    last = total if end is None else min(total, math.ceil(end * info.fps - 1e-6))
    return max(0, math.ceil((last - first) / every))
