"""Folder runs: plan, resume, run on an engine, and record it all in the run manifest.

:func:`run_folder` is what ``movenet dir`` does:

1. plan the outputs of every image and video under the input folder
   (:func:`movenet_cli.batch.plan_folder`);
2. check the output folder is writable, and refuse to run over an earlier run's
   manifest unless resuming (``skip_existing``) or redoing (``overwrite``);
3. decide per input: skip it when its outputs are complete
   (:func:`movenet_cli.manifest.check_outputs_complete`), fail it when an output
   exists that may not be replaced, else run it;
4. run the rest on an engine: this process (``jobs=1``), worker processes
   (:mod:`movenet_cli.parallel`) or Ray (:mod:`movenet_cli.ray_engine`);
5. keep ``OUT_DIR/movenet-run.json`` up to date, and write it a last time however
   the run ends (complete, with failures, interrupted, aborted by an error).

Example::

    run = run_folder("footage", "out", RunSettings("multipose"), jobs=2, skip_existing=True)
    print(run.counts, run.manifest_path)
"""

from __future__ import annotations

import json
import os
import sys
import time
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .batch import FileRecord, FolderRunError, Job, RunSettings, error_line, plan_folder, process_job
from .manifest import MANIFEST_NAME, RunManifest, check_outputs_complete, count_statuses, read_manifest
from .parallel import default_jobs, run_workers, threads_per_job
from .pipeline import OutputExistsError, check_outputs
from .preflight import prepare_folder

ENGINES = ("local", "ray")


@dataclass
class FolderRun:
    """The outcome of :func:`run_folder`: one record per input, in plan order."""

    records: list[FileRecord]
    manifest_path: Path
    engine: dict

    @property
    def counts(self) -> dict[str, int]:
        return count_statuses(self.records)

    @property
    def failed(self) -> list[FileRecord]:
        return [r for r in self.records if r.status == "failed"]


def run_folder(
    in_dir: str | os.PathLike,
    out_dir: str | os.PathLike,
    settings: RunSettings | None = None,
    *,
    engine: str = "local",
    jobs: int | None = None,
    address: str | None = None,
    overwrite: bool = False,
    skip_existing: bool = False,
    video: bool = True,
    image_csv: bool = False,
    progress: bool = False,
    on_plan: Callable[[list[FileRecord]], None] | None = None,
    on_record: Callable[[FileRecord], None] | None = None,
    errors: tuple[type[BaseException], ...] = (Exception,),
) -> FolderRun:
    """Process every image and video under ``in_dir`` into ``out_dir``; see the module doc.

    ``jobs`` (local engine) is the number of files processed at once, each in its own
    worker process (default :func:`~movenet_cli.parallel.default_jobs`); ``address``
    (Ray engine) is the cluster to join, or None for a local Ray instance.
    ``on_plan`` is called once with every input's record before any is processed,
    ``on_record`` once per input as its fate is known. Errors in ``errors``
    fail one file; others (and :class:`FolderRunError`) stop the run.
    """
    settings = settings or RunSettings()
    in_dir, out_dir = Path(in_dir), Path(out_dir)
    if engine not in ENGINES:
        raise FolderRunError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")
    if address is not None and engine != "ray":
        raise FolderRunError("an address is only used by the Ray engine (--engine ray)")
    if jobs is not None and jobs < 1:
        raise FolderRunError("jobs must be at least 1")
    plan = plan_folder(in_dir, out_dir, video=video, image_csv=image_csv)
    if not plan:
        raise FolderRunError(f"{in_dir}: no images or videos found")
    _prepare_out_dir(out_dir, resuming=skip_existing or overwrite)
    changed = _changed_options(read_manifest(out_dir), settings) if skip_existing else []
    if changed:
        if not overwrite:
            raise FolderRunError(
                f"{out_dir / MANIFEST_NAME}: the earlier run used other {' and '.join(changed)}; "
                "resume with the same options, or pass --overwrite to redo every file"
            )
        skip_existing = False  # nothing of the earlier run can be kept

    records = [FileRecord(job.input, job.kind, job.outputs) for job in plan]
    tasks: list[tuple[int, Job]] = []
    for index, job in enumerate(plan):
        decided = _decide(job, settings, overwrite=overwrite, skip_existing=skip_existing)
        if decided is None:
            tasks.append((index, job))
        else:
            records[index] = decided

    if engine == "ray":
        engine_info = {"name": "ray", "address": address or "local", "max_retries": _ray().MAX_RETRIES}
    else:
        jobs = min(jobs or default_jobs(len(tasks)), max(1, len(tasks)))
        threads = threads_per_job(jobs)
        engine_info = {"name": "local", "jobs": jobs, "threads_per_job": threads}
    manifest = RunManifest(
        out_dir,
        in_dir=in_dir,
        settings=settings,
        engine=engine_info,
        records=records,
        options={"video": video, "image_csv": image_csv, "overwrite": overwrite, "skip_existing": skip_existing},
    )
    manifest.write()
    bar = _Progress(len(tasks), enabled=progress and (engine == "ray" or jobs > 1), live_frames=engine == "local")
    try:
        if on_plan:
            on_plan(records)
        for record in records:
            if record.status != "pending" and on_record:
                on_record(record)
        if not tasks:
            results = (item for item in ())  # everything skipped or refused: no engine to start
        elif engine == "ray":
            results = _ray().run_ray(tasks, settings, address=address, in_dir=in_dir, out_dir=out_dir)
        elif jobs > 1:
            results = run_workers(tasks, settings, jobs=jobs, threads=threads, errors=errors, on_frames=bar.frames)
        else:
            results = _run_here(tasks, settings, threads=threads, progress=progress, errors=errors)
        with closing(results):
            for index, record in results:
                manifest.update(index, record)
                bar.file_done(record)
                if on_record:
                    on_record(record)
    except KeyboardInterrupt:
        manifest.finish("interrupted")
        raise
    except BaseException as exc:
        manifest.finish("aborted", error=error_line(exc))
        raise
    finally:
        bar.close()
    manifest.finish("incomplete" if any(r.status != "done" and r.status != "skipped" for r in records) else "complete")
    return FolderRun(records, manifest.path, engine_info)


def _ray():
    from . import ray_engine

    return ray_engine


def _prepare_out_dir(out_dir: Path, *, resuming: bool) -> None:
    """Fail early, in one line, when the run could not record its results."""
    prepare_folder(out_dir)
    manifest = out_dir / MANIFEST_NAME
    if manifest.exists() and not resuming:
        raise FolderRunError(
            f"{manifest}: an earlier run wrote here; pass --skip-existing to resume it or --overwrite to redo it"
        )


def _changed_options(previous: dict | None, settings: RunSettings) -> list[str]:
    """The options that the JSON outputs do not record and that differ from an earlier run's manifest.

    Frame selection and tracking/smoothing change every file's results; the model and
    thresholds are checked per file (:func:`~movenet_cli.manifest.check_outputs_complete`).
    """
    before = previous.get("settings") if isinstance(previous, dict) else None
    if not isinstance(before, dict):
        return []  # nothing to compare with; the outputs themselves are still checked
    now = settings.as_dict()
    changed = []
    if any(before.get(key) != now[key] for key in ("start", "end", "every")):
        changed.append("--start/--end/--every")
    if json.loads(json.dumps(before.get("quality"))) != json.loads(json.dumps(now["quality"])):
        changed.append("tracking/smoothing options")
    return changed


def _decide(job: Job, settings: RunSettings, *, overwrite: bool, skip_existing: bool) -> FileRecord | None:
    """A finished record for an input that will not run (skipped or refused), None for one that will."""
    record = FileRecord(job.input, job.kind, job.outputs)
    if skip_existing:
        state = check_outputs_complete(job, settings)
        if state.complete:
            record.status, record.frames, record.people = "skipped", state.frames, state.people
            return record
        if state.other_settings and not overwrite:
            record.status = "failed"
            record.reason = f"its outputs were {state.reason}; pass --overwrite to replace them"
            return record
        overwrite = True  # incomplete outputs of an earlier run are redone
    try:
        check_outputs([job.input], job.outputs, overwrite=overwrite)
    except OutputExistsError as exc:
        record.status, record.reason = "failed", str(exc)
        return record
    return None


def _run_here(tasks, settings: RunSettings, *, threads: int, progress: bool, errors):
    """The single-process engine: one estimator, one file after another, a bar per file."""
    estimator = settings.make_estimator(threads=threads)
    for index, job in tasks:
        yield index, process_job(estimator, job, settings, overwrite=True, progress=progress, errors=errors)


class _Progress:
    """One bar for a parallel run: files done / total, and frames per second overall."""

    def __init__(self, total: int, *, enabled: bool, live_frames: bool):
        self._bar = None
        self._live = live_frames  # else frames are counted as files finish
        self._frames = 0
        self._t0 = time.perf_counter()
        self._shown = 0.0
        self._every = 0.5
        if enabled and total:
            from tqdm import tqdm

            interactive = sys.stderr.isatty()
            self._bar = tqdm(
                total=total,
                unit="file",
                desc="files",
                file=sys.stderr,
                dynamic_ncols=True,
                mininterval=0.1 if interactive else 10.0,
                delay=1.0,  # a run that stops at once shows its error, not an empty bar
            )
            self._every = 0.5 if interactive else 10.0

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
