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

    from movenet_cli.run.engines.processes import run_workers
    from movenet_cli.run.plan import plan_folder
    from movenet_cli.settings import RunSettings

    tasks = list(enumerate(plan_folder("sample_media", "out/results", video=False).jobs))
    for index, record in run_workers(tasks, RunSettings(end=0.5), jobs=2):
        print(record.input, record.status)
"""

from __future__ import annotations

import multiprocessing as mp
import signal
import time
from multiprocessing.connection import Connection, wait
from typing import Callable, Iterator

from ...errors import FolderRunError, first_line
from ...pose import PoseEstimator
from ...settings import RunSettings
from ...util.system import sigterm_as_interrupt, threads_per_job
from ..job import FileRecord, Task, process_job

_FRAMES_EVERY_S = 0.25
_STOP_TIMEOUT_S = 15.0


def _worker(conn: Connection, settings: RunSettings, threads: int) -> None:
    """The loop each worker process runs: build the estimator, then process what it is sent."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides what an interrupt stops
    sigterm_as_interrupt()
    try:
        try:
            estimator = PoseEstimator.from_settings(settings, threads=threads)
        except Exception as exc:  # noqa: BLE001 - every file would fail the same way: stop the run
            conn.send(("broken", first_line(exc)))
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

            record = process_job(estimator, job, settings, overwrite=True, on_result=frames)
            if last[1]:
                conn.send(("frames", last[1]))
            conn.send(("done", (index, record)))
    except (KeyboardInterrupt, EOFError, BrokenPipeError):
        pass  # stopped by the parent, or the parent is gone


class WorkerSetupError(FolderRunError):
    """A worker could not build its estimator (the reason is the first line)."""


class _Pool:
    """The worker processes of one run and the file each is on."""

    def __init__(self, tasks: list[Task], settings: RunSettings, threads: int):
        self.ctx = mp.get_context("spawn")
        self.settings, self.threads = settings, threads
        self.queue = list(reversed(tasks))
        self.workers: dict[Connection, tuple[mp.process.BaseProcess, Task | None]] = {}
        self.ready: set[Connection] = set()  # workers that have loaded the model

    def start_worker(self) -> None:
        parent, child = self.ctx.Pipe()
        proc = self.ctx.Process(target=_worker, args=(child, self.settings, self.threads), name="movenet-worker",
                                daemon=True)
        proc.start()
        child.close()
        self.workers[parent] = (proc, None)

    def hand_out(self, conn: Connection) -> None:
        """Send the next file to a worker that is free, or retire it when there is none."""
        self.ready.add(conn)
        proc, _ = self.workers[conn]
        task = self.queue.pop() if self.queue else None
        self.workers[conn] = (proc, task)
        conn.send(task)
        if task is None:
            self.workers.pop(conn)
            proc.join(_STOP_TIMEOUT_S)
            conn.close()

    def lost(self, conn: Connection) -> tuple[int, FileRecord] | None:
        """A worker died: the record of the file it was on (a fresh worker takes its place)."""
        proc, task = self.workers.pop(conn)
        proc.join(_STOP_TIMEOUT_S)
        conn.close()
        if conn not in self.ready:
            raise WorkerSetupError(f"a worker process died while loading the model (exit code {proc.exitcode})")
        if self.queue:
            self.start_worker()
        if task is None:
            return None
        return task[0], FileRecord.failed(task[1], f"worker process died (exit code {proc.exitcode})")


def run_workers(
    tasks: list[Task],
    settings: RunSettings,
    *,
    jobs: int,
    threads: int | None = None,
    on_frames: Callable[[int], None] | None = None,
) -> Iterator[tuple[int, FileRecord]]:
    """Run ``tasks`` in ``jobs`` worker processes; yield ``(index, record)`` as files finish.

    ``on_frames(n)`` is called as workers process frames. Outputs are replaced if
    they exist: check them first, as :func:`movenet_cli.run.folder.run_folder` does.
    Raises :class:`WorkerSetupError` if the estimator cannot be built.
    """
    pool = _Pool(tasks, settings, threads or threads_per_job(jobs))
    try:
        for _ in range(min(jobs, len(tasks))):
            pool.start_worker()
        while pool.workers:
            for conn in wait(list(pool.workers)):
                try:
                    kind, payload = conn.recv()
                except (EOFError, OSError):
                    record = pool.lost(conn)
                    if record is not None:
                        yield record
                    continue
                if kind == "broken":
                    raise WorkerSetupError(payload)
                if kind == "frames":
                    if on_frames:
                        on_frames(payload)
                    continue
                if kind == "done":
                    yield payload
                pool.hand_out(conn)
    finally:
        _stop(pool.workers)


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
