"""Import TensorFlow quietly, only when something needs it."""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from typing import Iterator


def tensorflow():
    """Return the ``tensorflow`` module with its C++ start-up chatter silenced."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    with quiet_stderr():
        import tensorflow as tf
    tf.get_logger().setLevel("ERROR")
    import absl.logging

    absl.logging.set_verbosity(absl.logging.ERROR)
    return tf


_QUIET = threading.RLock()  # threads taking turns, so none restores another one's /dev/null


@contextlib.contextmanager
def quiet_stderr() -> Iterator[None]:
    """Silence what native libraries print on file descriptor 2 (not Python's own errors)."""
    if os.environ.get("MOVENET_DEBUG"):
        yield
        return
    with _QUIET, _quiet_fd2():
        yield


@contextlib.contextmanager
def _quiet_fd2() -> Iterator[None]:
    sys.stderr.flush()
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
