"""The post-processing step of one input: offline filtering, angles and exports, before publication.

When :class:`~movenet_cli.settings.AnalysisSettings` asks for anything, the input's frames are
collected while the model runs (they are small: 17 keypoints per person), and at the end
:func:`publish_analysis` filters them over whole tracks, writes the JSON and CSV from the
filtered frames (with an ``angles`` block per person), the ``*.angles.csv`` and the exports.
Everything joins the input's :class:`~movenet_cli.pipeline.outputs.OutputSet`, so it is
published together with the annotated media, or not at all.

Keypoints are first rounded as the JSON stores them, so the angles and exports written here
equal those ``movenet angles`` and ``movenet export`` compute from the JSON afterwards.

Example::

    from pathlib import Path
    from movenet_cli import PoseEstimator
    from movenet_cli.pipeline import Outputs, process_video
    from movenet_cli.pipeline.analysis import with_analysis
    from movenet_cli.settings import AnalysisSettings

    analysis = AnalysisSettings(angles=True, filter="butterworth", formats=("trc",))
    outputs = with_analysis(Outputs(json=Path("out/a.json")), analysis)   # + out/a.angles.csv, out/a.trc/
    process_video(PoseEstimator("multipose"), "sample_media/demo_clip.mp4", outputs, analysis=analysis, end=1.0)
    print(outputs.angles, sorted(p.name for p in outputs.trc.iterdir()))
"""

from __future__ import annotations

import csv
import io
import os
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from ..analysis.angles import angles_csv_header, angles_csv_rows, angles_model_block, pose_angles
from ..analysis.exports import RENDERERS, write_coco, write_openpose, write_trc
from ..analysis.filters import filter_frames, parse_filter
from ..analysis.plot import save_angle_plot
from .. import settings
from ..render.sinks import SCHEMA, JsonSink, frame_to_dict
from ..results.load import ResultDoc
from ..settings import AnalysisSettings, VideoQuality
from ..types import FrameResult, Pose
from ..util.fs import atomic_path
from .outputs import Outputs, OutputSet, open_sinks

__all__ = ["export_result", "filtered", "publish_analysis", "result_angles", "rounded", "wanted", "with_analysis"]

# Where each extra output goes, after the name the JSON (or CSV) takes without its extension.
_SUFFIX = {"angles": ".angles.csv", "coco": ".coco.json", "openpose": ".openpose", "trc": ".trc"}


def wanted(analysis: AnalysisSettings | None) -> bool:
    """Whether frames must be collected for :func:`publish_analysis`."""
    return analysis is not None and analysis.active


def with_analysis(outputs: Outputs, analysis: AnalysisSettings | None) -> Outputs:
    """``outputs`` plus the files and folders ``analysis`` asks for, named after the JSON:
    ``out/a.json`` -> ``out/a.angles.csv``, ``out/a.coco.json``, ``out/a.openpose/``, ``out/a.trc/``."""
    if not wanted(analysis):
        return outputs
    data = outputs.json or outputs.csv
    if data is None:
        return outputs
    base = str(data)[: -len(data.suffix)] if data.suffix else str(data)
    extra = {"angles": analysis.angles, **{f: f in analysis.formats for f in _SUFFIX if f != "angles"}}
    return replace(outputs, **{key: Path(base + _SUFFIX[key]) for key, on in extra.items() if on})


def video_quality(quality: VideoQuality, analysis: AnalysisSettings | None) -> VideoQuality:
    """An offline filter takes the raw track, and ``none`` asks for no smoothing: the One-Euro
    smoothing is then off."""
    return replace(quality, smooth=False) if analysis is not None and analysis.replaces_smoothing else quality


def rounded(frame: FrameResult) -> FrameResult:
    """``frame`` with its numbers rounded as the JSON stores them."""
    people = []
    for pose in frame.people:
        kp = np.array(pose.keypoints, np.float64)
        kp[:, :2], kp[:, 2] = np.round(kp[:, :2], 2), np.round(kp[:, 2], 4)
        bbox = None if pose.bbox is None else tuple(round(float(v), 2) for v in pose.bbox)
        people.append(Pose(kp, round(float(pose.score), 4), bbox, pose.id))
    return FrameResult(frame.index, round(float(frame.time), 6), people)


def filtered(frames: list[FrameResult], analysis: AnalysisSettings, threshold: float
             ) -> tuple[list[FrameResult], dict[str, Any] | None]:
    """The frames rounded as the JSON holds them and, with an offline filter, filtered; and what was done."""
    frames = [rounded(f) for f in frames]
    if not analysis.offline:
        return frames, None
    spec = parse_filter(analysis.filter)
    frames, info = filter_frames(frames, spec, max_gap=analysis.max_gap, threshold=threshold)
    return [rounded(f) for f in frames], info


def _json_entries(sink: JsonSink, frames: list[FrameResult], angles: bool, threshold: float) -> None:
    for frame in frames:
        entry = frame_to_dict(frame)
        if angles:
            for person, pose in zip(entry["people"], frame.people):
                person["angles"] = pose_angles(pose, threshold=threshold, digits=2)
        sink.add_entry(entry)


def _write_csv(rows: list[list], header: list[str]):
    def write(tmp: Path) -> None:
        text = io.StringIO()
        writer = csv.writer(text)
        writer.writerow(header)
        writer.writerows(rows)
        tmp.write_text(text.getvalue(), encoding="utf-8", newline="")

    return write


def _add_exports(outs: OutputSet, outputs: Outputs, doc: ResultDoc, analysis: AnalysisSettings, threshold: float) -> None:
    targets = {"coco": outputs.coco, "openpose": outputs.openpose, "trc": outputs.trc}
    for name in analysis.formats:
        target = targets[name]
        if target is None or (name == "trc" and not any(f.people for f in doc.frames)):
            continue  # a TRC per tracked person: nobody found, no file (the JSON says so)
        options = {"height_m": analysis.height} if name == "trc" else {}
        if name != "coco":
            options["threshold"] = threshold
            target.mkdir(parents=True, exist_ok=True)
        _, files = RENDERERS[name](doc, target, **options)
        for path, text in files:
            outs.add_file(path, lambda tmp, text=text: tmp.write_text(text, encoding="utf-8", newline="\n"))


def publish_analysis(outs: OutputSet, outputs: Outputs, frames: list[FrameResult], *, source: dict, model: dict,
                     analysis: AnalysisSettings, threshold: float, complete: bool = True) -> list[FrameResult]:
    """Filter ``frames``, then add the JSON, CSV, angles CSV and exports to ``outs``; returns the frames written."""
    frames, info = filtered(frames, analysis, threshold)
    model = dict(model)
    if info is not None:
        model["filter"] = info
    if analysis.angles:
        model["angles"] = angles_model_block(threshold)
    for sink in open_sinks(outs, outputs, source, model):
        if isinstance(sink, JsonSink):
            sink.complete = complete
            _json_entries(sink, frames, analysis.angles, threshold)
        else:
            for frame in frames:
                sink.add(frame)
    if outputs.angles is not None:
        outs.add_file(outputs.angles, _write_csv(angles_csv_rows(frames, threshold=threshold), angles_csv_header()))
    if analysis.formats:
        path = outputs.json or Path(os.fspath(source["path"]))
        doc = ResultDoc(path, SCHEMA, complete, dict(source, frame_count=len(frames)), model, frames)
        _add_exports(outs, outputs, doc, analysis, threshold)
    return frames


# -- from an existing result ---------------------------------------------------------


def result_threshold(doc: ResultDoc) -> float:
    """The keypoint threshold the result was made with (the default when it does not say)."""
    value = doc.model.get("threshold")
    return float(value) if isinstance(value, (int, float)) else settings.THRESHOLD


def result_angles(doc: ResultDoc, path: Path, analysis: AnalysisSettings, *, plot: Path | None = None,
                  angle: str = "right_knee", person: int | None = None) -> dict[str, Any]:
    """``movenet angles``: the angles of a ``movenet/1`` result into ``path`` (CSV), after the
    offline filter ``analysis`` asks for; with ``plot``, one angle raw against filtered."""
    threshold = result_threshold(doc)
    frames, info = filtered(doc.frames, analysis, threshold)
    rows = angles_csv_rows(frames, threshold=threshold)
    with atomic_path(path) as tmp:
        _write_csv(rows, angles_csv_header())(tmp)
    done = {"rows": len(rows), "filter": info}
    if plot is not None:
        raw = [rounded(f) for f in doc.frames]
        with atomic_path(plot) as tmp:
            done["person"] = save_angle_plot(tmp, raw, frames if info else None, angle, person_id=person,
                                             threshold=threshold, label=f"{(info or {}).get('type', '')} filtered")
    return done


def export_result(doc: ResultDoc, outputs: Outputs, analysis: AnalysisSettings) -> list:
    """``movenet export``: the exports ``analysis.formats`` of a ``movenet/1`` result, to the paths in
    ``outputs`` (see :func:`with_analysis`), after the offline filter ``analysis`` asks for."""
    threshold = result_threshold(doc)
    frames, info = filtered(doc.frames, analysis, threshold)
    doc = replace(doc, frames=frames, model=dict(doc.model, filter=info) if info else doc.model)
    done = []
    for name in analysis.formats:
        if name == "coco":
            done.append(write_coco(doc, outputs.coco))
        elif name == "openpose":
            done.append(write_openpose(doc, outputs.openpose, threshold=threshold))
        else:
            done.append(write_trc(doc, outputs.trc, height_m=analysis.height, threshold=threshold))
    return done
