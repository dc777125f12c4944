"""Folder runs with a bucket on either side: ``movenet dir s3://bucket/footage -o s3://bucket/results``.

The run is the ordinary folder run (:func:`movenet_cli.run.folder.run_folder`), wrapped at its
boundaries through :mod:`movenet_cli.storage`:

1. before any work, the input prefix is listed (one listing: it is the plan's input, with the same
   include/exclude rules and mirrored outputs as a folder) and the output prefix is checked writable
   (a probe object written and removed); either failing is one line;
2. the run lock is a conditional write of ``.movenet-run.lock`` (``If-None-Match: *``), removed when
   the run ends; a second run into the prefix stops at once, naming the holder;
3. resume reads one listing of the output prefix: an input whose outputs are all listed was published
   whole (each object appears whole, the JSON last) and is skipped, with its frame and people counts
   from the earlier manifest; there is no per-key round trip;
4. each input travels as a :class:`~movenet_cli.storage.staging.Stage`: the worker (this process, a
   worker process, a Ray task on any node) fetches it to local scratch, runs the local pipeline into
   scratch and publishes the outputs; no node needs another's disk;
5. the manifest is written locally as always and published to ``OUT/movenet-run.json`` each time.

Example::

    from movenet_cli.run.remote import plan_listing

    listing = {"day1/a.mp4": 10, "day1/.hidden.jpg": 3, "notes.txt": 5, "b.jpg": 7}
    plan = plan_listing(listing, "in", "out", exclude=["day2/*"])
    print([str(job.input) for job in plan.jobs])                # ['in/b.jpg', 'in/day1/a.mp4']
    print([(str(e.path), e.reason[:11]) for e in plan.not_taken])  # day1/.hidden.jpg, notes.txt
"""

from __future__ import annotations

import atexit
import contextlib
import copy
import dataclasses
import json
import os
import shutil
import socket
import tempfile
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Iterator

from ..errors import FolderRunError, OutputExistsError, UsageError
from ..media import media_kind
from ..media.formats import sniff_kind
from ..media.url import is_url
from ..pipeline.analysis import with_analysis
from ..pipeline.outputs import Outputs, check_unique, mirrored_outputs
from ..render.report import write_report
from ..settings import RunSettings
from ..storage import Store, StorageError, as_url, redact
from ..storage.staging import Stage
from ..util.fs import run_lock
from . import folder
from .job import FileRecord
from .manifest import LOCK_NAME, MANIFEST_NAME, RunManifest, read_manifest
from .plan import Job, NotTaken, Plan, _matches, _target, plan_folder
from .resume import changed_options, decide


@dataclass
class StagedJob(Job):
    """A job whose input is fetched from, or whose outputs are published to, a bucket."""

    stage: Stage | None = None


@dataclass
class RemoteRun(folder.FolderRun):
    """A :class:`~movenet_cli.run.folder.FolderRun` with a bucket on either side: records name the
    inputs by URL; the outputs are local again only after :func:`fetch_results`."""

    output: str = ""
    local_out: Path | None = None
    store: Store | None = None


def run_folder(in_dir, out_dir, settings: RunSettings | None = None, **options) -> folder.FolderRun:
    """:func:`movenet_cli.run.folder.run_folder`, where either folder may be a bucket URL."""
    if as_url(in_dir) or as_url(out_dir):
        return run_remote(in_dir, out_dir, settings, **options)
    return folder.run_folder(in_dir, out_dir, settings, **options)


def _hidden_folder(rel: str) -> str | None:
    """The first hidden folder on the way to ``rel`` (relative), or None."""
    parts = rel.split("/")[:-1]
    hidden = next((i for i, part in enumerate(parts) if part.startswith(".")), None)
    return None if hidden is None else "/".join(parts[: hidden + 1])


def plan_listing(listing: dict[str, int], local_in, local_out, *, video: bool = True, image_csv: bool = False,
                 include: list[str] | None = None, exclude: list[str] | None = None, store: Store | None = None,
                 skip: str | None = None) -> Plan:
    """:func:`movenet_cli.run.plan.plan_folder` over a bucket listing (relative key -> size): the same
    rules; an object taken only by ``include`` is fetched once to read its kind from its content.
    ``skip``: the output prefix, when it lies under the input prefix (left out, as a walk leaves out
    the output folder)."""
    local_in, local_out, plan = Path(local_in), Path(local_out), Plan()
    include, exclude = list(include or ()), list(exclude or ())
    hidden_folders: set[str] = set()
    for rel in sorted(listing):
        if skip and rel.startswith(skip):
            continue
        path, folder_name = local_in / rel, _hidden_folder(rel)
        if folder_name is not None:  # recorded once, as a walk does
            if folder_name not in hidden_folders:
                hidden_folders.add(folder_name)
                plan.not_taken.append(NotTaken(local_in / folder_name, "hidden folder"))
            continue
        reason = "hidden file" if path.name.startswith(".") else None
        pattern = None if reason else _matches(rel, exclude)
        reason = reason or (f"excluded by --exclude {pattern}" if pattern else None)
        kind = None if reason else media_kind(path)
        if kind is None and not reason and store is not None and _matches(rel, include):
            store.fetch(rel, path)
            kind = sniff_kind(path)
        if kind is None:
            plan.not_taken.append(NotTaken(path, reason or "not an image or video by its extension "
                                           "(add --include PATTERN to take it)"))
            continue
        target = _target(local_out, Path(rel), path, kind)
        plan.jobs.append(Job(path, kind, mirrored_outputs(target, kind, video=video, image_csv=image_csv)))
    check_unique((job.input, job.outputs) for job in plan.jobs)
    return plan


class _Sides:
    """The two sides of a run: a bucket (a :class:`Store`) or a local folder, and the local stand-ins."""

    def __init__(self, in_dir, out_dir):
        self.src = Store(as_url(in_dir)) if as_url(in_dir) else None
        self.dst = Store(as_url(out_dir)) if as_url(out_dir) else None
        if self.src and self.dst and self.src.url == self.dst.url:
            raise UsageError(f"{self.dst.name}: the output folder is the input folder; give another output folder")
        self.scratch = Path(tempfile.mkdtemp(prefix="movenet-run-"))
        atexit.register(shutil.rmtree, self.scratch, True)
        self.local_in = self.scratch / "in" if self.src else Path(in_dir)
        self.local_out = self.scratch / "out" if self.dst else Path(out_dir)
        self.in_name = self.src.name if self.src else str(in_dir)
        self.out_name = self.dst.name if self.dst else str(out_dir)

    def out_under_in(self) -> str | None:
        """The output prefix relative to the input prefix (with a final /), when it lies under it."""
        if self.src and self.dst and self.dst.url.startswith(self.src.url + "/"):
            return self.dst.url[len(self.src.url) + 1:] + "/"
        return None

    def preflight(self) -> dict[str, int] | None:
        """Before any work: list the input bucket, check the output bucket takes writes."""
        listing = self.src.listing() if self.src else None
        if self.dst:
            self.dst.check_writable()
        self.local_out.mkdir(parents=True, exist_ok=True)
        return listing

    def lock(self):
        what = f"{self.out_name} is being written by another movenet run"
        if not self.dst:
            return run_lock(self.local_out / LOCK_NAME, what=what)
        self.dst.lock(LOCK_NAME, f"pid {os.getpid()} on {socket.gethostname()}", what=what)
        return _Unlock(self.dst)

    def label(self, path: Path) -> str:
        """How a record names its input: the bucket URL (credentials removed), else the path."""
        if not self.src:
            return str(path)
        return f"{self.src.name}/{_under(path, self.local_in)}"

    def stage(self, job: Job) -> Stage:
        source = self.src.url_of(_under(job.input, self.local_in)) if self.src else None
        publish: dict[Path, str] = {}
        if self.dst:
            outs = [p for p in job.outputs.paths() + job.outputs.folders() if p != job.outputs.json]
            for path in outs + ([job.outputs.json] if job.outputs.json else []):  # the JSON last
                publish[path] = self.dst.url_of(_under(path, self.local_out))
        return Stage(job.input, source, publish)


def _under(path: Path, root: Path) -> str:
    """``path`` relative to ``root``, with / (string work: pathlib's is slow over 100,000 inputs)."""
    text, base = str(path), str(root)
    return (text[len(base) + 1:] if text.startswith(base + os.sep) else str(path.relative_to(root))).replace(
        os.sep, "/")


class _Unlock:
    def __init__(self, store: Store):
        self.store = store

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        try:
            self.store.remove([LOCK_NAME])
        except StorageError:
            pass  # the run's own outcome matters more; the message of the next run names the lock


class PublishedManifest(RunManifest):
    """The run manifest, naming the bucket URLs, and published to the output bucket each time it is written."""

    def __init__(self, *args, sides: _Sides, **kwargs):
        super().__init__(*args, **kwargs)
        self.sides = sides

    def to_dict(self) -> dict:
        data = super().to_dict()
        data["input_dir"], data["output_dir"] = self.sides.in_name, self.sides.out_name
        return data

    def write(self) -> None:
        super().write()
        if self.sides.dst:
            self.sides.dst.publish(self.path, MANIFEST_NAME)


def _earlier(sides: _Sides, listing_out: dict | None, resuming: bool) -> dict | None:
    """The earlier run's manifest, refusing to run over it unless resuming or redoing."""
    if not sides.dst:
        folder._prepare_out_dir(sides.local_out, resuming=resuming)
        return read_manifest(sides.local_out)
    if MANIFEST_NAME not in listing_out:
        return None
    if not resuming:
        raise FolderRunError(f"{sides.dst.url_of(MANIFEST_NAME)}: an earlier run wrote here; pass --skip-existing "
                             "to resume it or --overwrite to redo it")
    try:
        return json.loads(sides.dst.read_bytes(MANIFEST_NAME) or b"null")
    except ValueError:
        return None


def _changed(previous: dict | None, settings: RunSettings, bucket: bool) -> list[str]:
    changed = changed_options(previous, settings)
    before = previous.get("settings") if isinstance(previous, dict) else None
    if bucket and isinstance(before, dict) and not changed and before != json.loads(json.dumps(settings.as_dict())):
        changed.append("model settings")  # a listing does not read the outputs' model block
    return changed


def _decide_listed(job: Job, sides: _Sides, listing_out: dict, earlier: dict, *, overwrite: bool,
                   skip_existing: bool) -> FileRecord | None:
    """:func:`~movenet_cli.run.resume.decide` from the output listing: no per-key round trip."""
    rels = [_under(p, sides.local_out) for p in job.outputs.paths()]
    folders = [_under(p, sides.local_out) + "/" for p in job.outputs.folders()]
    present = [rel for rel in rels if rel in listing_out]
    record = FileRecord(job.input, job.kind, job.outputs)
    if skip_existing and len(present) == len(rels) and all(_any_under(f, listing_out) for f in folders):
        entry = earlier.get(_under(job.input, sides.local_in)) if sides.src else None
        entry = entry or earlier.get(str(job.input)) or {}
        record.status, record.frames, record.people = "skipped", entry.get("frames"), entry.get("people")
        return record
    if present and not (overwrite or skip_existing):
        record.status = "failed"
        record.reason = f"{sides.dst.url_of(present[0])}: already exists; pass --overwrite to replace it"
        return record
    return None


def _any_under(prefix: str, listing: dict) -> bool:
    return any(key.startswith(prefix) for key in listing)


def _plan(sides: _Sides, listing_in, in_dir, out_dir, settings: RunSettings, options) -> tuple:
    """The planner :func:`movenet_cli.run.folder._run` calls: the folder run's steps over listings."""
    if sides.src:
        plan = plan_listing(listing_in, sides.local_in, sides.local_out, video=options.video,
                            image_csv=options.image_csv, include=options.include, exclude=options.exclude,
                            store=sides.src, skip=sides.out_under_in())
    else:
        plan = plan_folder(sides.local_in, sides.local_out, video=options.video, image_csv=options.image_csv,
                           include=options.include, exclude=options.exclude)
    for job in plan.jobs:
        job.outputs = with_analysis(job.outputs, settings.analysis)
    if not plan.jobs:
        raise FolderRunError(f"{sides.in_name}: no images or videos found ({len(plan.not_taken)} entries not taken)")
    listing_out = sides.dst.listing() if sides.dst else None
    previous = _earlier(sides, listing_out, options.skip_existing or options.overwrite)
    changed = _changed(previous, settings, bool(sides.dst)) if options.skip_existing else []
    if changed:
        if not options.overwrite:
            raise FolderRunError(f"{sides.out_name}/{MANIFEST_NAME}: the earlier run used other "
                                 f"{' and '.join(changed)}; resume with the same options, or pass --overwrite "
                                 "to redo every file")
        options.skip_existing = False
    earlier = {str(e.get("input")): e for e in (previous or {}).get("files", []) if isinstance(e, dict)}
    records, tasks = [FileRecord(job.input, job.kind, job.outputs) for job in plan.jobs], []
    for index, job in enumerate(plan.jobs):
        if sides.dst:
            decided = _decide_listed(job, sides, listing_out, earlier, overwrite=options.overwrite,
                                     skip_existing=options.skip_existing)
        else:
            decided = decide(job, settings, overwrite=options.overwrite, skip_existing=options.skip_existing)
        if decided is None:
            tasks.append((index, StagedJob(job.input, job.kind, job.outputs, stage=sides.stage(job))))
        else:
            records[index] = decided
    return plan, records, tasks


def run_remote(in_dir, out_dir, settings: RunSettings | None = None, *, engine: str = folder.defaults.ENGINE,
               jobs=None, address=None, overwrite=False, skip_existing=False, video=True, image_csv=False,
               progress=False, on_plan=None, on_record=None, include=None, exclude=None, also=None) -> RemoteRun:
    """The folder run with a bucket URL for ``in_dir``, ``out_dir`` or both (see the module doc); ``also``:
    other local files the run writes, as for a folder run."""
    settings = (settings or RunSettings()).check()
    options = folder._Options(engine, jobs, address, overwrite, skip_existing, video, image_csv, progress,
                              list(include or ()), list(exclude or ()), list(also or ()))
    sides = _Sides(in_dir, out_dir)
    folder._check(sides.scratch / "in", sides.scratch / "out", options)
    listing_in = sides.preflight()
    relabel = partial(_relabel, sides)
    shown = (lambda record: on_record(relabel(record))) if on_record else None
    with sides.lock():
        run = folder._run(sides.local_in, sides.local_out, settings, options, on_plan, shown,
                          planner=partial(_plan, sides, listing_in),
                          manifest_type=partial(PublishedManifest, sides=sides))
    not_taken = [dataclasses.replace(e, path=sides.label(Path(e.path))) for e in run.not_taken]
    return RemoteRun([relabel(r) for r in run.records], run.manifest_path, run.engine, not_taken,
                     output=sides.out_name, local_out=sides.local_out, store=sides.dst)


def _relabel(sides: _Sides, record: FileRecord) -> FileRecord:
    shown = copy.copy(record)
    shown.input = sides.label(Path(record.input))
    return shown


def fetch_results(run: folder.FolderRun, *, json: bool = True, media: bool = False) -> None:
    """Bring the JSON (and with ``media`` the annotated media) of a bucket run's finished inputs back
    to local scratch, where the expectations and the report read them; nothing for a folder run."""
    if not isinstance(run, RemoteRun) or run.store is None or not (json or media):
        return
    for record in run.records:
        if record.status not in ("done", "skipped"):
            continue
        for path in ([record.outputs.json] if json or media else []) + ([record.outputs.media] if media else []):
            if path is not None and not path.exists():
                run.store.fetch(path.relative_to(run.local_out).as_posix(), path)


def write_run_report(run: folder.FolderRun, out_dir) -> str:
    """``--report`` for a folder or a bucket: the page is built locally and, for a bucket, published."""
    if not isinstance(run, RemoteRun) or run.store is None:
        return str(write_report(out_dir))
    fetch_results(run, media=True)
    page = write_report(run.local_out)
    files = page.parent / "report_files"
    for path in sorted(files.rglob("*")) if files.is_dir() else []:
        if path.is_file():
            run.store.publish(path, path.relative_to(run.local_out).as_posix())
    run.store.publish(page, page.name)
    return f"{run.output}/{page.name}"


@contextlib.contextmanager
def staged_video(source, outputs: Outputs, *, overwrite: bool, report=None) -> Iterator[tuple[object, Outputs]]:
    """For ``movenet video``: yield the source and outputs to use here; a bucket source is fetched to
    local scratch first, bucket outputs are written to scratch and published when the block ends
    without an error (the JSON last). Existing objects are refused unless ``overwrite``; the output
    prefix is checked writable before any work. Without a bucket, ``(source, outputs)`` as they are."""
    src = None if is_url(source) else as_url(source)
    remote = {f.name: as_url(getattr(outputs, f.name)) for f in dataclasses.fields(outputs) if f.name != "jsonl"}
    remote = {name: url for name, url in remote.items() if url}
    for option, value in (("--jsonl", outputs.jsonl), ("--report", report)):
        if as_url(value):
            raise UsageError(f"{option} writes to a local file or stdout, not to a bucket")
    if not src and not remote:
        yield source, outputs
        return
    if remote and report is not None:
        raise UsageError("--report writes beside local outputs; give local outputs, or leave --report out")
    scratch = Path(tempfile.mkdtemp(prefix="movenet-video-"))
    try:
        local_in = scratch / "in" / src.rsplit("/", 1)[-1] if src else Path(source)
        local = dataclasses.replace(outputs, **{name: scratch / "out" / name / url.rsplit("/", 1)[-1]
                                                for name, url in remote.items()})
        _check_objects(remote, overwrite)
        order = sorted(remote, key=lambda name: name == "json")  # the JSON last
        stage = Stage(local_in, src, {getattr(local, name): remote[name] for name in order})
        stage.fetch()
        yield local_in, local
        stage.publish()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _check_objects(remote: dict[str, str], overwrite: bool) -> None:
    """Refuse existing objects (unless ``overwrite``) and a prefix that takes no writes, before any work."""
    checked = set()
    for url in remote.values():
        parent, name = url.rsplit("/", 1)
        store = Store(parent)
        if parent not in checked:
            checked.add(parent)
            store.check_writable()
        if not overwrite and store.fs.exists(store.key(name)):
            raise OutputExistsError(f"{redact(url)}: already exists; pass --overwrite to replace it")


__all__ = ["RemoteRun", "StagedJob", "fetch_results", "plan_listing", "run_folder", "run_remote", "staged_video",
           "write_run_report"]
