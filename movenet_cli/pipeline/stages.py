"""The threads of the video pipeline and the typed items they pass along bounded queues.

Decode (and letterbox) -> infer -> draw/encode + sinks: each arrow is a :class:`queue.Queue`
of at most :data:`QUEUE_DEPTH` items, so the slowest stage sets the pace and memory stays
flat. ``put``/``get`` give up once the shared ``stop`` event is set, so a failing stage never
leaves another waiting for ever.

Example::

    import queue
    import threading
    from movenet_cli.pipeline.stages import DONE, QUEUE_DEPTH, Done, Stage, get, put

    stop = threading.Event()
    numbers: queue.Queue = queue.Queue(QUEUE_DEPTH)
    stage = Stage(lambda: all(put(numbers, n, stop) for n in [*range(10), DONE]), "movenet-count", stop)
    stage.start()
    while not isinstance(item := get(numbers, stop), Done):   # the producer waits for room: at most 4 queued
        print(item)
    stage.join()
"""

from __future__ import annotations

import queue
import threading
from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..media import Frame
from ..types import FrameResult

QUEUE_DEPTH = 4


class Done:
    """The end of a queue's items."""


DONE = Done()


@dataclass
class Decoded:
    """A decoded frame and its model input (letterboxed; ``None`` where an accuracy level makes its own)."""

    frame: Frame
    tensor: np.ndarray | None


@dataclass
class Estimated:
    """A frame and the people found in it."""

    frame: Frame
    result: FrameResult


class Stage(threading.Thread):
    """A worker thread that records its exception instead of printing it, and then sets
    ``stop`` so that no other stage waits on it for ever."""

    def __init__(self, target: Callable[[], None], name: str, stop: threading.Event | None = None):
        super().__init__(name=name, daemon=True)
        self._work = target
        self._stop_all = stop
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self._work()
        except BaseException as exc:  # handed to the main thread
            self.error = exc
            if self._stop_all is not None:
                self._stop_all.set()


def put(q: queue.Queue, item, stop: threading.Event) -> bool:
    """Put ``item``, waiting for room; False when ``stop`` was set first."""
    while not stop.is_set():
        try:
            q.put(item, timeout=0.1)
            return True
        except queue.Full:
            continue
    return False


def get(q: queue.Queue, stop: threading.Event):
    """The next item, or :data:`DONE` once the queue is empty and ``stop`` is set."""
    while True:
        try:
            return q.get(timeout=0.1)
        except queue.Empty:
            if stop.is_set():
                return DONE
