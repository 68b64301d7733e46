"""The ai8x forward pass of an IR model in PyTorch (NCHW, or NCL for 1-D data), float or QAT mode,
mirroring forward() in src-main/training/network.ts layer by layer: in-flight pooling (avg pool
clamped, or quantized in QAT), fake-quantized weights and bias, the op, BatchNorm/4 before the QAT
start, the output scale 2^shift, the activation, then the clamp (quantized in QAT)."""
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .ir import tfjs_to_torch
from .quant import Activate, AvgPoolQuant, ParamQuant

BN_EPS = 1e-5
BN_MOMENTUM = 0.05
# Batches after which the running average is the ai8x exponential one (layers/batch-norm.ts BN_SETTLED).
BN_SETTLED = round(1 / BN_MOMENTUM)


class QatNet(nn.Module):
    def __init__(self, spec, batch_norm_layers=()):
        super().__init__()
        self.spec = spec
        self.weights = nn.ParameterList()
        self.biases = nn.ParameterList()
        self.bns = nn.ModuleDict()
        for layer in spec.layers:
            # A pooling-only layer holds an empty, frozen placeholder so indices stay the layers'.
            self.weights.append(nn.Parameter(torch.zeros(layer.weight_shape if layer.has_weights else 0), requires_grad=layer.has_weights))
            # ParameterList cannot hold None: layers without bias get an empty placeholder.
            self.biases.append(nn.Parameter(torch.zeros(layer.out_channels if layer.has_bias else 0), requires_grad=layer.has_bias))
            if layer.name in batch_norm_layers:
                if layer.op == "linear":
                    raise ValueError(f"layer {layer.name}: BatchNorm applies to conv layers only")
                if not layer.has_bias:
                    raise ValueError(f"layer {layer.name}: batchNorm needs hasBias: true (ai8x asserts bias with BatchNorm)")
                cls = nn.BatchNorm1d if spec.one_d else nn.BatchNorm2d
                self.bns[str(layer.index)] = cls(layer.out_channels, eps=BN_EPS, momentum=BN_MOMENTUM)
        # Batches in each BN's running statistics, kept here too so the momentum needs no device sync.
        self.tracked = {k: 0 for k in self.bns}

    def bias(self, i):
        return self.biases[i] if self.spec.layers[i].has_bias else None

    def has_bn(self):
        return len(self.bns) > 0

    def trainable(self):
        """Parameters in the embedded engine's order: per layer weight, bias, BN γ, BN β."""
        out = []
        for i, layer in enumerate(self.spec.layers):
            if not layer.has_weights:
                continue
            out.append(self.weights[i])
            if layer.has_bias:
                out.append(self.biases[i])
            bn = self.bns[str(i)] if str(i) in self.bns else None
            if bn is not None:
                out += [bn.weight, bn.bias]
        return out

    def forward(self, x, qat=None, taps=None):
        """qat: (shifts, bits) per layer, or None for the float mode. taps: list that receives each
        layer's pre-clamp output (after output scale and activation), detached."""
        h = x
        rounding = self.spec.avg_pool_rounding
        for i, layer in enumerate(self.spec.layers):
            if layer.pool is not None:
                h = _pool(h, layer.pool, self.spec.one_d)
                if layer.pool.kind == "avg":
                    # The izer's 1-D pool path (a Conv1d's pool) ignores avg-pool rounding (fixed-point.ts avgPoolRounds).
                    h = AvgPoolQuant.apply(h, rounding and layer.op != "conv1d") if qat else h.clamp(-1.0, 127 / 128)
            if not layer.has_weights:
                # A pooling-only layer (ai8x MaxPool/AvgPool module): the pooled data as is.
                if taps is not None:
                    taps.append(h.detach())
                continue
            w = self.weights[i]
            b = self.bias(i)
            if qat:
                shift, bits = qat[0][i], qat[1][i]
                w = ParamQuant.apply(w, bits, shift)
                if b is not None:
                    b = ParamQuant.apply(b, bits, shift)
            if layer.op == "linear":
                y = F.linear(h.reshape(h.shape[0], -1), w, b)
            elif layer.op == "conv1d":
                y = F.conv1d(h, w, b, padding=layer.pad)
            else:
                y = F.conv2d(h, w, b, padding=layer.pad)
            key = str(i)
            if not qat and key in self.bns:
                bn = self.bns[key]
                if bn.training:
                    # The plain average of the batches first, then the ai8x 0.05 (layers/batch-norm.ts).
                    bn.momentum = max(BN_MOMENTUM, 1 / (self.tracked[key] + 1))
                    self.tracked[key] += 1
                y = bn(y) / 4
            out_scale = 2.0 ** qat[0][i] if qat and not layer.wide else 1.0
            if taps is not None:
                s = y.detach() if out_scale == 1 else y.detach() * out_scale
                taps.append(torch.relu(s) if layer.activation == "relu" else torch.abs(s) if layer.activation == "abs" else s)
            if qat:
                h = Activate.apply(y, layer.activation, layer.wide, out_scale)
            else:
                a = torch.relu(y) if layer.activation == "relu" else torch.abs(y) if layer.activation == "abs" else y
                h = a.clamp(-32768.0, 32768.0) if layer.wide else a.clamp(-1.0, 127 / 128)
        return h.reshape(h.shape[0], -1)

    # ---- parameters in and out (PyTorch layout, the app's FloatLayerParams) ----

    def init_like_app(self, seed, init=None):
        """PyTorch's default U(−1/√fan_in, 1/√fan_in), drawn from the app's generator in the embedded
        engine's order and layout (network.ts createVars), so both engines start from the same weights.
        A layer with a float init (init[name] = (weight, bias, bn or None)) takes it instead and draws
        nothing; its BN statistics count as settled, or fold into the weights when the layer has no BN."""
        from .rng import SeededRng

        rng = SeededRng(seed)
        init = init or {}
        with torch.no_grad():
            for i, layer in enumerate(self.spec.layers):
                key = str(i)
                if not layer.has_weights:
                    continue  # draws nothing, like createVars
                if layer.name in init:
                    w, b, bn = init[layer.name]
                    if bn is not None and key not in self.bns:
                        w, b = fold(w, b, bn)
                    self.weights[i].copy_(torch.from_numpy(np.asarray(w, dtype=np.float32).reshape(layer.weight_shape)))
                    if layer.has_bias:
                        self.biases[i].copy_(torch.from_numpy(np.asarray(b if b is not None else np.zeros(layer.out_channels), dtype=np.float32)))
                    if bn is not None and key in self.bns:
                        m = self.bns[key]
                        for t, a in ((m.weight, bn["gamma"]), (m.bias, bn["beta"]), (m.running_mean, bn["runningMean"]), (m.running_var, bn["runningVar"])):
                            t.copy_(torch.from_numpy(np.asarray(a, dtype=np.float32)))
                        m.num_batches_tracked.fill_(BN_SETTLED)
                        self.tracked[key] = BN_SETTLED
                    continue
                t = layer.tfjs_weight_shape
                fan_in = t[0] if layer.op == "linear" else t[0] * t[1] * t[2]
                bound = 1 / np.sqrt(fan_in)
                size = int(np.prod(t))
                w = ((rng.take(size) * 2 - 1) * bound).astype(np.float32)
                self.weights[i].copy_(torch.from_numpy(np.ascontiguousarray(tfjs_to_torch(layer, w))))
                if layer.has_bias:
                    b = ((rng.take(layer.out_channels) * 2 - 1) * bound).astype(np.float32)
                    self.biases[i].copy_(torch.from_numpy(b))

    def sync_tracked(self):
        """After loading BN buffers: the counters follow num_batches_tracked."""
        for k, m in self.bns.items():
            self.tracked[k] = int(m.num_batches_tracked)

    def load_params(self, params):
        """params: {name: (weight ndarray in PyTorch layout, bias ndarray or None)}."""
        with torch.no_grad():
            for i, layer in enumerate(self.spec.layers):
                if not layer.has_weights:
                    continue
                if layer.name not in params:
                    raise ValueError(f"params: no entry for layer '{layer.name}'")
                w, b = params[layer.name]
                if int(np.prod(w.shape)) != int(np.prod(layer.weight_shape)):
                    raise ValueError(f"params for {layer.name}: weight has {w.size} values, expected {int(np.prod(layer.weight_shape))}")
                self.weights[i].copy_(torch.from_numpy(np.asarray(w, dtype=np.float32).reshape(layer.weight_shape)))
                if layer.has_bias:
                    if b is None or b.size != layer.out_channels:
                        raise ValueError(f"params for {layer.name}: bias must have {layer.out_channels} values")
                    self.biases[i].copy_(torch.from_numpy(np.asarray(b, dtype=np.float32)))

    def folded_params(self):
        """{name: (weight, bias)} of the layers with weights, BN folded (ai8x /4 rule, quant/fold-batchnorm.ts), float32 numpy."""
        out = {}
        with torch.no_grad():
            for i, layer in enumerate(self.spec.layers):
                if not layer.has_weights:
                    continue
                w = self.weights[i].detach().float().cpu()
                b = self.biases[i].detach().float().cpu() if layer.has_bias else None
                key = str(i)
                if key in self.bns:
                    bn = self.bns[key]
                    factor = bn.weight.detach().cpu() / 4 / torch.sqrt(bn.running_var.detach().cpu() + BN_EPS)
                    shape = (-1,) + (1,) * (w.dim() - 1)
                    b = ((b if b is not None else torch.zeros_like(factor)) - bn.running_mean.detach().cpu()) * factor + bn.bias.detach().cpu() / 4
                    w = w * factor.reshape(shape)
                out[layer.name] = (w.numpy().astype(np.float32), None if b is None else b.numpy().astype(np.float32))
        return out

    def shift_pairs(self):
        """(weight, bias) per layer for the output shifts; (None, None) for a pooling-only layer (shift 0)."""
        return [(self.weights[i], self.bias(i)) if l.has_weights else (None, None) for i, l in enumerate(self.spec.layers)]


def _pool(h, pool, one_d):
    if one_d:
        k, s = pool.size[0], pool.stride[0]
        if k == 1 and s == 1:
            return h
        return F.max_pool1d(h, k, s) if pool.kind == "max" else F.avg_pool1d(h, k, s)
    if pool.size == (1, 1) and pool.stride == (1, 1):
        return h
    return F.max_pool2d(h, pool.size, pool.stride) if pool.kind == "max" else F.avg_pool2d(h, pool.size, pool.stride)


def fold(weight, bias, bn):
    """quant/fold-batchnorm.ts: w·(γ/4)/√(var+eps), (b−mean)·(γ/4)/√(var+eps) + β/4 (PyTorch layout)."""
    w = np.asarray(weight, dtype=np.float64)
    out = w.shape[0] if w.ndim > 1 else len(bn["gamma"])
    w = w.reshape(out, -1)
    factor = np.asarray(bn["gamma"], dtype=np.float64) / 4 / np.sqrt(np.asarray(bn["runningVar"], dtype=np.float64) + BN_EPS)
    b = np.asarray(bias, dtype=np.float64) if bias is not None else np.zeros(out)
    nb = (b - np.asarray(bn["runningMean"], dtype=np.float64)) * factor + np.asarray(bn["beta"], dtype=np.float64) / 4
    return (w * factor[:, None]).astype(np.float32).ravel(), nb.astype(np.float32)
