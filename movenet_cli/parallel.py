"""Worker processes for ``movenet dir --jobs N``: several files at once on one machine.

Each worker is a fresh (spawned) process that builds its :class:`PoseEstimator`
once and then takes files one at a time from the parent, over its own pipe. The
machine's cores are split between the workers: each gets ``cores // jobs`` TFLite
threads, so N workers never ask for more threads than there are cores. The
parent hands out the next file whenever a worker finishes one, so a long video
never holds up the short ones queued behind it.

A worker that dies (killed, out of memory) costs only the file it was on, which
is recorded as failed; a fresh worker takes its place. On an interrupt the
parent stops the workers with SIGTERM, which they turn into a clean abort (no
half-written output), and re-raises.

Example::

    tasks = list(enumerate(plan_folder("footage", "out")))
    for index, record in run_workers(tasks, RunSettings(), jobs=2):
        print(record.input, record.status)
"""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import time
from multiprocessing.connection import Connection, wait
from typing import Callable, Iterator

from .batch import FileRecord, FolderRunError, Job, RunSettings, error_line, process_job

# (index in the run, job); outputs may be replaced: the caller has checked them
Task = tuple[int, Job]

_FRAMES_EVERY_S = 0.25
_STOP_TIMEOUT_S = 15.0


def usable_cores() -> int:
    """Cores this process may run on (its CPU affinity), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def default_jobs(files: int, cores: int | None = None) -> int:
    """The ``--jobs`` default: one worker per core, never more workers than files.

    Measured with ``bench/dir_jobs.py`` on 2 cores: one process keeps about 1.0-1.2
    cores busy however many TFLite threads it has (decoding, drawing and encoding
    take turns with the model under the GIL), so two single-threaded workers finish
    a folder of clips sooner (0-60% in noisy runs) for the same CPU seconds. A
    worker holds about 130 MB.
    """
    cores = cores or usable_cores()
    return max(1, min(cores, files))


def threads_per_job(jobs: int, cores: int | None = None) -> int:
    """TFLite threads for each of ``jobs`` workers so that together they fill the cores once."""
    return max(1, (cores or usable_cores()) // max(1, jobs))


def _worker(conn: Connection, settings: RunSettings, threads: int, errors: tuple) -> None:
    """The loop each worker process runs: build the estimator, then process what it is sent."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides what an interrupt stops

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)
    try:
        try:
            estimator = settings.make_estimator(threads=threads)
        except Exception as exc:  # noqa: BLE001 - every file would fail the same way: stop the run
            conn.send(("broken", error_line(exc)))
            return
        conn.send(("ready", None))
        while True:
            task = conn.recv()
            if task is None:
                return
            index, job = task
            last = [time.monotonic(), 0]

            def frames(result, last=last):
                last[1] += 1
                now = time.monotonic()
                if now - last[0] >= _FRAMES_EVERY_S:
                    conn.send(("frames", last[1]))
                    last[0], last[1] = now, 0

            record = process_job(estimator, job, settings, overwrite=True, on_result=frames, errors=errors)
            if last[1]:
                conn.send(("frames", last[1]))
            conn.send(("done", (index, record)))
    except (KeyboardInterrupt, EOFError, BrokenPipeError):
        pass  # stopped by the parent, or the parent is gone


class WorkerSetupError(FolderRunError):
    """A worker could not build its estimator (the reason is the first line)."""


def run_workers(
    tasks: list[Task],
    settings: RunSettings,
    *,
    jobs: int,
    threads: int | None = None,
    errors: tuple[type[BaseException], ...] = (Exception,),
    on_frames: Callable[[int], None] | None = None,
) -> Iterator[tuple[int, FileRecord]]:
    """Run ``tasks`` in ``jobs`` worker processes; yield ``(index, record)`` as files finish.

    ``on_frames(n)`` is called as workers process frames. Outputs are replaced if
    they exist: check them first, as :func:`movenet_cli.folder.run_folder` does.
    Raises :class:`WorkerSetupError` if the estimator cannot be built.
    """
    ctx = mp.get_context("spawn")
    threads = threads or threads_per_job(jobs)
    queue = list(reversed(tasks))
    workers: dict[Connection, tuple[mp.process.BaseProcess, Task | None]] = {}
    ready: set[Connection] = set()  # workers that have loaded the model

    def start_worker() -> None:
        parent, child = ctx.Pipe()
        proc = ctx.Process(
            target=_worker, args=(child, settings, threads, errors), name="movenet-worker", daemon=True
        )
        proc.start()
        child.close()
        workers[parent] = (proc, None)

    def hand_out(conn: Connection) -> None:
        proc, _ = workers[conn]
        task = queue.pop() if queue else None
        workers[conn] = (proc, task)
        conn.send(task)
        if task is None:
            retire(conn)

    def retire(conn: Connection) -> None:
        proc, _ = workers.pop(conn)
        proc.join(_STOP_TIMEOUT_S)
        conn.close()

    try:
        for _ in range(min(jobs, len(tasks))):
            start_worker()
        while workers:
            for conn in wait(list(workers)):
                proc, task = workers[conn]
                try:
                    kind, payload = conn.recv()
                except (EOFError, OSError):
                    proc.join(_STOP_TIMEOUT_S)
                    workers.pop(conn)
                    conn.close()
                    if conn not in ready:
                        raise WorkerSetupError(
                            f"a worker process died while loading the model (exit code {proc.exitcode})"
                        ) from None
                    if task is not None:
                        _, job = task
                        record = FileRecord(job.input, job.kind, job.outputs, status="failed")
                        record.reason = f"worker process died (exit code {proc.exitcode})"
                        yield task[0], record
                    if queue:
                        start_worker()
                    continue
                if kind == "broken":
                    raise WorkerSetupError(payload)
                if kind == "frames":
                    if on_frames:
                        on_frames(payload)
                    continue
                if kind == "done":
                    yield payload
                ready.add(conn)
                hand_out(conn)
    finally:
        _stop(workers)


def _stop(workers: dict) -> None:
    """Stop what is still running: SIGTERM (a clean abort in the worker), then SIGKILL."""
    for proc, _ in workers.values():
        if proc.is_alive():
            proc.terminate()
    deadline = time.monotonic() + _STOP_TIMEOUT_S
    for conn, (proc, _) in workers.items():
        proc.join(max(0.1, deadline - time.monotonic()))
        if proc.is_alive():
            proc.kill()
            proc.join()
        conn.close()
    workers.clear()
