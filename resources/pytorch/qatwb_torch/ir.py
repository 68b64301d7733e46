"""Reads the app's model IR (model.json, src-main/ir/schema.ts) and checks that the engine can train
it: the same rules as planNetwork in src-main/training/network.ts (sequential conv1d / conv2d /
linear and pooling-only passthrough layers, stride and dilation 1, no element-wise ops). Errors name the file and the field."""
import json
from dataclasses import dataclass
from typing import Optional, Tuple


class InputError(Exception):
    """Bad input from the app or the user: reported as one clear line, no traceback."""


@dataclass
class Pool:
    kind: str  # 'max' | 'avg'
    size: Tuple[int, int]
    stride: Tuple[int, int]


@dataclass
class LayerSpec:
    index: int
    name: str
    op: str
    in_channels: int
    out_channels: int
    kernel: Tuple[int, int]
    pad: int
    pool: Optional[Pool]
    flatten: bool
    activation: str
    weight_bits: int
    output_shift: int
    wide: bool
    has_bias: bool
    batch_norm: bool
    # Shapes in PyTorch terms: input (C, H, W) or (C, L), after the pool, and the output.
    in_shape: Tuple[int, ...] = ()
    pooled_shape: Tuple[int, ...] = ()
    out_shape: Tuple[int, ...] = ()
    weight_shape: Tuple[int, ...] = ()
    # tfjs layout of the weight variable ([kh, kw, in, out]; linear [h·w·c, out]) for the app's init order.
    tfjs_weight_shape: Tuple[int, ...] = ()

    @property
    def has_weights(self):
        """False for a pooling-only layer (ai8x MaxPool/AvgPool module, IR op passthrough)."""
        return self.op != "passthrough"


@dataclass
class ModelSpec:
    arch: str
    one_d: bool
    input_shape: Tuple[int, ...]
    layers: list
    avg_pool_rounding: bool


def _need(cond, where, expected, got):
    if not cond:
        raise InputError(f"{where}: expected {expected}, got {json.dumps(got)}")


def load_model(path):
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
    except (OSError, ValueError) as e:
        raise InputError(f"{path}: cannot read the model ({e})")
    return parse_model(doc, path)


def parse_model(doc, path="model.json"):
    _need(isinstance(doc, dict) and doc.get("schema") == "qatwb.model", f"{path}: schema", '"qatwb.model"', doc.get("schema") if isinstance(doc, dict) else doc)
    inp = doc.get("input")
    _need(isinstance(inp, dict), f"{path}: input", "an object", inp)
    dims = inp.get("dims")
    _need(isinstance(dims, list) and len(dims) in (1, 2) and all(isinstance(d, int) and d > 0 for d in dims), f"{path}: input.dims", "[L] or [H, W]", dims)
    channels = inp.get("channels")
    _need(isinstance(channels, int) and channels > 0, f"{path}: input.channels", "a positive integer", channels)
    one_d = len(dims) == 1
    shape = (channels, *dims)
    layers = []
    raw_layers = doc.get("layers")
    _need(isinstance(raw_layers, list) and len(raw_layers) > 0, f"{path}: layers", "a non-empty array", raw_layers)
    for i, raw in enumerate(raw_layers):
        where = f"{path}: layers[{i}] ({raw.get('name', '?')})"
        op = raw.get("op")
        if op not in ("conv1d", "conv2d", "linear", "passthrough"):
            raise InputError(f"{where}: op '{op}' is not trainable yet (conv1d, conv2d, linear and pooling-only layers are)")
        inputs = raw.get("inputs")
        if inputs is not None and inputs != [i - 1]:
            raise InputError(f"{where}: inputs {json.dumps(inputs)}: only sequential models are trainable")
        if raw.get("eltwise"):
            raise InputError(f"{where}: eltwise is not trainable yet")
        if raw.get("stride", 1) != 1 or raw.get("dilation", 1) != 1:
            raise InputError(f"{where}: stride {raw.get('stride')}/dilation {raw.get('dilation')}: only 1 is trainable")
        pool = None
        if raw.get("pool"):
            p = raw["pool"]
            _need(p.get("kind") in ("max", "avg"), f"{where}.pool.kind", '"max" or "avg"', p.get("kind"))
            size, stride = p.get("size"), p.get("stride")
            pool = Pool(p["kind"], (size[0], 1) if one_d else (size[0], size[1]), (stride[0], 1) if one_d else (stride[0], stride[1]))
        in_shape = shape
        if pool:
            if one_d:
                shape = (shape[0], (shape[1] - pool.size[0]) // pool.stride[0] + 1)
            else:
                shape = (shape[0], (shape[1] - pool.size[0]) // pool.stride[0] + 1, (shape[2] - pool.size[1]) // pool.stride[1] + 1)
        pooled = shape
        if op == "passthrough":
            # The pooled data as is: no weights, no activation, no output stage.
            layers.append(LayerSpec(
                index=i, name=str(raw.get("name")), op=op, in_channels=pooled[0], out_channels=pooled[0], kernel=(1, 1), pad=0,
                pool=pool, flatten=False, activation="none", weight_bits=raw.get("weightBits", 8), output_shift=0, wide=False,
                has_bias=False, batch_norm=False, in_shape=in_shape, pooled_shape=pooled, out_shape=shape,
            ))
            continue
        cin, cout = raw.get("inChannels"), raw.get("outChannels")
        _need(isinstance(cout, int) and cout > 0, f"{where}.outChannels", "a positive integer", cout)
        if op != "linear" and cin != pooled[0]:
            raise InputError(f"{where}: inChannels {cin} but the data has {pooled[0]} channels")
        kernel = tuple(raw.get("kernel", [1, 1]))
        pad = int(raw.get("pad", 0))
        if op == "linear":
            features = 1
            for d in pooled:
                features *= d
            if cin != pooled[0] and cin != features:
                raise InputError(f"{where}: inChannels {cin} matches neither {pooled[0]} channels nor {features} features")
            spatial = features // pooled[0]
            if not raw.get("flatten") and spatial != 1:
                raise InputError(f"{where}: linear on {'x'.join(map(str, pooled[1:]))} data needs flatten: true")
            weight_shape = (cout, features)
            tfjs_shape = (features, cout)
            shape = (cout, 1) if one_d else (cout, 1, 1)
        elif op == "conv1d":
            k = kernel[0]
            weight_shape = (cout, cin, k)
            tfjs_shape = (1, k, cin, cout)
            shape = (cout, pooled[1] + 2 * pad - k + 1)
        else:
            kh, kw = kernel
            weight_shape = (cout, cin, kh, kw)
            tfjs_shape = (kh, kw, cin, cout)
            shape = (cout, pooled[1] + 2 * pad - kh + 1, pooled[2] + 2 * pad - kw + 1)
        if any(d < 1 for d in shape):
            raise InputError(f"{where}: output size {'x'.join(map(str, shape[1:]))} is empty")
        bits = raw.get("weightBits", 8)
        _need(bits in (1, 2, 4, 8), f"{where}.weightBits", "1, 2, 4 or 8", bits)
        activation = raw.get("activation", "none")
        _need(activation in ("relu", "abs", "none"), f"{where}.activation", '"relu", "abs" or "none"', activation)
        layers.append(LayerSpec(
            index=i, name=str(raw.get("name")), op=op, in_channels=cin, out_channels=cout, kernel=kernel, pad=pad,
            pool=pool, flatten=bool(raw.get("flatten")), activation=activation, weight_bits=bits,
            output_shift=int(raw.get("outputShift", 0)), wide=raw.get("outputWidth") == 32, has_bias=bool(raw.get("hasBias")),
            batch_norm=bool(raw.get("batchNorm")),
            in_shape=in_shape, pooled_shape=pooled, out_shape=shape, weight_shape=weight_shape, tfjs_weight_shape=tfjs_shape,
        ))
    return ModelSpec(arch=str(doc.get("arch")), one_d=one_d, input_shape=(channels, *dims), layers=layers,
                     avg_pool_rounding=bool(doc.get("avgPoolRounding")))


def tfjs_to_torch(layer, values):
    """A weight in the embedded engine's variable layout → PyTorch layout (network.ts torchIndexOf)."""
    a = values.reshape(layer.tfjs_weight_shape)
    if layer.op == "linear":
        c = layer.pooled_shape[0]
        hw = a.shape[0] // c
        return a.reshape(hw, c, layer.out_channels).transpose(2, 1, 0).reshape(layer.weight_shape)
    if layer.op == "conv1d":
        return a[0].transpose(2, 1, 0)
    return a.transpose(3, 2, 0, 1)


def torch_to_tfjs(layer, values):
    """Inverse of tfjs_to_torch: PyTorch layout → the embedded engine's variable layout."""
    a = values.reshape(layer.weight_shape)
    if layer.op == "linear":
        c = layer.pooled_shape[0]
        hw = a.shape[1] // c
        return a.reshape(layer.out_channels, c, hw).transpose(2, 1, 0).reshape(layer.tfjs_weight_shape)
    if layer.op == "conv1d":
        return a.transpose(2, 1, 0)[None]
    return a.transpose(2, 3, 1, 0)
