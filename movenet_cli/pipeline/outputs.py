"""Where one input's results go, the checks before anything is written, and the JSON header blocks.

Example::

    from pathlib import Path
    from movenet_cli.pipeline.outputs import check_outputs, image_outputs

    image = Path("sample_media/person.jpg")
    outputs = image_outputs(image, Path("out"), single=False, csv=True)
    print(outputs.paths())                  # out/person.jpg, out/person.jpg.json, out/person.jpg.csv
    check_outputs([image], outputs, overwrite=False)   # OutputExistsError if one exists
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable

from ..errors import OutputExistsError, UsageError
from ..media.formats import IMAGE_EXTENSIONS, image_extension
from ..render.jsonl import STDOUT, JsonlSink, is_stream_path
from ..render.sinks import CsvSink, JsonSink
from ..util.fs import Publication, temp_path_for

__all__ = ["Outputs", "OutputExistsError", "check_outputs", "check_unique", "image_outputs", "mirrored_outputs",
           "model_info", "open_sinks", "OutputSet"]


@dataclass
class Outputs:
    """Where one input's results go; ``None`` skips that output."""

    media: Path | None = None
    json: Path | None = None
    csv: Path | None = None
    plot: Path | None = None  # video only: PNG summary of the run (movenet_cli.render.plot)
    angles: Path | None = None  # *.angles.csv (movenet_cli.pipeline.analysis)
    coco: Path | None = None  # COCO keypoint results
    openpose: Path | None = None  # folder: one OpenPose JSON per frame
    trc: Path | None = None  # folder: one TRC per tracked person

    jsonl: Path | str | None = None  # JSON Lines, one line per frame as it comes; "-" for stdout

    def paths(self) -> list[Path]:
        """The files to check and publish (a JSON Lines stream to stdout, a FIFO or a device is none);
        :meth:`folders` are the export folders."""
        jsonl = None if self.jsonl is None or self.jsonl == STDOUT or is_stream_path(Path(self.jsonl)) else self.jsonl
        return [p for p in (self.media, self.json, self.csv, self.plot, self.angles, self.coco, jsonl) if p is not None]

    def folders(self) -> list[Path]:
        return [p for p in (self.openpose, self.trc) if p is not None]


def _beside(target: Path, ext: str) -> Path:
    """A data file named after the full output name: ``a.jpg`` -> ``a.jpg.json``."""
    return target.with_name(target.name + ext)


def image_outputs(path: Path, output: Path, *, single: bool, csv: bool) -> Outputs:
    """The outputs of ``movenet image``: ``output`` itself for a single image (data files take its
    stem), else ``output/NAME`` with the data files named after the full name."""
    if single:
        return Outputs(output, output.with_suffix(".json"), output.with_suffix(".csv") if csv else None)
    target = output / path.name
    if path.suffix.lower() not in IMAGE_EXTENSIONS:  # the annotated image needs a format its name says
        target = _beside(target, image_extension(path) or ".png")
    return Outputs(target, _beside(target, ".json"), _beside(target, ".csv") if csv else None)


def mirrored_outputs(target: Path, kind: str, *, video: bool, image_csv: bool) -> Outputs:
    """The outputs of one ``dir`` input whose mirrored path under the output folder is ``target``.

    Annotated images keep their name; annotated videos are ``NAME.mp4`` for ``NAME.mp4`` inputs
    and ``NAME.EXT.mp4`` otherwise; data files are the full name plus ``.json`` / ``.csv``.
    """
    if kind == "image":
        return Outputs(target, _beside(target, ".json"), _beside(target, ".csv") if image_csv else None)
    annotated = target if target.suffix.lower() == ".mp4" else _beside(target, ".mp4")
    return Outputs(annotated if video else None, _beside(target, ".json"), _beside(target, ".csv"))


def check_unique(plans: Iterable[tuple[Path, Outputs]]) -> None:
    """Refuse two inputs that would write the same file."""
    seen: dict[Path, Path] = {}
    for source, outputs in plans:
        for out in outputs.paths():
            other = seen.setdefault(out, source)
            if other != source:
                raise OutputExistsError(f"{source} and {other} would both write {out}; use separate runs")


def same_file(a: str | os.PathLike, b: str | os.PathLike) -> bool:
    """Whether two paths name one file: the same path after links are resolved, or one inode."""
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist yet
        return False


def check_outputs(inputs: Iterable[Path], outputs: Outputs, *, overwrite: bool) -> None:
    """Refuse, before any work, outputs that would overwrite each other (links included), an
    input, or, unless asked, an existing file."""
    paths = outputs.paths()
    for i, path in enumerate(paths):
        for other in paths[:i]:
            if same_file(path, other):
                raise UsageError(f"{path}: given for two outputs ({other} too); give each output its own path")
    inputs = list(inputs)
    for path in paths:
        if any(same_file(path, source) for source in inputs):
            raise OutputExistsError(f"{path}: output would overwrite its input; choose another output path")
        if path.is_dir():
            raise OutputExistsError(f"{path}: is a directory")
        if (path.exists() or path.is_symlink()) and not overwrite:
            raise OutputExistsError(f"{path}: already exists; pass --overwrite to replace it")
    for folder in outputs.folders():
        if (folder.exists() or folder.is_symlink()) and not folder.is_dir():
            raise OutputExistsError(f"{folder}: exists and is not a folder")
        if folder.is_dir() and any(folder.iterdir()) and not overwrite:
            raise OutputExistsError(f"{folder}: already holds files; pass --overwrite to write into it")


def model_info(estimator, input_shape: tuple[int, int]) -> dict[str, Any]:
    """The JSON ``model`` block: what made the keypoints."""
    return {
        "name": estimator.model,
        "input_size": list(input_shape),
        "backend": estimator.backend,
        "weights_sha256": estimator.weights_sha256,
        "threshold": estimator.threshold,
        "min_pose_score": estimator.min_pose_score,
        "refine": None if estimator.refiner is None else estimator.refiner.model,
        "accuracy": estimator.accuracy_info(),
    }


class OutputSet:
    """The outputs of one input, published together when the ``with`` block ends without an error:
    each is finished under its temporary name first, then all are renamed into place. On an
    error nothing is published, so a rerun never meets half of an input's results.

    Example::

        with OutputSet() as outs:
            sink = outs.add(JsonSink(path, source=source, model=model))
            sink.add(result)
            outs.add_file(Path("out/p.png"), lambda tmp: figure.savefig(tmp))
    """

    def __init__(self) -> None:
        self.parts: list = []  # objects with path, finish() -> temporary path, abort()
        self._files: list[tuple[Path, Callable[[Path], None]]] = []

    def add(self, part):
        self.parts.append(part)
        return part

    def add_file(self, path: Path, write: Callable[[Path], None]) -> None:
        """A file made in one go at the end: ``write(tmp)`` writes it under a temporary name."""
        self._files.append((path, write))

    def __enter__(self) -> "OutputSet":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            self._abort()
            return
        publication = Publication()
        try:
            for part in self.parts:
                if part.path is not None:  # a stream (path None) ends once the files are in place
                    publication.add(part.finish(), part.path)
            for path, write in self._files:
                tmp = temp_path_for(path)
                publication.add(tmp, path)
                write(tmp)
        except BaseException:
            self._abort()
            publication.discard()
            raise
        publication.publish()
        for part in self.parts:
            if part.path is None:
                part.finish()

    def _abort(self) -> None:
        for part in self.parts:
            part.abort()


def open_sinks(outs: OutputSet, outputs: Outputs, source: dict, model: dict) -> list:
    """The JSON, CSV and JSON Lines sinks the outputs ask for, published with ``outs``."""
    sinks = []
    if outputs.json is not None:
        sinks.append(outs.add(JsonSink(outputs.json, source=source, model=model)))
    if outputs.csv is not None:
        sinks.append(outs.add(CsvSink(outputs.csv)))
    if outputs.jsonl is not None:
        sinks.append(outs.add(JsonlSink(outputs.jsonl, source, model)))
    return sinks


def source_info(path: str | os.PathLike, width: int, height: int, fps: float | None = None, rotation: int = 0,
                video=None) -> dict:
    """The JSON ``source`` block (``frame_count`` is added by the sink); for a video, ``video`` is
    its :class:`~movenet_cli.media.VideoInfo`: which stream was read, and its pixel shape."""
    block = {"path": str(path), "width": width, "height": height, "fps": fps, "rotation": rotation}
    if video is not None:
        sar = video.sample_aspect_ratio
        block["video_stream"] = {"index": video.stream_index, "chosen": video.stream_reason}
        block["sample_aspect_ratio"] = [sar.numerator, sar.denominator]
        block["display_width"], block["display_height"] = video.display_size
    return block
