"""The Ray engine for ``movenet dir --engine ray``: one Ray task per file, on a cluster or a local instance.

Each task runs :func:`movenet_cli.run.job.process_job`, the same code as the local
engine, so outputs and manifest records are the same. The driver has already
refused to write over files it should not (see :func:`movenet_cli.run.folder.run_folder`),
so a retried task may replace what its lost attempt published. A Ray worker process builds
its :class:`PoseEstimator` on its first task and keeps it for the next ones (a
module-level cache keyed by the run settings). Tasks ask for one CPU and run the
model on one thread, so Ray's scheduler, not movenet, decides how many files run
at once on each node. A task whose worker dies (killed, out of memory, node lost)
is retried by Ray (``max_retries``); the retry removes what the lost attempt left.

Inputs and outputs must be on storage that every node sees at the same path:
tasks read and write files directly, nothing travels through Ray's object store
but paths and small records.

Without an address, a local Ray instance is started for the run and shut down
after it. Ray is an optional extra: ``pip install 'movenet-cli[ray]'``.

A cluster that stops answering (its GCS, or this machine's raylet; see :mod:`.ray_watch`)
ends the run in seconds with :class:`ClusterLost`, its unfinished files left pending for
``--skip-existing``; an error from a task while the cluster answers fails only that file.

Example::

    # example: not run (starts a local Ray instance)
    from movenet_cli.run.engines.ray import run_ray
    from movenet_cli.run.plan import plan_folder
    from movenet_cli.settings import RunSettings

    tasks = list(enumerate(plan_folder("sample_media", "out/results").jobs))
    for index, record in run_ray(tasks, RunSettings(), address=None):
        print(record.input, record.status)
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import tempfile
from pathlib import Path
from typing import Iterator

from ...errors import FolderRunError, first_line
from ...pose import PoseEstimator
from ...settings import RunSettings
from ...util.system import quiet_stderr, usable_cores
from ..job import FileRecord, Task, process_job
from ..plan import Job
from .ray_watch import CHECK_EVERY_S, ClusterWatch, driver_messages_aside

MAX_RETRIES = 3
_CANCEL_WAIT_S = 10.0
_OBJECT_STORE_BYTES = 128 * 1024 * 1024  # paths and records only
_ESTIMATORS: dict[RunSettings, object] = {}


class RayEngineError(FolderRunError):
    """Ray is missing, cannot start, or its workers cannot reach the files (one-line reason)."""


def _import_ray():
    # Ray retries a cluster that does not answer 20 times a second apart; a few are enough to
    # tell, and the user gets the reason in seconds (read when Ray is imported).
    os.environ.setdefault("RAY_NUM_REDIS_GET_RETRIES", "4")
    # The driver waits this long, on leaving, to send its task events to a GCS: 5 s by default, all
    # of it spent when the GCS is gone.
    os.environ.setdefault("RAY_task_events_shutdown_flush_timeout_ms", "1000")
    try:
        import ray
    except ImportError:
        raise RayEngineError("the Ray engine needs Ray: pip install 'movenet-cli[ray]'") from None
    return ray


def _enter(cwd: str, job: Job) -> None:
    """Resolve relative paths as the driver does (workers may start elsewhere)."""
    if not job.input.is_absolute() and os.getcwd() != cwd:
        try:
            os.chdir(cwd)
        except OSError:
            raise OSError(
                f"{cwd} does not exist on {socket.gethostname()}: inputs and outputs must be on storage "
                "every node sees (or give absolute paths)"
            ) from None


def process_on_worker(settings: RunSettings, job: Job, cwd: str) -> FileRecord:
    """The body of one Ray task: process one file with this worker's cached estimator."""
    try:
        _enter(cwd, job)
        estimator = _ESTIMATORS.get(settings)
        if estimator is None:
            estimator = _ESTIMATORS[settings] = PoseEstimator.from_settings(settings, threads=1)
    except Exception as exc:  # noqa: BLE001 - recorded as this file's failure
        return FileRecord.failed(job, first_line(exc))
    return process_job(estimator, job, settings, overwrite=True)


def check_storage(in_dir: str, out_dir: str, stage=None) -> str | None:
    """Run on a worker: None when it can read ``in_dir`` and write ``out_dir``, else why not; a side
    that is a bucket (``stage``, :mod:`movenet_cli.storage.staging`) is checked through the bucket."""
    host = socket.gethostname()
    problem = stage.check() if stage is not None else None
    if problem or (stage is not None and stage.source and stage.publish_to):
        return problem
    if not (stage is not None and stage.source) and not os.path.isdir(in_dir):
        return f"{in_dir} is not visible on {host}; inputs and outputs must be on storage every node sees"
    if stage is not None and stage.publish_to:
        return None
    probe = os.path.join(out_dir, f".movenet-probe.{host}.{os.getpid()}")
    try:
        with open(probe, "w"):
            pass
        os.unlink(probe)
    except OSError as exc:
        return f"{out_dir} is not writable on {host} ({exc.strerror}); outputs must be on storage every node sees"
    return None


def run_ray(
    tasks: list[Task],
    settings: RunSettings,
    *,
    address: str | None = None,
    in_dir: str | os.PathLike | None = None,
    out_dir: str | os.PathLike | None = None,
    max_retries: int = MAX_RETRIES,
) -> Iterator[tuple[int, FileRecord]]:
    """Submit one task per file; yield ``(index, record)`` as they finish.

    With ``address`` (``auto``, ``HOST:PORT`` or ``ray://HOST:PORT``) the run joins
    that cluster and first checks, from a worker, that ``in_dir`` and ``out_dir``
    are visible there; without it a local instance with one CPU per core starts.
    """
    _use_token_if_any(address)  # before Ray reads its configuration
    ray = _import_ray()
    with driver_messages_aside(ray):
        yield from _run(ray, tasks, settings, address, in_dir, out_dir, max_retries)


def _run(ray, tasks, settings, address, in_dir, out_dir, max_retries):
    started_here = not ray.is_initialized()
    if started_here:
        _start(ray, address)
    refs: dict = {}
    lost = False
    try:
        watch = ClusterWatch.of_driver(ray, address)
        if address is not None and in_dir is not None and out_dir is not None:
            check = ray.remote(num_cpus=1)(check_storage)
            stage = getattr(tasks[0][1], "stage", None) if tasks else None
            ref = check.remote(str(Path(in_dir).resolve()), str(Path(out_dir).resolve()), stage)
            problem = _result(ray, _wait_one(ray, [ref], watch, address, len(tasks)), watch, address, len(tasks))
            if problem:
                raise RayEngineError(problem)
        remote = ray.remote(num_cpus=1, max_retries=max_retries)(process_on_worker)
        cwd = os.getcwd()
        for index, job in tasks:
            refs[remote.remote(settings, job, cwd)] = (index, job)
        while refs:
            ref = _wait_one(ray, list(refs), watch, address, len(refs))
            try:
                record = _result(ray, ref, watch, address, len(refs))
            except ray.exceptions.RayError as exc:
                record = FileRecord.failed(refs[ref][1], f"Ray: {first_line(exc)}")
            index, _ = refs.pop(ref)
            yield index, record
    except ClusterLost:
        lost = True
        raise
    finally:
        if refs and not lost:  # interrupted: a cancelled task aborts its file cleanly, given a moment
            for ref in refs:
                ray.cancel(ref)
            ray.wait(list(refs), num_returns=len(refs), timeout=_CANCEL_WAIT_S)
        if started_here:
            ray.shutdown()


class ClusterLost(RayEngineError):
    """The cluster (its GCS, or this machine's raylet) stopped answering during the run."""

    def __init__(self, address: str | None, cause: str, unfinished: int):
        where = f"Ray at {address}" if address else "private Ray instance"
        super().__init__(
            f"{where}: the Ray cluster stopped answering ({cause}); {unfinished} file{'s' * (unfinished != 1)} "
            "left pending: run again with --skip-existing to do them"
        )


def _wait_one(ray, refs: list, watch: ClusterWatch, address: str | None, unfinished: int):
    """The next finished task of ``refs``, checking between waits that the cluster is still there."""
    while True:  # checked also while tasks finish: a raylet can go on a while without its GCS
        cause = watch.lost()
        if cause:
            raise ClusterLost(address, cause, unfinished)
        ready, _ = ray.wait(refs, num_returns=1, timeout=CHECK_EVERY_S)
        if ready:
            return ready[0]


def _result(ray, ref, watch: ClusterWatch, address: str | None, unfinished: int):
    """``ray.get`` of a finished task; an error that comes from a lost cluster, not from the task,
    raises :class:`ClusterLost` (its files stay pending) instead of failing the file."""
    try:
        return ray.get(ref)
    except ray.exceptions.LocalRayletDiedError:
        raise ClusterLost(address, "this machine's raylet stopped", unfinished) from None
    except ray.exceptions.RayError:
        cause = watch.confirm()
        if cause:
            raise ClusterLost(address, cause, unfinished) from None
        raise


def _start(ray, address: str | None) -> None:
    """Join the cluster at ``address``, or start a private instance for the run."""
    options = dict(log_to_driver=False, logging_level=logging.ERROR)
    if address is None:  # workers of a local instance inherit this environment
        options.update(num_cpus=usable_cores(), object_store_memory=_OBJECT_STORE_BYTES, include_dashboard=False)
    elif _forwarded_env():
        options.update(runtime_env={"env_vars": _forwarded_env()})
    _check_reachable(address)
    handlers = _signal_handlers()
    with tempfile.TemporaryFile() as log:
        try:
            with quiet_stderr(into=log):  # Ray's own log lines stay off the terminal
                # "local" starts a private instance, never joining a `ray start` cluster by accident
                ray.init(address=address or "local", **options)
        except SystemExit:  # Ray's SIGTERM handler, while it starts: the user stopped the run
            raise KeyboardInterrupt from None
        except Exception as exc:  # noqa: BLE001 - Ray raises many kinds; the user needs one line
            log.seek(0)
            raise _start_error(address, exc, log.read().decode("utf-8", "replace")) from None
        finally:
            _restore(handlers)  # Ray's own SIGTERM handler would exit without recording the run


_AUTH_ENV = ("RAY_AUTH_MODE", "RAY_AUTH_TOKEN", "RAY_AUTH_TOKEN_PATH")


def _token_available() -> bool:
    """Whether a token is given the ways Ray documents: RAY_AUTH_TOKEN, RAY_AUTH_TOKEN_PATH, ~/.ray/auth_token."""
    if os.environ.get("RAY_AUTH_TOKEN"):
        return True
    path = os.environ.get("RAY_AUTH_TOKEN_PATH") or os.path.join(os.path.expanduser("~"), ".ray", "auth_token")
    return os.path.isfile(path)


def _use_token_if_any(address: str | None) -> None:
    """Clusters started with `ray start` (Ray 2.59 on) want a token; joining one by its address,
    send the token the user has, as Ray itself does for a cluster on this machine."""
    if address not in (None, "local") and "RAY_AUTH_MODE" not in os.environ and _token_available():
        os.environ["RAY_AUTH_MODE"] = "token"


def _start_error(address: str | None, exc: BaseException, log: str) -> RayEngineError:
    where = f" at {address}" if address else ""
    if "InvalidAuthToken" in log or "Unauthenticated" in log or "authentication" in first_line(exc).lower():
        return RayEngineError(
            f"the Ray cluster{where} wants an authentication token: set RAY_AUTH_TOKEN to the output of "
            "`ray get-auth-token` on its head node (or save it in ~/.ray/auth_token), then run again"
        )
    return RayEngineError(f"cannot start Ray{where}: {first_line(exc)}")


def _check_reachable(address: str | None, timeout: float = 5.0) -> None:
    """Fail in seconds, not after Ray's minutes of retries, when HOST:PORT does not answer."""
    if address is None or address in ("auto", "local"):
        return
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        raise RayEngineError(f"{address}: not a Ray address (auto, HOST:PORT or ray://HOST:PORT)")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout).close()
    except OSError as exc:
        raise RayEngineError(f"cannot reach Ray at {address} ({exc.strerror or exc})") from None


def _signal_handlers() -> dict:
    return {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}


def _restore(handlers: dict) -> None:
    for sig, handler in handlers.items():
        try:
            signal.signal(sig, handler)
        except (ValueError, TypeError):  # not the main thread, or a handler set outside Python
            pass


def _forwarded_env() -> dict[str, str]:
    """The movenet settings of this environment that the workers need too."""
    names = ("MOVENET_HOME", "MOVENET_SOURCES", "MOVENET_HUB_BASE", "IMAGEIO_FFMPEG_EXE", *_AUTH_ENV,
             "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_DEFAULT_REGION")  # bucket credentials: per node
    return {name: os.environ[name] for name in names if os.environ.get(name)}
