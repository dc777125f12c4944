"""Where one input's results go, the checks before anything is written, and the JSON header blocks.

Example::

    outputs = image_outputs(Path("a.jpg"), Path("out/"), single=False, csv=True)
    check_outputs([Path("a.jpg")], outputs, overwrite=False)
"""

from __future__ import annotations

import os
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from ..errors import OutputExistsError
from ..render.sinks import CsvSink, JsonSink

__all__ = ["Outputs", "OutputExistsError", "check_outputs", "check_unique", "image_outputs", "mirrored_outputs",
           "model_info", "open_sinks"]


@dataclass
class Outputs:
    """Where one input's results go; ``None`` skips that output."""

    media: Path | None = None
    json: Path | None = None
    csv: Path | None = None
    plot: Path | None = None  # video only: PNG summary of the run (movenet_cli.render.plot)

    def paths(self) -> list[Path]:
        return [p for p in (self.media, self.json, self.csv, self.plot) if p is not None]


def _beside(target: Path, ext: str) -> Path:
    """A data file named after the full output name: ``a.jpg`` -> ``a.jpg.json``."""
    return target.with_name(target.name + ext)


def image_outputs(path: Path, output: Path, *, single: bool, csv: bool) -> Outputs:
    """The outputs of ``movenet image``: ``output`` itself for a single image (data files take its
    stem), else ``output/NAME`` with the data files named after the full name."""
    if single:
        return Outputs(output, output.with_suffix(".json"), output.with_suffix(".csv") if csv else None)
    target = output / path.name
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
    }


def open_sinks(stack: ExitStack, outputs: Outputs, source: dict, model: dict) -> list:
    """The JSON and CSV sinks the outputs ask for, closed (published) with ``stack``."""
    sinks = []
    if outputs.json is not None:
        sinks.append(stack.enter_context(JsonSink(outputs.json, source=source, model=model)))
    if outputs.csv is not None:
        sinks.append(stack.enter_context(CsvSink(outputs.csv)))
    return sinks


def source_info(path: str | os.PathLike, width: int, height: int, fps: float | None, rotation: int) -> dict:
    """The JSON ``source`` block (``frame_count`` is added by the sink)."""
    return {"path": str(path), "width": width, "height": height, "fps": fps, "rotation": rotation}
