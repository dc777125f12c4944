"""Import TensorFlow quietly, only when something needs it, and keep its C++ logging off the terminal.

TensorFlow's C++ code logs straight to file descriptor 2: ``TF_CPP_MIN_LOG_LEVEL`` must be in the
environment before TensorFlow is imported, and even then the TFLite converter's passes print lines
such as ``I0000 ... flatbuffer_export.cc ... Estimated count of arithmetic ops``; so the import and
the conversion run with file descriptor 2 silenced (``MOVENET_DEBUG=1`` lets it through).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
from collections.abc import Iterator

from ..util.system import quiet_stderr

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # before any import of TensorFlow, whoever makes it


def tensorflow():
    """Return the ``tensorflow`` module with its C++ start-up chatter silenced."""
    with quiet_tensorflow():
        import tensorflow as tf
    tf.get_logger().setLevel("ERROR")
    import absl.logging

    absl.logging.set_verbosity(absl.logging.ERROR)
    return tf


@contextlib.contextmanager
def quiet_tensorflow() -> Iterator[None]:
    """Run TensorFlow work (a TFLite conversion) with its C++ logging on file descriptor 2 discarded;
    Python's own exceptions still propagate."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    with quiet_stderr():
        try:
            yield
        finally:
            _flush_c_streams()  # lines C++ left in a stdio buffer go to the discarded stream, not later


def _flush_c_streams() -> None:
    with contextlib.suppress(OSError, AttributeError, TypeError):
        ctypes.CDLL(None).fflush(None)
