"""Streaming frames through the stages: decode -> letterbox -> model -> poses -> draw/encode + JSON/CSV.

Video runs as three overlapped stages joined by small bounded queues, so the
slowest stage sets the pace and memory stays flat however long the input is:

* a decoder thread reads frames (ffmpeg runs in its own process) and letterboxes them
  (without an annotated video, ffmpeg hands over only the pixels the resize reads);
* the calling thread runs the model and turns its output into poses;
* a writer thread draws the skeletons, feeds the encoder (another ffmpeg process)
  and appends to the JSON and CSV sinks.

Every output is written under a temporary name and renamed into place only when the
run completes, so an error or an interrupt never leaves a half-written file.

Example::

    estimator = PoseEstimator("multipose")
    stats = process_video(estimator, "in.mp4", VideoOutputs(Path("out.mp4"), Path("out.json"), Path("out.csv")))
"""

from __future__ import annotations

import math
import os
import queue
import sys
import threading
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable

import numpy as np

from . import media
from .draw import draw_poses
from .estimator import FrameResult, PoseEstimator
from .preflight import check_input
from .preprocess import letterbox_samples
from .quality import VideoQuality
from .writers import CsvSink, JsonSink

_QUEUE_DEPTH = 4
_DONE = object()


class OutputExistsError(Exception):
    """An output file is already there and ``overwrite`` was not asked for."""


@dataclass
class Outputs:
    """Where one input's results go; ``None`` skips that output."""

    media: Path | None = None
    json: Path | None = None
    csv: Path | None = None
    plot: Path | None = None  # video only: PNG summary of the run (movenet_cli.plot)

    def paths(self) -> list[Path]:
        return [p for p in (self.media, self.json, self.csv, self.plot) if p is not None]


@dataclass
class RunStats:
    """What one input produced.

    ``complete`` is false when the input decoded only in part (a truncated or
    damaged video): the outputs then hold the frames that decoded, the JSON says
    ``"complete": false``, and ``problem`` tells what was missing.
    """

    frames: int
    seconds: float
    people: int = 0
    complete: bool = True
    problem: str | None = None

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0


def check_outputs(inputs: Iterable[Path], outputs: Outputs, *, overwrite: bool) -> None:
    """Refuse to write over an input or, unless asked, over an existing file."""
    resolved_inputs = {Path(p).resolve() for p in inputs}
    for path in outputs.paths():
        if path.resolve() in resolved_inputs:
            raise OutputExistsError(f"{path}: output would overwrite its input; choose another output path")
        if path.exists() and not overwrite:
            raise OutputExistsError(f"{path}: already exists; pass --overwrite to replace it")
        if path.is_dir():
            raise OutputExistsError(f"{path}: is a directory")


def model_info(estimator: PoseEstimator, input_shape: tuple[int, int]) -> dict[str, Any]:
    return {
        "name": estimator.model,
        "input_size": list(input_shape),
        "backend": estimator.backend,
        "weights_sha256": estimator.weights_sha256,
        "threshold": estimator.threshold,
        "min_pose_score": estimator.min_pose_score,
        "refine": None if estimator.refiner is None else estimator.refiner.model,
    }


def process_image(estimator: PoseEstimator, path: str | os.PathLike, outputs: Outputs) -> FrameResult:
    """Estimate poses on one image and write the annotated image, JSON and CSV."""
    path = Path(path)
    check_input(path)
    image = media.read_image(path)
    height, width = image.shape[:2]
    poses = estimator(image)
    result = FrameResult(0, 0.0, poses)
    source = {"path": str(path), "width": width, "height": height, "fps": None, "rotation": 0}
    with ExitStack() as stack:
        sinks = _open_sinks(stack, outputs, source, model_info(estimator, estimator.input_shape(height, width)))
        for sink in sinks:
            sink.add(result)
        if outputs.media is not None:
            annotated = draw_poses(image, poses, threshold=estimator.threshold, show_ids=estimator.spec.multipose)
            outputs.media.parent.mkdir(parents=True, exist_ok=True)
            media.write_image(outputs.media, annotated)
    return result


def _open_sinks(stack: ExitStack, outputs: Outputs, source: dict, model: dict) -> list:
    sinks = []
    if outputs.json is not None:
        sinks.append(stack.enter_context(JsonSink(outputs.json, source=source, model=model)))
    if outputs.csv is not None:
        sinks.append(stack.enter_context(CsvSink(outputs.csv)))
    return sinks


class _Stage(threading.Thread):
    """A worker thread that records its exception instead of printing it, and then sets
    ``stop`` so that no other stage waits on it for ever."""

    def __init__(self, target: Callable[[], None], name: str, stop: threading.Event | None = None):
        super().__init__(name=name, daemon=True)
        self._work = target
        self._stop_all = stop
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self._work()
        except BaseException as exc:  # handed to the main thread
            self.error = exc
            if self._stop_all is not None:
                self._stop_all.set()


def _put(q: queue.Queue, item, stop: threading.Event) -> bool:
    while not stop.is_set():
        try:
            q.put(item, timeout=0.1)
            return True
        except queue.Full:
            continue
    return False


def _get(q: queue.Queue, stop: threading.Event):
    while True:
        try:
            return q.get(timeout=0.1)
        except queue.Empty:
            if stop.is_set():
                return _DONE


def process_video(
    estimator: PoseEstimator,
    path: str | os.PathLike,
    outputs: Outputs,
    *,
    start: float | None = None,
    end: float | None = None,
    every: int = 1,
    preset: str = "veryfast",
    crf: int = 23,
    progress: bool = True,
    on_result: Callable[[FrameResult], None] | None = None,
    quality: VideoQuality | None = None,
) -> RunStats:
    """Run the estimator over a video, writing the annotated MP4, JSON and CSV (and plot).

    ``quality`` sets tracking, smoothing and crop following (default: all on, see
    :class:`~movenet_cli.quality.VideoQuality`; ``VideoQuality.off()`` for none).
    """
    path = Path(path)
    check_input(path)
    info = media.probe_video(path)
    box = estimator.plan(info.height, info.width)
    source = {
        "path": str(path),
        "width": info.width,
        "height": info.height,
        "fps": info.fps,
        "rotation": info.rotation,
    }
    expected = _expected_frames(info, start, end, every)
    stop = threading.Event()
    decoded: queue.Queue = queue.Queue(_QUEUE_DEPTH)
    estimated: queue.Queue = queue.Queue(_QUEUE_DEPTH)
    started = time.perf_counter()
    counts = {"frames": 0, "people": 0}
    process = (quality or VideoQuality()).start(estimator, info.width, info.height)
    summary = None
    if outputs.plot is not None:
        from .plot import RunSummary

        summary = RunSummary(str(path), estimator.threshold)
    problems: list[str] = []

    # With nothing to draw on or crop from, ffmpeg hands over only the pixels the letterbox resize reads.
    grid = box.samples() if outputs.media is None and not process.uses_image else None

    def decode() -> None:
        frames = None
        try:
            pixels = None if grid is None else (grid.rows, grid.cols)
            frames = media.iter_frames(path, start=start, end=end, every=every, pixels=pixels)
            for frame in frames:
                if grid is not None:
                    tensor = letterbox_samples(frame.image, grid, box)
                elif frame.image.shape[:2] != (info.height, info.width):
                    raise media.MediaError(
                        f"frame {frame.index} is {frame.image.shape[1]}x{frame.image.shape[0]}, "
                        f"expected {info.width}x{info.height}"
                    )
                else:
                    tensor, _ = estimator.preprocess(frame.image, box)
                if not _put(decoded, (frame, tensor), stop):
                    return
            if frames.problem:
                problems.append(frames.problem)
        finally:
            if frames is not None:
                frames.close()
            _put(decoded, _DONE, stop)

    with ExitStack() as stack:
        model = dict(model_info(estimator, (box.in_h, box.in_w)), **process.info())
        sinks = _open_sinks(stack, outputs, source, model)
        writer = None
        if outputs.media is not None:
            writer = stack.enter_context(
                media.VideoWriter(
                    outputs.media,
                    info.width,
                    info.height,
                    info.fps / every,
                    audio_source=str(path) if info.has_audio else None,
                    audio_start=start,
                    audio_end=end,
                    preset=preset,
                    crf=crf,
                )
            )

        def write() -> None:
            while True:
                item = _get(estimated, stop)
                if item is _DONE:
                    return
                frame, result = item
                for sink in sinks:
                    sink.add(result)
                if writer is not None:
                    writer.write(
                        draw_poses(
                            frame.image,  # decoded for this run only: drawn on in place
                            result.people,
                            threshold=estimator.threshold,
                            show_ids=estimator.spec.multipose,
                            inplace=True,
                        )
                    )

        bar = _progress(progress, expected, path.name)
        decoder = _Stage(decode, "movenet-decode", stop)
        encoder = _Stage(write, "movenet-write", stop)
        decoder.start()
        encoder.start()
        try:
            finished = False
            size = estimator.batch_size if process.batchable else 1
            while not finished and encoder.error is None:
                batch = []  # up to estimator.batch_size frames per model call
                while len(batch) < size:
                    item = _get(decoded, stop)
                    if item is _DONE:
                        finished = True
                        break
                    batch.append(item)
                if not batch:
                    break
                if size > 1:
                    raws = estimator.infer(np.stack([tensor for _, tensor in batch]))
                    found = [process.finish(f.image, raw, box, f.time) for (f, _), raw in zip(batch, raws)]
                else:
                    found = [process(f.image, tensor, box, f.time) for f, tensor in batch]
                for (frame, _), people in zip(batch, found):
                    result = FrameResult(frame.index, frame.time, people)
                    counts["frames"] += 1
                    counts["people"] += len(result.people)
                    if on_result is not None:
                        on_result(result)
                    if summary is not None:
                        summary.add(result)
                    if not _put(estimated, (frame, result), stop):
                        finished = True
                        break
                    if bar is not None:
                        bar.update(1)
            _put(estimated, _DONE, stop)
            encoder.join()
        except BaseException:
            stop.set()
            raise
        finally:
            stop.set()
            decoder.join()
            encoder.join()
            if bar is not None:
                bar.close()
        for stage in (decoder, encoder):
            if stage.error is not None:
                raise stage.error
        if counts["frames"] == 0:
            raise media.MediaError("no frames could be decoded" + (" in the selected range" if start or end else ""))
        if summary is not None:
            summary.save(outputs.plot)
        for sink in sinks:
            if isinstance(sink, JsonSink) and problems:
                sink.complete = False
    problem = problems[0] if problems else None
    return RunStats(counts["frames"], time.perf_counter() - started, counts["people"], not problems, problem)


def _expected_frames(info: media.VideoInfo, start, end, every) -> int | None:
    if info.frame_count is None and info.duration is None:
        return None
    total = info.frame_count if info.frame_count is not None else round(info.duration * info.fps)
    first = 0 if not start else min(total, math.ceil(start * info.fps - 1e-6))
    last = total if end is None else min(total, math.ceil(end * info.fps - 1e-6))
    return max(0, math.ceil((last - first) / every))


def _progress(enabled: bool, total: int | None, name: str):
    if not enabled:
        return None
    from tqdm import tqdm

    interactive = sys.stderr.isatty()
    return tqdm(
        total=total,
        unit="frame",
        desc=name,
        file=sys.stderr,
        dynamic_ncols=True,
        leave=True,
        mininterval=0.1 if interactive else 10.0,
    )

