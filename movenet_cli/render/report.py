"""A self-contained HTML report of a finished run, built from its written results only.

:func:`write_report` reads a folder run (``OUT_DIR/movenet-run.json`` and the
per-input ``movenet/1`` JSON documents) and writes ``OUT_DIR/report.html`` with
its pictures in ``OUT_DIR/report_files/``; :func:`write_video_report` does the
same for one video. No model runs, so a report can be rebuilt at any time.

The page has a summary (inputs done / failed / skipped, frames, people, wall time,
settings and model) and one row per input: status and reason, frames, people per
frame (min / mean / max), the share of frames with nobody, the mean person score,
fps, three thumbnails (the frame with the most people, the lowest-scoring frame
with a person, the middle frame) and relative links to the outputs. Rows are put
in buckets (failed, not run, nobody found, low score, done), problems first; the
columns sort and the buckets filter in the page. Everything is inline (CSS, a
small script) or a relative path, so the folder can be zipped, moved or published
as a CI artifact and the page makes no network request.

Thumbnails are cut with the bundled ffmpeg from the annotated media when it
exists, else from the source, with the skeleton drawn over them in SVG. The picture
folder may hold other files (the outputs of footage that had a sub-folder of that
name): the report lists the pictures it made in ``.movenet-report.json`` there and a
later report removes only those, and it never cuts a picture over a file it did not make.

Example::

    from movenet_cli.render.report import write_report, write_video_report
    from movenet_cli.run import run_folder
    from movenet_cli.settings import RunSettings

    run_folder("sample_media", "out/results", RunSettings(end=0.5), video=False)
    page = write_report("out/results")               # out/results/report.html
    print(page, page.with_name("report_files").is_dir())
    write_video_report("out/results/demo_clip.mp4.json", None, "out/clip.html")
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Any, Iterable
from urllib.parse import quote

from ..errors import MovenetError, ReportError, first_line
from ..media.ffmpeg import ffmpeg_exe, last_error_line, start_ffmpeg, stop
from ..results import ResultDoc, load_result
from ..results.load import ResultError, check_manifest
from ..settings import REPORT_LOW_SCORE as LOW_SCORE
from ..settings import REPORT_NAME
from ..settings import REPORT_THUMB_WIDTH as THUMB_WIDTH
from ..types import SKELETON, FrameResult
from ..util.fs import atomic_path, atomic_write, read_json

MANIFEST_NAME = "movenet-run.json"  # written by run/manifest.py, read here
PICTURES_LISTING = ".movenet-report.json"  # in the pictures folder: the pictures the report made
LISTING_SCHEMA = "movenet-report-pictures/1"
BUCKETS = (
    ("failed", "Failed"),
    ("pending", "Not run"),
    ("nobody", "Nobody found"),
    ("low", "Low score"),
    ("done", "Done"),
)
_BUCKET_RANK = {name: rank for rank, (name, _) in enumerate(BUCKETS)}


@dataclass
class InputStats:
    """Numbers of one input's frames; ``None`` where there is nothing to measure."""

    frames: int
    people_min: int | None
    people_mean: float | None
    people_max: int | None
    nobody_share: float | None
    mean_score: float | None
    detections: int


@dataclass
class Thumb:
    """One picture of an input: which frame, why it was chosen, where the JPEG is."""

    label: str
    position: int  # index into the document's frame list
    frame: FrameResult
    file: Path
    overlay: bool  # draw the skeleton in SVG (the picture is the unannotated source)
    error: str | None = None


@dataclass
class InputRow:
    """One input of the report."""

    name: str
    kind: str
    status: str
    reason: str | None
    bucket: str
    stats: InputStats | None
    fps: float | None
    seconds: float | None
    links: dict[str, Path] = field(default_factory=dict)
    thumbs: list[Thumb] = field(default_factory=list)
    plot: Path | None = None
    size: tuple[int, int] | None = None  # width, height of the source, for the SVG overlay
    threshold: float = 0.3  # keypoints below it are not drawn in the overlay


# ---------------------------------------------------------------- numbers


def input_stats(frames: list[FrameResult]) -> InputStats:
    """People per frame, share of empty frames and mean person score of a list of frames."""
    counts = [len(f.people) for f in frames]
    scores = [p.score for f in frames for p in f.people]
    if not frames:
        return InputStats(0, None, None, None, None, None, 0)
    return InputStats(
        frames=len(frames),
        people_min=min(counts),
        people_mean=sum(counts) / len(counts),
        people_max=max(counts),
        nobody_share=counts.count(0) / len(counts),
        mean_score=sum(scores) / len(scores) if scores else None,
        detections=len(scores),
    )


def choose_frames(frames: list[FrameResult]) -> list[tuple[str, int]]:
    """Positions in ``frames`` worth a picture, with why: most people, lowest-scoring with a person, middle.

    A frame chosen for several reasons appears once with the reasons joined.
    """
    if not frames:
        return []
    counts = [len(f.people) for f in frames]
    chosen = [("most people", counts.index(max(counts)))]
    with_people = [n for n, f in enumerate(frames) if f.people]
    if with_people:
        mean = {n: sum(p.score for p in frames[n].people) / len(frames[n].people) for n in with_people}
        chosen.append(("lowest score", min(with_people, key=lambda n: (mean[n], n))))
    chosen.append(("middle", len(frames) // 2))
    merged: dict[int, list[str]] = {}
    for label, position in chosen:
        merged.setdefault(position, []).append(label)
    return [(", ".join(labels), position) for position, labels in sorted(merged.items())]


def bucket_of(status: str, stats: InputStats | None, low_score: float = LOW_SCORE) -> str:
    """The report bucket of an input: failed, pending, nobody, low or done."""
    if status == "failed" or stats is None and status != "pending":
        return "failed"
    if status == "pending":
        return "pending"
    if stats.detections == 0:
        return "nobody"
    if stats.mean_score is not None and stats.mean_score < low_score:
        return "low"
    return "done"


# ---------------------------------------------------------------- files


def _write_text(path: Path, text: str) -> None:
    """Write the page whole or not at all; a folder that cannot take it is a :class:`ReportError`."""
    try:
        with atomic_write(path) as fh:  # names that are not UTF-8 are shown escaped (\udce9)
            fh.write(text.encode("utf-8", "backslashreplace").decode("utf-8"))
    except OSError as exc:
        raise ReportError(f"{path}: cannot be written ({exc.strerror or exc})") from None


def extract_frame(media: Path, target: Path, seconds: float | None, width: int = THUMB_WIDTH) -> None:
    """Write one frame of ``media`` (at ``seconds``, or the image itself) as a JPEG ``width`` pixels wide.

    Written atomically; a frame that cannot be cut raises :class:`ReportError` naming ``media``.
    """
    seek = ["-ss", f"{max(0.0, seconds):.6f}"] if seconds is not None else []
    where = f"{seconds or 0:.2f} s"
    try:
        with atomic_path(target) as tmp:
            cmd = [ffmpeg_exe(), "-nostdin", "-v", "error", "-y", *seek, "-i", str(media), "-frames:v", "1",
                   "-vf", f"scale={width}:-2", "-q:v", "5", str(tmp)]
            proc = start_ffmpeg(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            try:
                _, err = proc.communicate(timeout=60)
            except subprocess.TimeoutExpired:
                raise ReportError(f"{media}: no picture at {where} (ffmpeg took over 60 s)") from None
            finally:
                stop(proc, proc.stderr)
            if proc.returncode != 0 or not tmp.is_file() or tmp.stat().st_size == 0:
                reason = last_error_line(err.decode("utf-8", "replace")) if err else f"ffmpeg exited {proc.returncode}"
                raise ReportError(f"{media}: no picture at {where} ({reason})")
    except OSError as exc:
        raise ReportError(f"{media}: no picture ({exc.strerror or exc})") from None


def _output_rate(doc: ResultDoc) -> float | None:
    """Frames per second of the annotated video: the source rate over the frame step."""
    fps = doc.source.get("fps")
    if not isinstance(fps, (int, float)) or fps <= 0:
        return None
    steps = [b.index - a.index for a, b in zip(doc.frames, doc.frames[1:]) if b.index > a.index]
    step = max(set(steps), key=steps.count) if steps else 1
    return float(fps) / step


def _seek_time(kind: str, doc: ResultDoc, position: int, annotated: bool) -> float | None:
    """Where frame ``position`` of ``doc`` is in the picture's file (``None``: the first and only frame).

    The annotated video holds one frame per entry at a constant rate; the source
    holds them at their own times. Half a frame earlier, as ffmpeg keeps the first
    frame at or after the seek point.
    """
    rate = _output_rate(doc)
    if kind == "image" or rate is None:
        return None
    if annotated:
        return max(0.0, (position - 0.5) / rate)
    return max(0.0, doc.frames[position].time - 0.5 / float(doc.source["fps"]))


def _slug(name: str) -> str:
    """A short file-safe name for an input, unique through a hash of the full name."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", name)[-40:].strip("._") or "input"
    return f"{stem}-{hashlib.sha1(os.fsencode(name)).hexdigest()[:8]}"


# ---------------------------------------------------------------- rows


@dataclass
class _Cut:
    """A thumbnail still to be cut: from which file and where in it."""

    thumb: Thumb
    media: Path
    seconds: float | None


def _plan_thumbs(
    row: InputRow, doc: ResultDoc, annotated: Path | None, source: Path | None, files_dir: Path
) -> list[_Cut]:
    """Choose the frames of ``row`` and name their JPEGs; the annotated media is preferred to the source."""
    picture = annotated if annotated is not None and annotated.is_file() else source
    if picture is None or not picture.is_file():
        return []
    is_annotated = picture == annotated
    width, height = doc.source.get("width"), doc.source.get("height")
    if isinstance(width, int) and isinstance(height, int) and width > 0 and height > 0:
        row.size = (width, height)
    threshold = doc.model.get("threshold")
    if isinstance(threshold, (int, float)) and not isinstance(threshold, bool):
        row.threshold = float(threshold)
    cuts = []
    for label, position in choose_frames(doc.frames):
        frame = doc.frames[position]
        target = files_dir / f"{_slug(row.name)}-f{frame.index}.jpg"
        thumb = Thumb(label, position, frame, target, overlay=not is_annotated and row.size is not None)
        row.thumbs.append(thumb)
        cuts.append(_Cut(thumb, picture, _seek_time(row.kind, doc, position, is_annotated)))
    return cuts


def _cut_all(cuts: list[_Cut], jobs: int | None) -> None:
    """Cut every planned thumbnail, ``jobs`` ffmpeg processes at a time; a failure is noted on its thumb."""

    def cut(item: _Cut) -> None:
        try:
            extract_frame(item.media, item.thumb.file, item.seconds)
        except MovenetError as exc:  # this picture is missing from the page; the others go on
            item.thumb.error = exc.format_message()

    workers = max(1, jobs or min(4, os.cpu_count() or 1))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(cut, cuts))


def _load(path: Path | None) -> tuple[ResultDoc | None, str | None]:
    """The document at ``path``, or ``None`` and why not (naming the file)."""
    if path is None:
        return None, "no JSON written"
    if not path.is_file():
        return None, f"{path}: no such file"
    try:
        return load_result(path), None
    except MovenetError as exc:
        return None, exc.format_message()


def _manifest_row(entry: dict[str, Any], out_dir: Path, low_score: float) -> tuple[InputRow, ResultDoc | None]:
    """One row of a folder run from its manifest entry and, when there is one, its JSON document."""
    outputs = entry.get("outputs") or {}
    name = str(entry.get("input") or "?")
    status = str(entry.get("status") or "pending")
    links = {key: out_dir / rel for key, rel in outputs.items() if isinstance(rel, str) and (out_dir / rel).is_file()}
    written = outputs.get("json")
    doc, problem = _load(out_dir / written if isinstance(written, str) else None)
    reason = entry.get("reason")
    if doc is None and status in ("done", "skipped"):
        reason = f"results cannot be read: {problem}"
    elif doc is not None and not doc.complete and status != "failed":
        reason = "the JSON says the input was not read to the end"
    stats = input_stats(doc.frames) if doc is not None else None
    bucket = "failed" if reason and status in ("done", "skipped") else bucket_of(status, stats, low_score)
    plot = out_dir / outputs["plot"] if isinstance(outputs.get("plot"), str) else None
    row = InputRow(
        name, str(entry.get("kind") or "?"), status, reason, bucket, stats,
        _num(entry.get("fps")), _num(entry.get("seconds")), links, plot=plot if plot and plot.is_file() else None,
    )
    return row, doc


def _num(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)


def _read_manifest(path: Path) -> dict[str, Any]:
    data = read_json(path, ReportError, "a report is built from a finished `movenet dir` run")
    try:
        return check_manifest(data, path)
    except ResultError as exc:
        raise ReportError(str(exc)) from None


def pictures_folder(page: str | os.PathLike) -> Path:
    """Where the pictures of the page ``page`` go: ``NAME_files/`` beside ``NAME.html``."""
    page = Path(page)
    return page.parent / f"{page.stem}_files"


def pictures_listing(page: str | os.PathLike) -> Path:
    """The file in :func:`pictures_folder` that lists the pictures the report made there: the only
    ones a later report removes (the folder may hold other files, e.g. outputs of footage that
    had a sub-folder of that name)."""
    return pictures_folder(page) / PICTURES_LISTING


def report_reads(out_dir: str | os.PathLike) -> tuple[Path, list[Path], Path | None]:
    """What a report of the folder run in ``out_dir`` reads: its manifest, every output the
    manifest lists, and the run's input folder (``None`` when the manifest does not say)."""
    out_dir = Path(out_dir)
    manifest = _read_manifest(out_dir / MANIFEST_NAME)
    in_dir = Path(manifest["input_dir"]) if isinstance(manifest.get("input_dir"), str) else None
    reads = [out_dir / MANIFEST_NAME]
    for entry in manifest["files"]:
        outputs = entry.get("outputs") if isinstance(entry, dict) else None
        for rel in (outputs or {}).values() if isinstance(outputs, dict) else ():
            if isinstance(rel, str):
                reads.append(out_dir / rel)
        if in_dir is not None and isinstance(entry, dict) and isinstance(entry.get("input"), str):
            reads.append(in_dir / entry["input"])
    return out_dir / MANIFEST_NAME, reads, in_dir


def _prepare_files_dir(files_dir: Path) -> None:
    try:
        files_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ReportError(f"{files_dir}: cannot be created ({exc.strerror or exc})") from None


def _own_pictures(files_dir: Path) -> set[str]:
    """The names an earlier report listed as its own pictures in ``files_dir`` (none when unlisted)."""
    try:
        data = json.loads((files_dir / PICTURES_LISTING).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return set()
    names = data.get("pictures") if isinstance(data, dict) and data.get("schema") == LISTING_SCHEMA else None
    return {n for n in names if isinstance(n, str) and n == Path(n).name} if isinstance(names, list) else set()


def _claim_pictures(files_dir: Path, cuts: list[_Cut]) -> set[str]:
    """Refuse to cut a picture over a file this report did not make; return the earlier ones it did."""
    own = _own_pictures(files_dir)
    for cut in cuts:
        target = cut.thumb.file
        if (target.exists() or target.is_symlink()) and target.name not in own:
            raise ReportError(f"{target}: a file the report did not make has the name of one of its pictures; "
                              "move it, or write the report elsewhere (--output)")
    return own


def _keep_only(files_dir: Path, own: set[str], cuts: list[_Cut]) -> None:
    """List the pictures this report uses, then remove the earlier report's pictures it does not use:
    only names the listing recorded, never another file of the folder."""
    used = sorted({c.thumb.file.name for c in cuts})
    _write_text(files_dir / PICTURES_LISTING, json.dumps({"schema": LISTING_SCHEMA, "pictures": used}, indent=1) + "\n")
    for name in own - set(used):
        old = files_dir / name
        if old.is_file() and not old.is_symlink():
            old.unlink(missing_ok=True)


def write_report(
    out_dir: str | os.PathLike,
    *,
    report_path: str | os.PathLike | None = None,
    low_score: float = LOW_SCORE,
    jobs: int | None = None,
) -> Path:
    """Build ``OUT_DIR/report.html`` (and ``report_files/``) from a folder run's manifest and JSON.

    ``low_score``: inputs whose mean person score is below it go in the "low score"
    bucket. ``jobs``: ffmpeg processes cutting thumbnails at once. Returns the page's path.
    """
    out_dir = Path(out_dir)
    manifest = _read_manifest(out_dir / MANIFEST_NAME)
    page = Path(report_path) if report_path is not None else out_dir / REPORT_NAME
    files_dir = pictures_folder(page)
    _prepare_files_dir(files_dir)
    in_dir = Path(manifest["input_dir"]) if isinstance(manifest.get("input_dir"), str) else None
    rows, cuts, model = [], [], None
    for entry in manifest["files"]:
        if not isinstance(entry, dict):
            continue
        row, doc = _manifest_row(entry, out_dir, low_score)
        if doc is not None:
            model = model or doc.model
            source = in_dir / row.name if in_dir is not None else None
            cuts += _plan_thumbs(row, doc, row.links.get("media"), source, files_dir)
        rows.append(row)
    own = _claim_pictures(files_dir, cuts)
    _cut_all(cuts, jobs)
    _keep_only(files_dir, own, cuts)
    summary = _run_summary(manifest, rows, model)
    summary.links["run manifest (JSON)"] = out_dir / MANIFEST_NAME
    title = f"movenet report: {Path(str(manifest.get('input_dir') or out_dir)).name or out_dir}"
    _write_text(page, render_page(title, summary, rows, page.parent))
    return page


def write_video_report(
    json_path: str | os.PathLike,
    media_path: str | os.PathLike | None,
    report_path: str | os.PathLike,
    *,
    plot_path: str | os.PathLike | None = None,
    csv_path: str | os.PathLike | None = None,
    low_score: float = LOW_SCORE,
) -> Path:
    """Build a one-input report for a ``movenet video`` (or ``image``) run; pictures go in ``<stem>_files/``.

    ``media_path`` is the annotated output (``None`` with ``--no-video``: the source in
    the JSON is used, with the skeleton drawn over it). Returns the page's path.
    """
    json_path, page = Path(json_path), Path(report_path)
    doc, problem = _load(json_path)
    if doc is None:
        raise ReportError(str(problem))
    files_dir = pictures_folder(page)
    _prepare_files_dir(files_dir)
    media = Path(media_path) if media_path is not None else None
    kind = "image" if len(doc.frames) == 1 and doc.source.get("fps") is None else "video"
    stats = input_stats(doc.frames)
    status = "done" if doc.complete else "failed"
    reason = None if doc.complete else "the JSON says the input was not read to the end"
    outputs = (("media", media), ("json", json_path), ("csv", csv_path))
    links = {k: Path(p) for k, p in outputs if p is not None and Path(p).is_file()}
    plot = Path(plot_path) if plot_path is not None and Path(plot_path).is_file() else None
    name = Path(str(doc.source.get("path") or json_path)).name
    row = InputRow(name, kind, status, reason, bucket_of(status, stats, low_score), stats, None, None,
                   links, plot=plot)
    source = Path(str(doc.source["path"])) if doc.source.get("path") else None
    cuts = _plan_thumbs(row, doc, media, source, files_dir)
    own = _claim_pictures(files_dir, cuts)
    _cut_all(cuts, None)
    _keep_only(files_dir, own, cuts)
    summary = _video_summary(doc, row)
    _write_text(page, render_page(f"movenet report: {name}", summary, [row], page.parent))
    return page


# ---------------------------------------------------------------- summary


@dataclass
class Summary:
    """The top of the page: headline numbers, a warning when the run did not complete, the settings."""

    facts: list[tuple[str, str]]
    details: list[tuple[str, str]]
    alert: str | None = None
    links: dict[str, Path] = field(default_factory=dict)
    not_taken: list[tuple[str, str, bool]] = field(default_factory=list)  # path, reason, problem


def _fmt(value: float | None, digits: int = 2, suffix: str = "") -> str:
    return "–" if value is None else f"{value:.{digits}f}{suffix}"


def _model_details(model: dict[str, Any] | None) -> list[tuple[str, str]]:
    if not model:
        return []
    size = model.get("input_size")
    details = [("model", str(model.get("name"))), ("backend", str(model.get("backend")))]
    if isinstance(size, list):
        details.append(("model input", "x".join(str(s) for s in size)))
    if isinstance(model.get("weights_sha256"), str):
        details.append(("weights sha256", model["weights_sha256"][:16] + "…"))
    return details


def _run_summary(manifest: dict[str, Any], rows: list[InputRow], model: dict[str, Any] | None) -> Summary:
    """Headline numbers and settings of a folder run."""
    count = {s: sum(r.status == s for r in rows) for s in ("done", "failed", "skipped", "pending")}
    measured = [r.stats for r in rows if r.stats is not None]
    facts = [("inputs", str(len(rows))), ("done", str(count["done"])), ("failed", str(count["failed"])),
             ("skipped", str(count["skipped"]))]
    if count["pending"]:
        facts.append(("not run", str(count["pending"])))
    not_taken = _not_taken(manifest)
    if not_taken:
        facts.append(("not taken", str(len(not_taken))))
    facts += [("frames", str(sum(s.frames for s in measured))),
              ("people found", str(sum(s.detections for s in measured))),
              ("wall time", _fmt(_num(manifest.get("seconds")), 1, " s"))]
    settings = manifest.get("settings") if isinstance(manifest.get("settings"), dict) else {}
    engine = manifest.get("engine") if isinstance(manifest.get("engine"), dict) else {}
    details = [("run status", str(manifest.get("status"))), ("started", str(manifest.get("started"))),
               ("input folder", str(manifest.get("input_dir"))), ("movenet", str(manifest.get("movenet_version")))]
    details.append(("engine", ", ".join(f"{k} {v}" for k, v in engine.items())))
    details += _model_details(model)
    details += [(k.replace("_", " "), _setting(v)) for k, v in settings.items() if k != "model"]
    alert = None
    if manifest.get("status") != "complete":
        alert = f"run {manifest.get('status')}: {count['failed']} failed, {count['pending']} not run"
        if manifest.get("error"):
            alert += f" ({first_line(str(manifest['error']))})"
    return Summary(facts, details, alert, not_taken=not_taken)


def _not_taken(manifest: dict[str, Any]) -> list[tuple[str, str, bool]]:
    """The entries of the input folder the run left out, with why; problems (unreadable folders) first."""
    entries = manifest.get("not_taken") if isinstance(manifest.get("not_taken"), list) else []
    rows = [(str(e.get("path")), str(e.get("reason")), bool(e.get("problem"))) for e in entries if isinstance(e, dict)]
    return sorted(rows, key=lambda r: (not r[2], r[0]))


def _setting(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k} {_setting(v)}" for k, v in value.items() if not isinstance(v, dict))
    return "–" if value is None else str(value)


def _video_summary(doc: ResultDoc, row: InputRow) -> Summary:
    stats = row.stats
    facts = [("frames", str(stats.frames if stats else 0)), ("people found", str(stats.detections if stats else 0)),
             ("mean person score", _fmt(stats.mean_score if stats else None))]
    source = doc.source
    details = [("source", str(source.get("path"))), ("size", f"{source.get('width')}x{source.get('height')}"),
               ("fps", str(source.get("fps")))]
    details += _model_details(doc.model)
    details += [(k, _setting(doc.model.get(k))) for k in ("threshold", "min_pose_score", "refine", "tracker")]
    return Summary(facts, details, row.reason)


# ---------------------------------------------------------------- page

_CSS = """
:root{--fg:#1d2430;--muted:#5b6675;--line:#d9dee5;--bg:#f6f7f9;--failed:#b3261e;--pending:#7a5a00;
--nobody:#8a4b00;--low:#6b4fa0;--done:#1f6f43}
*{box-sizing:border-box}[hidden]{display:none!important}
body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;
color:var(--fg);background:var(--bg)}
header,main{max-width:1400px;margin:0 auto;padding:12px 16px}
h1{font-size:1.35em;margin:.3em 0;overflow-wrap:anywhere}
.facts{display:flex;flex-wrap:wrap;gap:8px;margin:0;padding:0;list-style:none}
.facts li{background:#fff;border:1px solid var(--line);border-radius:8px;padding:6px 12px;min-width:90px}
.facts b{display:block;font-size:1.4em}.facts span{color:var(--muted);font-size:.85em}
.alert{background:#fdecea;border:1px solid #f1b0ab;color:var(--failed);border-radius:8px;padding:8px 12px;margin:10px 0}
details{margin:10px 0}dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 14px;margin:6px 0}
dt{color:var(--muted)}dd{margin:0;overflow-wrap:anywhere}
.filters{display:flex;flex-wrap:wrap;gap:6px;margin:12px 0}
.filters button,th button{font:inherit;cursor:pointer}
.filters button{border:1px solid var(--line);background:#fff;border-radius:16px;padding:4px 12px}
.filters button[aria-pressed=true]{background:var(--fg);color:#fff;border-color:var(--fg)}
table{width:100%;border-collapse:collapse;background:#fff;border:1px solid var(--line)}
th,td{padding:6px 8px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
th{background:#eef1f5;font-size:.9em;white-space:nowrap}
th button{border:0;background:none;padding:0;font-weight:600;color:inherit}
th[aria-sort=ascending] button::after{content:" \\25B2"}th[aria-sort=descending] button::after{content:" \\25BC"}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.name{font-weight:600;overflow-wrap:break-word;word-break:break-word}
td:first-child{min-width:170px;max-width:240px}td:nth-child(2){min-width:130px}td.pictures{min-width:480px}
.kind,.reason,figcaption{color:var(--muted);font-size:.85em}
.reason{color:var(--failed);overflow-wrap:break-word}
.badge{display:inline-block;white-space:nowrap;border-radius:10px;padding:0 8px;color:#fff;font-size:.8em;
font-weight:600}
.b-failed{background:var(--failed)}.b-pending{background:var(--pending)}.b-nobody{background:var(--nobody)}
.b-low{background:var(--low)}.b-done{background:var(--done)}
.pics{display:flex;gap:6px}figure{margin:0;width:150px}
.pic{position:relative;line-height:0}.pic img{width:100%;height:auto;border-radius:4px;background:#ddd}
.pic svg{position:absolute;inset:0;width:100%;height:100%}
.plot img{max-width:100%;height:auto}
.files a{display:inline-block;margin-right:8px;font-size:.9em}
.not-taken{margin:4px 0;padding-left:20px}.not-taken li{overflow-wrap:anywhere}
@media (max-width:760px){
 table,tbody,tr,td{display:block;width:100%}thead tr{display:flex;flex-wrap:wrap;gap:4px}
 thead th{border:0;background:none;padding:2px 6px}th.nosort{display:none}
 tbody tr{border-bottom:6px solid var(--bg);padding:6px 0}td{border:0;padding:3px 10px}
 td.num{text-align:left}td:first-child,td:nth-child(2){max-width:none;min-width:0}td.pictures{min-width:0}
 .pics{flex-wrap:wrap}td[data-label]::before{content:attr(data-label) ": ";color:var(--muted)}
 figure{width:calc(33% - 4px);min-width:100px}
}
"""

_JS = """
(function () {
  var table = document.getElementById("inputs");
  var rows = Array.prototype.slice.call(table.tBodies[0].rows);
  rows.forEach(function (r, i) { r.setAttribute("data-order", i); });
  function value(row, col) { return row.cells[col].getAttribute("data-v"); }
  table.querySelectorAll("th button").forEach(function (button) {
    button.addEventListener("click", function () {
      var th = button.parentNode, col = th.cellIndex, numeric = th.getAttribute("data-type") === "num";
      var dir = th.getAttribute("aria-sort") === "ascending" ? -1 : 1;
      table.querySelectorAll("th").forEach(function (h) { h.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", dir > 0 ? "ascending" : "descending");
      rows.sort(function (a, b) {
        var x = value(a, col), y = value(b, col);
        var tie = a.getAttribute("data-order") - b.getAttribute("data-order");
        if (x === "" || y === "") { return (x === "") - (y === "") || tie; }  // unknown values last
        return (numeric ? Number(x) - Number(y) : x.localeCompare(y)) * dir || tie;
      });
      rows.forEach(function (r) { table.tBodies[0].appendChild(r); });
    });
  });
  var filters = document.querySelectorAll(".filters button");
  filters.forEach(function (button) {
    button.addEventListener("click", function () {
      var want = button.getAttribute("data-bucket");
      filters.forEach(function (b) { b.setAttribute("aria-pressed", b === button ? "true" : "false"); });
      rows.forEach(function (r) { r.hidden = want !== "all" && r.getAttribute("data-bucket") !== want; });
    });
  });
})();
"""

_COLUMNS = (  # header, sort type ("" = not sortable)
    ("Status", "num"), ("Input", "str"), ("Frames", "num"), ("People / frame", "num"), ("Nobody", "num"),
    ("Mean score", "num"), ("fps", "num"), ("Pictures", ""),
)


def _href(path: Path, base: Path) -> str:
    """A relative, percent-encoded link from the page's folder to ``path``."""
    rel = Path(os.path.relpath(Path(path).resolve(), Path(base).resolve())).as_posix()
    return escape(quote(os.fsencode(rel), safe="/"), quote=True)  # a name's own bytes, even not UTF-8


def _cell(text: str, label: str, sort: str | float | None = None, cls: str = "") -> str:
    v = "" if sort is None else (sort if isinstance(sort, str) else repr(float(sort)))
    klass = f' class="{cls}"' if cls else ""
    return f'<td{klass} data-label="{escape(label)}" data-v="{escape(v, quote=True)}">{text}</td>'


def _overlay(thumb: Thumb, row: InputRow) -> str:
    """The frame's skeletons as SVG over an unannotated picture, in source pixel coordinates."""
    if not thumb.overlay or row.size is None:
        return ""
    width, height = row.size
    stroke = max(width, height) / 150
    colours = {"left": "#ff9f1c", "right": "#2ec4b6", "center": "#e71d73"}
    parts = []
    for pose in thumb.frame.people:
        k = pose.keypoints
        for a, b, side in SKELETON:
            if k[a, 2] >= row.threshold and k[b, 2] >= row.threshold:
                parts.append(f'<line x1="{k[a, 0]:.1f}" y1="{k[a, 1]:.1f}" x2="{k[b, 0]:.1f}" y2="{k[b, 1]:.1f}" '
                             f'stroke="{colours[side]}"/>')
        parts += [f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{stroke * 1.2:.1f}"/>' for x, y, s in k if s >= row.threshold]
    return (f'<svg viewBox="0 0 {width} {height}" preserveAspectRatio="none" aria-hidden="true">'
            f'<g stroke-width="{stroke:.1f}" stroke-linecap="round" fill="#fff">{"".join(parts)}</g></svg>')


def _pictures(row: InputRow, base: Path) -> str:
    figures = []
    for thumb in row.thumbs:
        people = len(thumb.frame.people)
        caption = f"frame {thumb.frame.index} · {thumb.label} · {people} {'person' if people == 1 else 'people'}"
        if thumb.error:
            figures.append(f'<figure><figcaption class="reason">{escape(thumb.error)}</figcaption></figure>')
            continue
        image = f'<img src="{_href(thumb.file, base)}" alt="{escape(caption, quote=True)}">'
        figures.append(f'<figure><div class="pic">{image}{_overlay(thumb, row)}</div>'
                       f'<figcaption>{escape(caption)}</figcaption></figure>')
    if row.plot is not None:
        figures.append(f'<figure class="plot"><a href="{_href(row.plot, base)}"><img src="{_href(row.plot, base)}" '
                       f'alt="run summary plot"></a><figcaption>summary plot</figcaption></figure>')
    return f'<div class="pics">{"".join(figures)}</div>' if figures else '<span class="kind">no pictures</span>'


def _row_html(row: InputRow, base: Path) -> str:
    s = row.stats
    label = dict(BUCKETS)[row.bucket]
    status = f'<span class="badge b-{row.bucket}">{escape(label)}</span> <span class="kind">{escape(row.status)}</span>'
    if row.reason:
        status += f'<div class="reason">{escape(row.reason)}</div>'
    people = "–" if s is None or s.people_mean is None else f"{s.people_min} / {s.people_mean:.2f} / {s.people_max}"
    links = " ".join(f'<a href="{_href(p, base)}">{escape(k.upper() if k != "media" else row.kind)}</a>'
                     for k, p in row.links.items())
    cells = [
        _cell(status, "Status", f"{_BUCKET_RANK[row.bucket]}"),
        _cell(f'<div class="name">{escape(row.name)}</div><div class="kind">{escape(row.kind)}</div>'
              f'<div class="files">{links}</div>', "Input", row.name),
        _cell(str(s.frames) if s else "–", "Frames", s.frames if s else None, "num"),
        _cell(people, "People / frame", s.people_mean if s else None, "num"),
        _cell(_fmt(None if s is None or s.nobody_share is None else 100 * s.nobody_share, 0, " %"), "Nobody",
              s.nobody_share if s else None, "num"),
        _cell(_fmt(s.mean_score if s else None), "Mean score", s.mean_score if s else None, "num"),
        _cell(_fmt(row.fps, 1), "fps", row.fps, "num"),
        _cell(_pictures(row, base), "Pictures", cls="pictures"),
    ]
    return f'<tr data-bucket="{row.bucket}">{"".join(cells)}</tr>'


def _summary_html(summary: Summary, base: Path) -> str:
    facts = "".join(f"<li><b>{escape(v)}</b><span>{escape(k)}</span></li>" for k, v in summary.facts)
    alert = f'<p class="alert" role="alert">{escape(summary.alert)}</p>' if summary.alert else ""
    details = "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in summary.details)
    links = " ".join(f'<a href="{_href(p, base)}">{escape(k)}</a>' for k, p in summary.links.items())
    return (f'<ul class="facts">{facts}</ul>{alert}<details><summary>Settings and model</summary><dl>{details}</dl>'
            f'{links}</details>{_not_taken_html(summary.not_taken)}')


def _not_taken_html(entries: list[tuple[str, str, bool]]) -> str:
    """The files and folders the run left out, with the reasons; open when one of them is a problem."""
    if not entries:
        return ""
    items = "".join(f'<li><span class="name">{escape(path)}</span>: '
                    f'<span class="{"reason" if problem else "kind"}">{escape(reason)}</span></li>'
                    for path, reason, problem in entries)
    opened = " open" if any(problem for _, _, problem in entries) else ""
    return (f'<details id="not-taken"{opened}><summary>Not taken ({len(entries)})</summary>'
            f'<ul class="not-taken">{items}</ul></details>')


def render_page(title: str, summary: Summary, rows: list[InputRow], base: Path) -> str:
    """The whole report page; links are relative to ``base``, the folder the page is written to."""
    ordered = sorted(rows, key=lambda r: (_BUCKET_RANK[r.bucket], r.name))
    present = [(b, label, sum(r.bucket == b for r in rows)) for b, label in BUCKETS]
    buttons = [f'<button type="button" data-bucket="all" aria-pressed="true">All ({len(rows)})</button>']
    buttons += [f'<button type="button" data-bucket="{b}" aria-pressed="false">{escape(label)} ({n})</button>'
                for b, label, n in present if n]
    heads = "".join(f'<th data-type="{t}" scope="col"><button type="button">{escape(h)}</button></th>' if t
                    else f'<th class="nosort" scope="col">{escape(h)}</th>' for h, t in _COLUMNS)
    body = "\n".join(_row_html(r, base) for r in ordered)
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_CSS}</style></head><body>"
        f"<header><h1>{escape(title)}</h1>{_summary_html(summary, base)}</header><main>"
        f'<nav class="filters" aria-label="Show only">{"".join(buttons)}</nav>'
        f'<table id="inputs"><thead><tr>{heads}</tr></thead><tbody>\n{body}\n</tbody></table>'
        f"</main><script>{_JS}</script></body></html>\n"
    )
