"""Runners: one small interface over the ways a cached model can be executed.

A runner takes a batch of letterboxed frames (int32 ``[N,H,W,3]`` in 0..255) and
returns the model's raw output as a NumPy array (``[N,1,17,3]`` for SinglePose,
``[N,6,56]`` for MultiPose).

Example::

    runner = TFRunner(store.ensure("lightning"))
    raw = runner(np.zeros((1, 192, 192, 3), np.int32))
"""

from __future__ import annotations

import os

import numpy as np

BACKENDS = ("auto", "tf", "tflite")


class TFRunner:
    """Runs the cached SavedModel with TensorFlow."""

    name = "tf"

    def __init__(self, saved_model: str | os.PathLike):
        from .._tf import tensorflow

        tf = tensorflow()
        self._tf = tf
        self._fn = tf.saved_model.load(str(saved_model)).signatures["serving_default"]

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        tensor = self._tf.constant(batch.astype(np.int32, copy=False))
        if tensor.shape[0] == 1:
            return self._fn(input=tensor)["output_0"].numpy()
        return np.concatenate([self._fn(input=tensor[i : i + 1])["output_0"].numpy() for i in range(tensor.shape[0])])


class TFLiteRunner:
    """Runs a TFLite conversion of the cached model with LiteRT (XNNPACK), no TensorFlow import."""

    name = "tflite"

    def __init__(self, tflite_file: str | os.PathLike, threads: int | None = None):
        try:
            from ai_edge_litert.interpreter import Interpreter
        except ImportError:  # older installs: the interpreter that ships with TensorFlow
            from .._tf import tensorflow

            Interpreter = tensorflow().lite.Interpreter
        from .._tf import quiet_stderr

        self._quiet = quiet_stderr
        self.threads = threads or os.cpu_count() or 1
        with quiet_stderr():
            self._interpreter = Interpreter(model_path=str(tflite_file), num_threads=self.threads)
        detail = self._interpreter.get_input_details()[0]
        self._input = detail["index"]
        self._output = self._interpreter.get_output_details()[0]["index"]
        self._shape = None
        self._dtype = detail["dtype"]

    def _resize(self, shape: tuple[int, ...]) -> None:
        if shape != self._shape:
            with self._quiet():  # XNNPACK announces itself on stderr
                self._interpreter.resize_tensor_input(self._input, list(shape), strict=False)
                self._interpreter.allocate_tensors()
            self._shape = shape

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        outputs = []
        for frame in batch:
            self._resize((1,) + frame.shape)
            self._interpreter.set_tensor(self._input, frame[None].astype(self._dtype, copy=False))
            self._interpreter.invoke()
            outputs.append(self._interpreter.get_tensor(self._output).copy())
        return np.concatenate(outputs)


def convert_to_tflite(saved_model: str | os.PathLike, out: str | os.PathLike) -> None:
    """Convert a cached SavedModel to a float32 TFLite flatbuffer of builtin ops only.

    The signature is frozen into one flat graph, slices that only add axes become
    ``ExpandDims`` (see :func:`~movenet_cli.models.tfjs.expand_new_axis_slices`), and the
    result is converted; TensorFlow is needed for this once per machine, not to run it.
    """
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    from .._tf import tensorflow
    from . import tfjs

    tf = tensorflow()
    signature = tf.saved_model.load(str(saved_model)).signatures["serving_default"]
    frozen = convert_variables_to_constants_v2(signature)
    graph_def = tfjs.expand_new_axis_slices(frozen.graph.as_graph_def())
    input_name = frozen.inputs[0].name
    output_name = frozen.outputs[0].name
    fn = tfjs.to_function(graph_def, input_name, output_name)
    converter = tf.lite.TFLiteConverter.from_concrete_functions([fn], None)
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    with open(out, "wb") as fh:
        fh.write(converter.convert())


def gpu_visible() -> bool:
    """Whether an NVIDIA GPU is present (checked without importing TensorFlow)."""
    return os.path.exists("/dev/nvidia0") or os.path.exists("/dev/nvidiactl")


def make_runner(store, model: str, backend: str = "auto", threads: int | None = None):
    """The runner for ``model`` on ``backend`` (``auto``: TFLite on CPU, TensorFlow with a GPU)."""
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    saved_model = store.ensure(model)
    if backend == "auto":
        backend = "tf" if gpu_visible() else "tflite"
    if backend == "tf":
        return TFRunner(saved_model)
    tflite = store.entry(model) / "model.tflite"
    if "model.tflite" not in store.manifest(model)["files"] or not tflite.is_file():
        store.report(f"Converting model {model!r} to TFLite (once per machine) ...")
        store.add_file(model, "model.tflite", lambda tmp: convert_to_tflite(saved_model, tmp))
    return TFLiteRunner(tflite, threads)
