"""The post-processing step of one input: offline filtering, angles and exports, before publication.

When :class:`~movenet_cli.settings.AnalysisSettings` asks for anything, the input's frames are
collected while the model runs (they are small: 17 keypoints per person), and at the end
:func:`publish_analysis` filters them over whole tracks, writes the JSON and CSV from the
filtered frames (with an ``angles`` block per person), the ``*.angles.csv`` and the exports.
Everything joins the input's :class:`~movenet_cli.pipeline.outputs.OutputSet`, so it is
published together with the annotated media, or not at all; a folder export (OpenPose, TRC)
is built under a temporary name and renamed into place whole. ``movenet angles`` and
``movenet export`` publish the same way: a command that fails publishes nothing new.

Keypoints are first rounded as the JSON stores them, so the angles and exports written here
equal those ``movenet angles`` and ``movenet export`` compute from the JSON afterwards.

Example::

    from pathlib import Path
    from movenet_cli import PoseEstimator
    from movenet_cli.pipeline import Outputs, process_video
    from movenet_cli.pipeline.analysis import with_analysis
    from movenet_cli.settings import AnalysisSettings

    analysis = AnalysisSettings(angles=True, filter="butterworth", formats=("trc",))
    outputs = with_analysis(Outputs(json=Path("out/a.json")), analysis)   # + out/a.angles.csv, out/a_trc/
    process_video(PoseEstimator("multipose"), "sample_media/demo_clip.mp4", outputs, analysis=analysis, end=1.0)
    print(outputs.angles, sorted(p.name for p in outputs.trc.iterdir()))   # demo_clip_id1_px.trc, ...
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
from ..analysis.exports import RENDERERS, ExportError
from ..analysis.filters import check_cutoff, filter_frames, frame_rate, parse_filter
from ..analysis.plot import save_angle_plot
from .. import settings
from ..render.sinks import SCHEMA, JsonSink, frame_to_dict
from ..results.load import ResultDoc
from ..settings import AnalysisSettings, VideoQuality
from ..types import FrameResult, Pose
from ..util.fs import Publication, remove_tree, temp_folder_for, temp_path_for
from .outputs import Outputs, OutputSet, open_sinks

__all__ = ["check_filter_rate", "export_result", "filtered", "publish_analysis", "result_angles", "rounded", "wanted",
           "with_analysis"]

# Where each extra output goes, after the name the JSON (or CSV) takes without its extension. The
# folders are named as folders (no extension); ``<stem>_json`` is where OpenPose and Pose2Sim look.
_SUFFIX = {"angles": ".angles.csv", "coco": ".coco.json", "openpose": "_json", "trc": "_trc"}


def wanted(analysis: AnalysisSettings | None) -> bool:
    """Whether frames must be collected for :func:`publish_analysis`."""
    return analysis is not None and analysis.active


def with_analysis(outputs: Outputs, analysis: AnalysisSettings | None) -> Outputs:
    """``outputs`` plus the files and folders ``analysis`` asks for, named after the JSON:
    ``out/a.json`` -> ``out/a.angles.csv``, ``out/a.coco.json``, ``out/a_json/``, ``out/a_trc/``.
    The one place that names these paths."""
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


def check_filter_rate(analysis: AnalysisSettings | None, fps: float | None, every: int = 1, what: str = "the video") -> None:
    """Refuse, before the model runs, a Butterworth cut-off that ``fps`` frames a second taken one in
    ``every`` can never support (a usage error naming ``what``)."""
    if analysis is not None and analysis.offline and fps:
        check_cutoff(parse_filter(analysis.filter), fps / every, what)


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


class _Folder:
    """A folder of files, written under a temporary name when its output set is published and
    renamed into place whole (an :class:`~movenet_cli.pipeline.outputs.OutputSet` part)."""

    def __init__(self, path: Path, files: list[tuple[Path, str]]) -> None:
        self.path, self.files, self.tmp = path, files, None

    def finish(self) -> Path:
        self.tmp = temp_folder_for(self.path)
        for path, text in self.files:
            (self.tmp / path.relative_to(self.path)).write_text(text, encoding="utf-8", newline="\n")
        return self.tmp

    def abort(self) -> None:
        if self.tmp is not None:
            remove_tree(self.tmp)


def _export_parts(outputs: Outputs, doc: ResultDoc, analysis: AnalysisSettings, threshold: float,
                  skip_empty_trc: bool) -> list:
    """The exports ``analysis.formats`` asks for, rendered (nothing written yet): a :class:`_Folder` per
    folder export, ``(path, text)`` for the COCO file, and what each holds (its ``Export``)."""
    targets = {"coco": outputs.coco, "openpose": outputs.openpose, "trc": outputs.trc}
    parts = []
    for name in analysis.formats:
        target = targets[name]
        if target is None or (skip_empty_trc and name == "trc" and not any(f.people for f in doc.frames)):
            continue  # a TRC per tracked person: nobody found, no file (the JSON says so)
        options = {"height_m": analysis.height, "threshold": threshold} if name == "trc" else \
            {"threshold": threshold, "layout": analysis.layout} if name == "openpose" else {}
        export, files = RENDERERS[name](doc, target, **options)
        parts.append((export, files[0] if name == "coco" else _Folder(target, files)))
    return parts


def _add_exports(outs: OutputSet, outputs: Outputs, doc: ResultDoc, analysis: AnalysisSettings, threshold: float) -> None:
    for _, part in _export_parts(outputs, doc, analysis, threshold, skip_empty_trc=True):
        if isinstance(part, _Folder):
            outs.add(part)
        else:
            path, text = part
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


def _check_result_rate(doc: ResultDoc, analysis: AnalysisSettings) -> None:
    fps = doc.source.get("fps")
    check_filter_rate(analysis, frame_rate(doc.frames, float(fps) if isinstance(fps, (int, float)) and fps > 0 else None),
                      what=str(doc.path))


def _publish(parts: list[tuple[Path, "object"]]) -> None:
    """Write each ``(final path, write)`` (``write(tmp)`` makes the file, or a :class:`_Folder`) under a
    temporary name, then publish them all together; on any error nothing new stays."""
    publication, final = Publication(), None
    try:
        with publication:
            for final, write in parts:
                if isinstance(write, _Folder):
                    publication.add(write.finish(), final)
                else:
                    tmp = temp_path_for(final)
                    publication.add(tmp, final)
                    write(tmp)
            final = None
            publication.publish()
    except OSError as exc:
        raise ExportError(f"{final or 'the outputs'}: cannot be written ({exc.strerror or exc})") from None


def result_angles(doc: ResultDoc, path: Path, analysis: AnalysisSettings, *, plot: Path | None = None,
                  angle: str = "right_knee", person: int | None = None) -> dict[str, Any]:
    """``movenet angles``: the angles of a ``movenet/1`` result into ``path`` (CSV), after the
    offline filter ``analysis`` asks for; with ``plot``, one angle raw against filtered. Both are
    published together, or neither."""
    threshold = result_threshold(doc)
    _check_result_rate(doc, analysis)
    frames, info = filtered(doc.frames, analysis, threshold)
    rows = angles_csv_rows(frames, threshold=threshold)
    done: dict[str, Any] = {"rows": len(rows), "filter": info}
    parts: list = [(path, _write_csv(rows, angles_csv_header()))]
    if plot is not None:
        raw = [rounded(f) for f in doc.frames]

        def draw(tmp: Path) -> None:
            done["person"] = save_angle_plot(tmp, raw, frames if info else None, angle, person_id=person,
                                             threshold=threshold, label=f"{(info or {}).get('type', '')} filtered")
        parts.append((plot, draw))
    _publish(parts)
    return done


def export_result(doc: ResultDoc, outputs: Outputs, analysis: AnalysisSettings) -> list:
    """``movenet export``: the exports ``analysis.formats`` of a ``movenet/1`` result, to the paths in
    ``outputs`` (see :func:`with_analysis`), after the offline filter ``analysis`` asks for. Every
    export is rendered before anything is written, then all are published together: a format
    that fails (nobody to write a TRC for) leaves nothing behind."""
    threshold = result_threshold(doc)
    _check_result_rate(doc, analysis)
    frames, info = filtered(doc.frames, analysis, threshold)
    doc = replace(doc, frames=frames, model=dict(doc.model, filter=info) if info else doc.model)
    parts = _export_parts(outputs, doc, analysis, threshold, skip_empty_trc=False)
    _publish([(part.path, part) if isinstance(part, _Folder) else
              (part[0], lambda tmp, text=part[1]: tmp.write_text(text, encoding="utf-8", newline="\n"))
              for _, part in parts])
    return [export for export, _ in parts]
