"""What this machine offers: cores, a GPU, and how to share the cores between workers and threads.

Example::

    from movenet_cli.util.system import default_jobs, threads_per_job

    jobs = default_jobs(files=8)              # one worker per core, never more than files
    threads = threads_per_job(jobs)           # TFLite threads for each worker
    print(jobs, threads)
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import sys
import threading
from typing import IO, Iterator


def usable_cores() -> int:
    """Cores this process may run on (its CPU affinity where the OS tells, else all of them), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def gpu_visible() -> bool:
    """Whether an NVIDIA GPU is present (checked without importing TensorFlow)."""
    return os.path.exists("/dev/nvidia0") or os.path.exists("/dev/nvidiactl")


def default_threads(*, encoding: bool = False, cores: int | None = None) -> int:
    """TFLite threads for one video: every core, less one while an MP4 is being encoded,
    which leaves that core to the decoder and the encoder (libx264)."""
    cores = cores or usable_cores()
    return max(1, cores - 1) if encoding else cores


def encoder_threads(cores: int | None = None) -> int:
    """libx264 threads for one annotated video: half the cores, at least one. x264's own choice
    (1.5 threads a core) costs about 10% more CPU per frame, for no more frames a second where
    the model and the decoder share the cores with it: on 2 cores one thread encodes 1768x994
    at about 50 fps (``veryfast``), more than the model's pace."""
    return max(1, (cores or usable_cores()) // 2)


def default_jobs(files: int, cores: int | None = None) -> int:
    """The ``dir --jobs`` default: one worker per core, never more workers than files.

    One process keeps only part of two cores busy (decoding, drawing and encoding take
    turns with the model), so single-threaded workers side by side finish a folder sooner
    for the same CPU time; ``bench/dir_jobs.py`` measures it.
    """
    cores = cores or usable_cores()
    return max(1, min(cores, files))


def threads_per_job(jobs: int, cores: int | None = None) -> int:
    """TFLite threads for each of ``jobs`` workers so that together they fill the cores once."""
    return max(1, (cores or usable_cores()) // max(1, jobs))


def sigterm_as_interrupt() -> None:
    """Make SIGTERM raise KeyboardInterrupt, so a terminated run cleans up as Ctrl-C does."""

    def raise_interrupt(signum, frame):
        raise KeyboardInterrupt

    try:
        signal.signal(signal.SIGTERM, raise_interrupt)
    except ValueError:  # not the main thread (e.g. under a test runner's thread)
        pass


_QUIET = threading.RLock()  # threads taking turns, so none restores another one's redirection


@contextlib.contextmanager
def quiet_stderr(into: IO[bytes] | None = None) -> Iterator[None]:
    """Keep what native libraries print on file descriptor 2 (not Python's own errors) off the
    terminal: discarded, or written to the open file ``into`` for a caller that reads the reason
    of a failure from it. ``MOVENET_DEBUG=1`` lets it through."""
    if os.environ.get("MOVENET_DEBUG"):
        yield
        return
    with _QUIET:
        sys.stderr.flush()
        try:
            saved = os.dup(2)
        except OSError:
            yield
            return
        try:
            if into is None:
                with open(os.devnull, "w") as devnull:
                    os.dup2(devnull.fileno(), 2)
            else:
                os.dup2(into.fileno(), 2)
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)


def stdout_reader_gone() -> bool:
    """Whether stdout is a pipe whose reading end is closed (``movenet compare ... | head -3``)."""
    try:
        poll = select.poll()
        poll.register(sys.stdout.fileno(), select.POLLOUT)
        return any(events & (select.POLLERR | select.POLLHUP) for _, events in poll.poll(0))
    except (OSError, ValueError, AttributeError):
        return False


def silence_stdout() -> None:
    """Point stdout at /dev/null, so that nothing more (a flush at exit) meets the closed pipe."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
