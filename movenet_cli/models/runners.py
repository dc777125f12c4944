"""Runners: one small interface over the ways a cached model can be executed.

A runner takes a batch of letterboxed frames (int32 ``[N,H,W,3]`` in 0..255) and
returns the model's raw output as a NumPy array (``[N,1,17,3]`` for SinglePose,
``[N,6,56]`` for MultiPose). :func:`make_heads_runner` runs the model cut before its
decoding instead (``[N,h,w,C]`` heads, TFLite, made once per machine).

Example::

    import numpy as np
    from movenet_cli.models.runners import make_runner
    from movenet_cli.models.store import ModelStore

    runner = make_runner(ModelStore(), "lightning", backend="tflite")   # "tf": a TFRunner (TensorFlow)
    raw = runner(np.zeros((1, 192, 192, 3), np.int32))
    print(runner.name, raw.shape)                                       # tflite (1, 1, 17, 3)
"""

from __future__ import annotations

import os

import numpy as np

from ..errors import UsageError
from ..settings import BACKENDS
from ..util.system import gpu_visible, usable_cores
from . import tfjs
from ..util.system import quiet_stderr
from ._tf import quiet_tensorflow, tensorflow



class TFRunner:
    """Runs the cached SavedModel with TensorFlow."""

    name = "tf"

    def __init__(self, saved_model: str | os.PathLike):

        tf = tensorflow()
        self._tf = tf
        self._fn = tf.saved_model.load(str(saved_model)).signatures["serving_default"]

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        tensor = self._tf.constant(batch.astype(np.int32, copy=False))
        if tensor.shape[0] == 1:
            return self._fn(input=tensor)["output_0"].numpy()
        return np.concatenate([self._fn(input=tensor[i : i + 1])["output_0"].numpy() for i in range(tensor.shape[0])])


class TFLiteRunner:
    """Runs a TFLite conversion of the cached model with LiteRT (XNNPACK), no TensorFlow import.

    ``threads`` (default: every available core) is the total for the runner. MoveNet's graphs take
    one frame at a time, so for ``batch_size`` N the runner keeps min(N, threads) interpreters
    and runs the frames of a batch on them side by side, sharing the threads between them.
    """

    name = "tflite"

    def __init__(self, tflite_file: str | os.PathLike, threads: int | None = None, batch_size: int = 1):
        try:
            from ai_edge_litert.interpreter import Interpreter
        except ImportError:  # older installs: the interpreter that ships with TensorFlow

            Interpreter = tensorflow().lite.Interpreter
        self.threads = threads or usable_cores()
        self.batch_size = max(1, int(batch_size))
        slots = min(self.batch_size, self.threads)
        self._slots = [_Interpreter(Interpreter, tflite_file, self.threads // slots) for _ in range(slots)]
        self._pool = None

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        n = min(len(batch), len(self._slots))
        if n <= 1:
            return np.concatenate([self._slots[0](frame) for frame in batch])
        if self._pool is None:
            from concurrent.futures import ThreadPoolExecutor

            self._pool = ThreadPoolExecutor(len(self._slots) - 1, thread_name_prefix="movenet-tflite")
        for slot in self._slots[:n]:  # (re)allocation stays in this thread
            slot.resize((1,) + batch.shape[1:])
        # Frame i runs on slot i % n: slot 0 in this thread, the others in the pool.
        run = lambda k: [self._slots[k](frame) for frame in batch[k::n]]  # noqa: E731
        futures = [self._pool.submit(run, k) for k in range(1, n)]
        shares = [run(0)] + [future.result() for future in futures]
        outputs: list = [None] * len(batch)
        for k, share in enumerate(shares):
            outputs[k::n] = share
        return np.concatenate(outputs)


class _Interpreter:
    """One LiteRT interpreter, resized to the frame shape it is given."""

    def __init__(self, interpreter_class, tflite_file, threads: int):

        with quiet_stderr():
            self._interpreter = interpreter_class(model_path=str(tflite_file), num_threads=threads)
        detail = self._interpreter.get_input_details()[0]
        self._input = detail["index"]
        self._output = self._interpreter.get_output_details()[0]["index"]
        self._shape = None
        self._dtype = detail["dtype"]

    def resize(self, shape: tuple[int, ...]) -> None:
        if shape != self._shape:
            with quiet_stderr():  # XNNPACK announces itself on stderr
                self._interpreter.resize_tensor_input(self._input, list(shape), strict=False)
                self._interpreter.allocate_tensors()
            self._shape = shape

    def __call__(self, frame: np.ndarray) -> np.ndarray:
        """Run one frame (``[H, W, 3]``); the output keeps its batch axis of 1."""
        self.resize((1,) + frame.shape)
        self._interpreter.set_tensor(self._input, frame[None].astype(self._dtype, copy=False))
        self._interpreter.invoke()
        return self._interpreter.get_tensor(self._output).copy()


def convert_to_tflite(saved_model: str | os.PathLike, out: str | os.PathLike) -> None:
    """Convert a cached SavedModel to a float32 TFLite flatbuffer of builtin ops only.

    The signature is frozen into one flat graph, slices that only add axes become
    ``ExpandDims`` (see :func:`~movenet_cli.models.tfjs.expand_new_axis_slices`), and the
    result is converted; TensorFlow is needed for this once per machine, not to run it.
    """
    tf = tensorflow()  # first: TensorFlow is imported quietly, whatever imports a part of it next
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    with quiet_tensorflow():  # the converter's passes log to fd 2, whatever TF_CPP_MIN_LOG_LEVEL says
        signature = tf.saved_model.load(str(saved_model)).signatures["serving_default"]
        frozen = convert_variables_to_constants_v2(signature)
        graph_def = tfjs.expand_new_axis_slices(frozen.graph.as_graph_def())
        input_name = frozen.inputs[0].name
        output_name = frozen.outputs[0].name
        fn = tfjs.to_function(graph_def, input_name, output_name)
        converter = tf.lite.TFLiteConverter.from_concrete_functions([fn], None)
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
        flatbuffer = converter.convert()
    with open(out, "wb") as fh:
        fh.write(flatbuffer)


def _frozen_graph(saved_model: str | os.PathLike):
    """The cached SavedModel's signature as one flat graph: (graph_def, input name)."""
    tf = tensorflow()  # first: TensorFlow is imported quietly, whatever imports a part of it next
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    frozen = convert_variables_to_constants_v2(tf.saved_model.load(str(saved_model)).signatures["serving_default"])
    return frozen.graph.as_graph_def(), frozen.inputs[0].name


def convert_heads_to_tflite(saved_model: str | os.PathLike, out: str | os.PathLike) -> None:
    """Convert the graph cut before MoveNet's decoding (:func:`~movenet_cli.models.tfjs.heads_function`)
    to TFLite: one output, the heads stacked on the channel axis."""
    tf = tensorflow()
    with quiet_tensorflow():  # the converter's passes log to fd 2, whatever TF_CPP_MIN_LOG_LEVEL says
        graph_def, input_name = _frozen_graph(saved_model)
        fn = tfjs.heads_function(tfjs.expand_new_axis_slices(graph_def), input_name)
        converter = tf.lite.TFLiteConverter.from_concrete_functions([fn], None)
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
        flatbuffer = converter.convert()
    with open(out, "wb") as fh:
        fh.write(flatbuffer)


def write_decoding(saved_model: str | os.PathLike, out: str | os.PathLike) -> None:
    """Save the constants of SinglePose MoveNet's decoding (:func:`~movenet_cli.models.tfjs.singlepose_decoding`)
    as ``.npz``."""
    with quiet_tensorflow():
        graph_def, _ = _frozen_graph(saved_model)
    with open(out, "wb") as fh:
        np.savez(fh, **tfjs.singlepose_decoding(graph_def))


def make_heads_runner(store, model: str, threads: int | None = None, batch_size: int = 1):
    """A TFLite runner of ``model`` cut before its decoding (``[N, h, w, C]`` heads, see
    :data:`~movenet_cli.models.tfjs.HEAD_ORDER`), and for SinglePose models the constants of the
    decoding (``None`` for MultiPose). Both are made once per machine and cached beside the model."""
    saved_model = store.ensure(model)
    files = store.manifest(model)["files"]
    heads = store.entry(model) / "heads.tflite"
    if "heads.tflite" not in files or not heads.is_file():
        store.report(f"Cutting model {model!r} before its decoding (once per machine) ...")
        store.add_file(model, "heads.tflite", lambda tmp: convert_heads_to_tflite(saved_model, tmp))
    decoding = None
    if model != "multipose":
        path = store.entry(model) / "decoding.npz"
        if "decoding.npz" not in store.manifest(model)["files"] or not path.is_file():
            store.add_file(model, "decoding.npz", lambda tmp: write_decoding(saved_model, tmp))
        with np.load(path) as data:
            decoding = {key: data[key] for key in data.files}
    return TFLiteRunner(heads, threads, batch_size), decoding


def make_runner(store, model: str, backend: str = "auto", threads: int | None = None, batch_size: int = 1):
    """The runner for ``model`` on ``backend`` (``auto``: TFLite on CPU, TensorFlow with a GPU).

    ``threads`` and ``batch_size`` apply to TFLite; TensorFlow runs a batch frame by frame.
    """
    if backend not in BACKENDS:
        raise UsageError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    saved_model = store.ensure(model)
    if backend == "auto":
        backend = "tf" if gpu_visible() else "tflite"
    if backend == "tf":
        return TFRunner(saved_model)
    tflite = store.entry(model) / "model.tflite"
    if "model.tflite" not in store.manifest(model)["files"] or not tflite.is_file():
        store.report(f"Converting model {model!r} to TFLite (once per machine) ...")
        store.add_file(model, "model.tflite", lambda tmp: convert_to_tflite(saved_model, tmp))
    return TFLiteRunner(tflite, threads, batch_size)
