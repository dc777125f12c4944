"""Import TensorFlow quietly, only when something needs it."""

from __future__ import annotations

import os

from ..util.system import quiet_stderr


def tensorflow():
    """Return the ``tensorflow`` module with its C++ start-up chatter silenced."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    with quiet_stderr():
        import tensorflow as tf
    tf.get_logger().setLevel("ERROR")
    import absl.logging

    absl.logging.set_verbosity(absl.logging.ERROR)
    return tf
