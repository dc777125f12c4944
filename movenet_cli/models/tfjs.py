"""Turn a TF.js graph model (``model.json`` + ``.bin`` weights) into a TensorFlow function.

TF.js graph models are a TensorFlow ``GraphDef`` written as JSON, with the weights
moved out into binary shards (here float16-quantised) and some ops replaced by
fused kernels that only TF.js implements:

* ``FusedDepthwiseConv2dNative`` (depthwise conv + BiasAdd [+ Relu/Relu6]);
* ``_FusedConv2D`` without the ``TArgs`` attribute TensorFlow's own grappler
  version requires (conv + BiasAdd [+ Relu/Relu6]).

:func:`load_graph_def` puts the dequantised weights back into ``Const`` nodes and
rewrites each fused node into the chain of standard ops it stands for, keeping the
last op's name so every consumer stays wired. :func:`to_saved_model` wraps the graph
in a ``serving_default`` signature shaped like the TF Hub MoveNet models
(``input`` int32 ``[1,H,W,3]`` -> ``output_0``), so the rest of the code cannot tell
which source a model came from.

:func:`heads_function` cuts a graph before MoveNet's own decoding: its one output stacks the
heads (keypoint and centre heatmaps, regression, offsets; :data:`HEAD_ORDER`), found by the
names of their last convolutions; :func:`singlepose_decoding` reads the constants of the
SinglePose decoding from the graph, for :mod:`movenet_cli.pose.heatmaps` to decode the heads
outside it (:func:`~movenet_cli.models.runners.make_heads_runner` caches both beside the model).

Example::

    # example: not run (imports TensorFlow and converts a graph: 10 to 25 s here)
    from movenet_cli.models.store import ModelStore
    from movenet_cli.models.tfjs import load_graph_def, to_saved_model

    graph_def, inputs, outputs = load_graph_def(ModelStore().root / "tfjs" / "movenet-lightning.json")
    print(inputs, outputs)                  # ['input:0'] ['Identity:0']
    to_saved_model(graph_def, inputs[0], outputs[0], "out/lightning.savedmodel")
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import numpy as np

from ._tf import tensorflow

# Sizes in bytes of the dtypes a weights manifest may use.
_DTYPES = {
    "float32": np.float32,
    "int32": np.int32,
    "bool": np.bool_,
    "float16": np.float16,
    "uint8": np.uint8,
    "uint16": np.uint16,
}

_ACTIVATIONS = {b"Relu": "Relu", b"Relu6": "Relu6", b"Elu": "Elu", b"Sigmoid": "Sigmoid", b"Tanh": "Tanh"}


class TfjsFormatError(ValueError):
    """The files are not a TF.js graph model this loader understands."""


def read_weights(manifest: list[dict], folder: Path) -> dict[str, np.ndarray]:
    """Read and dequantise every weight listed in a TF.js weights manifest."""
    weights: dict[str, np.ndarray] = {}
    for group in manifest:
        data = b"".join((folder / p).read_bytes() for p in group["paths"])
        offset = 0
        for spec in group["weights"]:
            shape = [int(d) for d in spec["shape"]]
            count = int(np.prod(shape)) if shape else 1
            quant = spec.get("quantization")
            stored = np.dtype(_DTYPES[quant["dtype"]] if quant else _DTYPES[spec["dtype"]])
            nbytes = count * stored.itemsize
            if offset + nbytes > len(data):
                raise TfjsFormatError(f"weights file too short for {spec['name']}")
            raw = np.frombuffer(data, dtype=stored, count=count, offset=offset)
            offset += nbytes
            target = np.dtype(_DTYPES[spec["dtype"]])
            if quant and quant["dtype"] in ("uint8", "uint16"):
                value = raw.astype(np.float32) * quant["scale"] + quant["min"]
                value = value.astype(target)
            else:
                value = raw.astype(target)
            weights[spec["name"]] = value.reshape(shape)
        if offset != len(data):
            raise TfjsFormatError(f"{len(data) - offset} unused bytes in weights of {group['paths']}")
    return weights


def _split_fused(node, graph_def_cls, base_op: str):
    """Rewrite one fused conv node into base conv -> BiasAdd -> activation nodes."""
    from tensorflow.core.framework import node_def_pb2

    fused = [s for s in node.attr["fused_ops"].list.s]
    if not fused or fused[0] != b"BiasAdd" or len(fused) > 2:
        raise TfjsFormatError(f"unsupported fused ops {fused} in {node.name}")
    if node.attr["num_args"].i != 1:
        raise TfjsFormatError(f"unsupported num_args in {node.name}")
    activation = None
    if len(fused) == 2:
        activation = _ACTIVATIONS.get(fused[1])
        if activation is None:
            raise TfjsFormatError(f"unsupported activation {fused[1]!r} in {node.name}")
    data_input, filter_input, bias_input = node.input[0], node.input[1], node.input[2]

    conv = node_def_pb2.NodeDef(name=node.name + "/_conv", op=base_op, input=[data_input, filter_input])
    keep = ["T", "strides", "padding", "data_format", "dilations", "explicit_paddings"]
    if base_op == "Conv2D":
        keep.append("use_cudnn_on_gpu")
    for key in keep:
        if key in node.attr:
            conv.attr[key].CopyFrom(node.attr[key])
    bias_name = node.name if activation is None else node.name + "/_bias"
    bias = node_def_pb2.NodeDef(name=bias_name, op="BiasAdd", input=[conv.name, bias_input])
    bias.attr["T"].CopyFrom(node.attr["T"])
    if "data_format" in node.attr:
        bias.attr["data_format"].CopyFrom(node.attr["data_format"])
    out = [conv, bias]
    if activation is not None:
        act = node_def_pb2.NodeDef(name=node.name, op=activation, input=[bias.name])
        act.attr["T"].CopyFrom(node.attr["T"])
        out.append(act)
    return out


def load_graph_def(model_json: str | os.PathLike):
    """Load a TF.js graph model into a standard TensorFlow ``GraphDef``.

    Returns ``(graph_def, input_names, output_names)`` where the names are tensor
    names such as ``"input:0"``.
    """
    from google.protobuf import json_format


    tf = tensorflow()

    path = Path(model_json)
    model = json.loads(path.read_text())
    if model.get("format") != "graph-model" or "modelTopology" not in model:
        raise TfjsFormatError(f"{path.name} is not a TF.js graph model")
    weights = read_weights(model["weightsManifest"], path.parent)

    source = tf.compat.v1.GraphDef()
    topology = {k: v for k, v in model["modelTopology"].items() if k in ("node", "versions", "library")}
    json_format.ParseDict(topology, source, ignore_unknown_fields=True)

    graph_def = tf.compat.v1.GraphDef()
    graph_def.versions.CopyFrom(source.versions)
    graph_def.library.CopyFrom(source.library)
    for node in source.node:
        if node.op == "Const" and node.name in weights:
            value = weights.pop(node.name)
            node.attr["value"].tensor.CopyFrom(tf.make_tensor_proto(value))
            node.attr["dtype"].type = node.attr["value"].tensor.dtype
        node.ClearField("device")
        if node.op == "_FusedConv2D":
            graph_def.node.extend(_split_fused(node, tf.compat.v1.GraphDef, "Conv2D"))
        elif node.op == "FusedDepthwiseConv2dNative":
            graph_def.node.extend(_split_fused(node, tf.compat.v1.GraphDef, "DepthwiseConv2dNative"))
        else:
            graph_def.node.append(node)
    if weights:
        raise TfjsFormatError(f"weights without a node: {sorted(weights)[:3]}")

    signature = model.get("signature") or {}
    inputs = [v["name"] for v in signature.get("inputs", {}).values()]
    outputs = [v["name"] for v in signature.get("outputs", {}).values()]
    if not inputs or not outputs:
        inputs = [n.name + ":0" for n in graph_def.node if n.op == "Placeholder"]
        outputs = ["Identity:0"]
    return graph_def, inputs, outputs


def to_function(graph_def, input_name: str, output_name: str):
    """Import a ``GraphDef`` and return a concrete function ``input -> output``."""

    tf = tensorflow()

    def _import():
        tf.compat.v1.import_graph_def(graph_def, name="")

    wrapped = tf.compat.v1.wrap_function(_import, [])
    graph = wrapped.graph
    return wrapped.prune(graph.as_graph_element(input_name), graph.as_graph_element(output_name))


def to_saved_model(graph_def, input_name: str, output_name: str, export_dir: str | os.PathLike) -> None:
    """Write the graph as a SavedModel with a TF Hub-style ``serving_default`` signature."""

    tf = tensorflow()

    fn = to_function(graph_def, input_name, output_name)
    shape = fn.inputs[0].shape

    class _MoveNet(tf.Module):
        def __init__(self):
            super().__init__()
            self._fn = fn

        @tf.function(input_signature=[tf.TensorSpec(shape, tf.int32, name="input")])
        def serve(self, input):  # noqa: A002 - the name is the signature's input key
            return {"output_0": self._fn(input)}

    module = _MoveNet()
    tf.saved_model.save(module, str(export_dir), signatures={"serving_default": module.serve})


def _const_value(nodes: dict, name: str):

    node = nodes.get(name.split(":")[0].lstrip("^"))
    if node is None or node.op != "Const":
        return None
    return tensorflow().make_ndarray(node.attr["value"].tensor)


def expand_new_axis_slices(graph_def):
    """Rewrite ``StridedSlice`` nodes that only insert new axes into ``ExpandDims`` chains.

    MultiPose builds broadcast grids with ``x[:, :, tf.newaxis]``-style slices of
    dynamically shaped tensors, which the TFLite converter cannot lower to builtin
    ops. Such a slice takes every element and adds axes, so ``ExpandDims`` at each
    new-axis position computes the same tensor.
    """
    from tensorflow.core.framework import node_def_pb2


    tf = tensorflow()
    nodes = {n.name: n for n in graph_def.node}
    out = tf.compat.v1.GraphDef()
    out.versions.CopyFrom(graph_def.versions)
    out.library.CopyFrom(graph_def.library)
    for node in graph_def.node:
        new_axes = node.attr["new_axis_mask"].i if node.op == "StridedSlice" else 0
        if not new_axes or node.attr["ellipsis_mask"].i or node.attr["shrink_axis_mask"].i:
            out.node.append(node)
            continue
        strides = _const_value(nodes, node.input[3])
        if strides is None or not np.all(strides == 1):
            out.node.append(node)
            continue
        rank = len(strides)
        full = (node.attr["begin_mask"].i & node.attr["end_mask"].i) | new_axes
        if full != (1 << rank) - 1:
            out.node.append(node)
            continue
        current = node.input[0]
        positions = [i for i in range(rank) if new_axes >> i & 1]
        for k, axis in enumerate(positions):
            name = node.name if k == len(positions) - 1 else f"{node.name}/_expand{k}"
            const = node_def_pb2.NodeDef(name=f"{node.name}/_axis{k}", op="Const")
            const.attr["dtype"].type = tf.int32.as_datatype_enum
            const.attr["value"].tensor.CopyFrom(tf.make_tensor_proto(np.int32(axis)))
            expand = node_def_pb2.NodeDef(name=name, op="ExpandDims", input=[current, const.name])
            expand.attr["T"].CopyFrom(node.attr["T"])
            expand.attr["Tdim"].type = tf.int32.as_datatype_enum
            out.node.extend([const, expand])
            current = name
    return out


# -- the graph cut before MoveNet's own decoding ------------------------------------------------

# The heads' last convolutions, by the name of the head; MoveNet's decoding starts after them.
_HEAD = re.compile(r"(?:^|/)(kpt_heatmap|center|kpt_regress|kpt_offset|box_scale|box_offset)_0/conv2d_\d+/BiasAdd$")
# The channels of the cut graph's one output, in order: sigmoid keypoint heatmaps (17), sigmoid
# centre heatmap (1), regression from the centre to each keypoint (17 x (dy, dx)), offsets of each
# keypoint within its cell (17 x (dy, dx)); MultiPose adds box scale (2) and box offset (2).
HEAD_ORDER = ("kpt_heatmap", "center", "kpt_regress", "kpt_offset", "box_scale", "box_offset")
HEADS_OUTPUT = "movenet_heads"


def head_tensors(graph_def) -> dict[str, str]:
    """The tensor name of each head's last convolution (before any sigmoid), by head name."""
    found = {}
    for node in graph_def.node:
        match = _HEAD.search(node.name)
        if match:
            if match.group(1) in found:
                raise TfjsFormatError(f"two {match.group(1)} heads in the graph")
            found[match.group(1)] = node.name + ":0"
    missing = [h for h in HEAD_ORDER[:4] if h not in found]
    if missing:
        raise TfjsFormatError(f"no {', '.join(missing)} head in the graph")
    return found


def heads_function(graph_def, input_name: str):
    """The graph cut before its decoding: a concrete function ``input -> [N, h, w, C]`` holding
    the heads in :data:`HEAD_ORDER` (heatmaps through the graph's own sigmoid)."""
    tf = tensorflow()
    heads = head_tensors(graph_def)

    def _import():
        tf.compat.v1.import_graph_def(graph_def, name="")
        graph = tf.compat.v1.get_default_graph()
        parts = [graph.get_tensor_by_name(heads[h]) for h in HEAD_ORDER if h in heads]
        parts[0], parts[1] = tf.sigmoid(parts[0]), tf.sigmoid(parts[1])
        tf.concat(parts, axis=-1, name=HEADS_OUTPUT)

    wrapped = tf.compat.v1.wrap_function(_import, [])
    graph = wrapped.graph
    return wrapped.prune(graph.as_graph_element(input_name), graph.as_graph_element(HEADS_OUTPUT + ":0"))


def _consumers(graph_def, name: str) -> list:
    return [n for n in graph_def.node if any(i.split(":")[0].lstrip("^") == name for i in n.input)]


def _skip_identities(nodes: dict, name: str):
    node = nodes[name.split(":")[0].lstrip("^")]
    while node.op == "Identity":
        node = nodes[node.input[0].split(":")[0].lstrip("^")]
    return node


def _const_input(nodes: dict, node) -> np.ndarray:
    values = [v for v in (_const_value(nodes, i) for i in node.input) if v is not None]
    if len(values) != 1:
        raise TfjsFormatError(f"{node.name}: expected one constant input")
    return values[0]


def singlepose_decoding(graph_def) -> dict[str, np.ndarray]:
    """The constants of SinglePose MoveNet's own decoding, read from its graph:

    ``centre_weight`` (h, w): what the centre heatmap is multiplied by before its arg max (the
    graph's preference for people near the middle); ``distance_bias``: added to a cell's distance
    from the regressed keypoint before the keypoint heatmap is divided by it; ``scale`` (2,): grid
    cells to normalised (y, x)."""
    nodes = {n.name: n for n in graph_def.node}
    heads = head_tensors(graph_def)
    centre_sigmoid = [n for n in _consumers(graph_def, heads["center"][:-2]) if n.op == "Sigmoid"]
    weight = [n for n in _consumers(graph_def, centre_sigmoid[0].name) if n.op == "Mul"]
    sqrt = [n for n in graph_def.node if n.op == "Sqrt"]
    bias = [n for n in _consumers(graph_def, sqrt[0].name) if n.op in ("AddV2", "Add")] if len(sqrt) == 1 else []
    outputs = [n for n in graph_def.node if n.op == "Identity" and _consumers(graph_def, n.name) == []]
    if len(weight) != 1 or len(bias) != 1 or len(outputs) != 1:
        raise TfjsFormatError("not SinglePose MoveNet's decoding")
    concat = _skip_identities(nodes, outputs[0].name)  # rows of (y, x) * scale, then the scores
    scale = _skip_identities(nodes, concat.input[0])
    centre_weight = _const_input(nodes, weight[0])
    return {
        "centre_weight": centre_weight.reshape(centre_weight.shape[:2]).astype(np.float32),
        "distance_bias": np.float32(_const_input(nodes, bias[0])),
        "scale": _const_input(nodes, scale).reshape(-1)[:2].astype(np.float32),
    }
