"""Folder runs: plan, resume, run on an engine, and record it all in the run manifest.

:func:`run_folder` is what ``movenet dir`` does:

1. plan the outputs of every image and video under the input folder (:mod:`.plan`);
2. check the output folder is writable, and refuse to run over an earlier run's manifest
   unless resuming (``skip_existing``) or redoing (``overwrite``);
3. decide per input (:mod:`.resume`): skip it when its outputs are complete, fail it when an
   output exists that may not be replaced, else run it;
4. run the rest on an engine (:mod:`.engines`): this process (``jobs=1``), worker processes,
   or Ray;
5. keep ``OUT_DIR/movenet-run.json`` up to date (:mod:`.manifest`), and write it a last time
   however the run ends (complete, with failures, interrupted, aborted by an error).

Example::

    from movenet_cli.run import run_folder
    from movenet_cli.settings import RunSettings

    settings = RunSettings("multipose", end=0.5)
    run = run_folder("sample_media", "out/results", settings, jobs=2, video=False)
    again = run_folder("sample_media", "out/results", settings, skip_existing=True, video=False)
    print(run.counts, again.counts)          # done 3, then skipped 3
    print(run.manifest_path)                 # out/results/movenet-run.json
"""

from __future__ import annotations

import os
import time
from contextlib import closing, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from .. import settings as defaults
from ..errors import FolderRunError, UsageError, first_line
from ..pipeline.outputs import Target, same_file
from ..settings import RunSettings
from ..util.fs import run_lock
from ..util.preflight import prepare_folder
from ..util.progress import progress_bar, refresh_interval
from ..util.system import default_jobs, threads_per_job
from .engines import ray as ray_engine
from .engines.inline import run_inline
from .engines.processes import run_workers
from .engines.ray_watch import native_output_aside
from .job import FileRecord, Task
from .manifest import LOCK_NAME, MANIFEST_NAME, RunManifest, count_statuses, read_manifest
from .plan import NotTaken, Plan, plan_folder
from .resume import changed_options, decide


@dataclass
class FolderRun:
    """The outcome of :func:`run_folder`: one record per input, in plan order."""

    records: list[FileRecord]
    manifest_path: Path
    engine: dict
    not_taken: list[NotTaken] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        return count_statuses(self.records)

    @property
    def failed(self) -> list[FileRecord]:
        return [r for r in self.records if r.status == "failed"]

    @property
    def problems(self) -> list[NotTaken]:
        """Entries not taken that the user most likely wanted (unreadable folders)."""
        return [entry for entry in self.not_taken if entry.problem]


@dataclass
class _Options:
    engine: str
    jobs: int | None
    address: str | None
    overwrite: bool
    skip_existing: bool
    video: bool
    image_csv: bool
    progress: bool
    include: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)
    also: list = field(default_factory=list)  # other files the run writes (pipeline.outputs.Target)


def _check(in_dir: Path, out_dir: Path, options: _Options) -> None:
    if same_file(in_dir, out_dir):
        raise UsageError(f"{out_dir}: the output folder is the input folder; give another output folder")
    if options.engine not in defaults.ENGINES:
        raise FolderRunError(f"unknown engine {options.engine!r}; choose one of {', '.join(defaults.ENGINES)}")
    if options.address is not None and options.engine != "ray":
        raise FolderRunError("an address is only used by the Ray engine (--engine ray)")
    if options.jobs is not None and options.jobs < 1:
        raise FolderRunError("jobs must be at least 1")


def _prepare_out_dir(out_dir: Path, *, resuming: bool) -> None:
    """Fail early, in one line, when the run could not record its results."""
    prepare_folder(out_dir)
    manifest = out_dir / MANIFEST_NAME
    if manifest.exists() and not resuming:
        raise FolderRunError(
            f"{manifest}: an earlier run wrote here; pass --skip-existing to resume it or --overwrite to redo it"
        )


def _own_files(out_dir: Path) -> list[Target]:
    """The run's manifest and lock, which no output may be."""
    return [Target(out_dir / MANIFEST_NAME, "the run manifest", managed=True),
            Target(out_dir / LOCK_NAME, "the run's lock file", managed=True)]


def _plan(in_dir: Path, out_dir: Path, settings: RunSettings, options: _Options) -> tuple[Plan, list[FileRecord], list[Task]]:
    """The plan, every input's record (final for those that will not run) and the tasks to run."""
    plan = plan_folder(in_dir, out_dir, video=options.video, image_csv=options.image_csv, include=options.include,
                       exclude=options.exclude, analysis=settings.analysis, also=options.also + _own_files(out_dir))
    if not plan.jobs:
        raise FolderRunError(f"{in_dir}: no images or videos found ({len(plan.not_taken)} entries not taken)")
    _prepare_out_dir(out_dir, resuming=options.skip_existing or options.overwrite)
    changed = changed_options(read_manifest(out_dir), settings) if options.skip_existing else []
    if changed:
        if not options.overwrite:
            raise FolderRunError(
                f"{out_dir / MANIFEST_NAME}: the earlier run used other {' and '.join(changed)}; "
                "resume with the same options, or pass --overwrite to redo every file"
            )
        options.skip_existing = False  # nothing of the earlier run can be kept
    records = [FileRecord(job.input, job.kind, job.outputs) for job in plan.jobs]
    tasks: list[Task] = []
    for index, job in enumerate(plan.jobs):
        decided = decide(job, settings, overwrite=options.overwrite, skip_existing=options.skip_existing)
        if decided is None:
            tasks.append((index, job))
        else:
            records[index] = decided
    return plan, records, tasks


def _engine(tasks: list[Task], options: _Options) -> dict:
    if options.engine == "ray":
        return {"name": "ray", "address": options.address or "local", "max_retries": ray_engine.MAX_RETRIES}
    jobs = min(options.jobs or default_jobs(len(tasks)), max(1, len(tasks)))
    return {"name": "local", "jobs": jobs, "threads_per_job": threads_per_job(jobs)}


def _engine_output(engine: dict, tasks: list[Task]):
    """Ray's native code in this process prints on file descriptor 2: kept off the terminal while it runs."""
    return native_output_aside() if engine["name"] == "ray" and tasks else nullcontext()


def _results(tasks, settings, engine: dict, options: _Options, in_dir, out_dir, bar):
    if not tasks:
        return (item for item in ())  # everything skipped or refused: no engine to start (closable)
    if engine["name"] == "ray":
        return ray_engine.run_ray(tasks, settings, address=options.address, in_dir=in_dir, out_dir=out_dir)
    if engine["jobs"] > 1:
        return run_workers(tasks, settings, jobs=engine["jobs"], threads=engine["threads_per_job"],
                           on_frames=bar.frames)
    return run_inline(tasks, settings, threads=engine["threads_per_job"], progress=options.progress)


def run_folder(
    in_dir: str | os.PathLike,
    out_dir: str | os.PathLike,
    settings: RunSettings | None = None,
    *,
    engine: str = defaults.ENGINE,
    jobs: int | None = None,
    address: str | None = None,
    overwrite: bool = False,
    skip_existing: bool = False,
    video: bool = True,
    image_csv: bool = False,
    progress: bool = False,
    on_plan: Callable[[list[FileRecord]], None] | None = None,
    on_record: Callable[[FileRecord], None] | None = None,
    include: list[str] | None = None,
    exclude: list[str] | None = None,
    also: list | None = None,
) -> FolderRun:
    """Process every image and video under ``in_dir`` into ``out_dir``; see the module doc.

    ``jobs`` (local engine) is the number of files processed at once, each in its own worker
    process (default: one per core); ``address`` (Ray engine) is the cluster to join, or None
    for a local Ray instance. ``on_plan`` is called once with every input's record before any
    is processed, ``on_record`` once per input as its fate is known. ``also``: other files the run
    writes (:class:`~movenet_cli.pipeline.outputs.Target`: a JUnit report, the HTML report), checked
    with every input's outputs before any work (see :mod:`.plan`). A file's failure is
    recorded; :class:`~movenet_cli.errors.FolderRunError` stops the run.
    """
    settings = (settings or RunSettings()).check()
    in_dir, out_dir = Path(in_dir), Path(out_dir)
    options = _Options(engine, jobs, address, overwrite, skip_existing, video, image_csv, progress,
                       list(include or ()), list(exclude or ()), list(also or ()))
    _check(in_dir, out_dir, options)
    prepare_folder(out_dir)
    with run_lock(out_dir / LOCK_NAME, what=f"{out_dir} is being written by another movenet run"):
        return _run(in_dir, out_dir, settings, options, on_plan, on_record)


def _run(in_dir: Path, out_dir: Path, settings: RunSettings, options: _Options, on_plan, on_record, *,
         planner=_plan, manifest_type=RunManifest) -> FolderRun:
    """The run itself; a run with a bucket on either side (:mod:`.remote`) gives its own planner and manifest."""
    plan, records, tasks = planner(in_dir, out_dir, settings, options)
    engine_info = _engine(tasks, options)
    manifest = manifest_type(
        out_dir, in_dir=in_dir, settings=settings, engine=engine_info, records=records,
        options={"video": options.video, "image_csv": options.image_csv, "overwrite": options.overwrite,
                 "skip_existing": options.skip_existing, "include": options.include, "exclude": options.exclude},
        not_taken=plan.not_taken,
    )
    manifest.write()
    parallel = engine_info["name"] == "ray" or engine_info["jobs"] > 1
    with _engine_output(engine_info, tasks):
        bar = _Progress(len(tasks), enabled=options.progress and parallel, live_frames=engine_info["name"] == "local")
        try:
            if on_plan:
                on_plan(records)
            for record in records:
                if record.status != "pending" and on_record:
                    on_record(record)
            with closing(_results(tasks, settings, engine_info, options, in_dir, out_dir, bar)) as results:
                for index, record in results:
                    manifest.update(index, record)
                    bar.file_done(record)
                    if on_record:
                        on_record(record)
        except KeyboardInterrupt:
            manifest.finish("interrupted")
            raise
        except BaseException as exc:  # a lost Ray cluster among them: what was done stays done, the rest pending
            manifest.finish("aborted", error=first_line(exc))
            raise
        finally:
            bar.close()
    unfinished = any(r.status not in ("done", "skipped") for r in records) or any(e.problem for e in plan.not_taken)
    manifest.finish("incomplete" if unfinished else "complete")
    return FolderRun(records, manifest.path, engine_info, plan.not_taken)


class _Progress:
    """One bar for a parallel run: files done / total, and frames per second overall."""

    def __init__(self, total: int, *, enabled: bool, live_frames: bool):
        self._live = live_frames  # else frames are counted as files finish
        self._frames = 0
        self._t0 = time.perf_counter()
        self._shown = 0.0
        self._every = max(0.5, refresh_interval())
        # delay: a run that stops at once shows its error, not an empty bar
        self._bar = progress_bar(total, unit="file", desc="files", delay=1.0) if enabled and total else None

    def frames(self, count: int) -> None:
        self._frames += count
        now = time.perf_counter()
        if self._bar is not None and now - self._shown >= self._every:
            self._shown = now
            self._bar.set_postfix_str(f"{self._frames / (now - self._t0):.1f} frames/s", refresh=True)

    def file_done(self, record: FileRecord) -> None:
        if self._bar is not None:
            self._bar.update(1)
            if not self._live and record.frames:
                self._shown = 0.0
                self.frames(record.frames)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
