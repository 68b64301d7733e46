"""Fake quantization with the clipped straight-through estimator (max78002.md §1.7–§1.10), written to
round exactly like src-main/quant/fake-quant.ts and the embedded engine's ops
(src-main/training/fake-quant.ts): float32, floor(x·s + 0.5)/s, clamps with inclusive bounds. The
gradient passes where the rounded value lies inside the clamp range."""
import math

import numpy as np
import torch


def grid_max(bits):
    scale = 2 ** (bits - 1)
    return (scale - 1) / scale


class ParamQuant(torch.autograd.Function):
    """clamp(q_bits(w·2^−shift)); dL/dw = dy·2^−shift inside the clamp."""

    @staticmethod
    def forward(ctx, w, bits, shift):
        weight_scale = 2.0 ** -shift
        grid = 2.0 ** (bits - 1)
        hi = grid_max(bits)
        q = torch.floor(w * (weight_scale * grid) + 0.5) / grid
        ctx.save_for_backward((q >= -1) & (q <= hi))
        ctx.weight_scale = weight_scale
        return q.clamp(-1.0, hi)

    @staticmethod
    def backward(ctx, dy):
        (mask,) = ctx.saved_tensors
        return dy * mask * ctx.weight_scale, None, None


class Activate(torch.autograd.Function):
    """QAT output stage: y·outScale → activation → round to 1/128 (wide: 2^−14) → clamp."""

    @staticmethod
    def forward(ctx, y, activation, wide, out_scale):
        lo, hi, step = (-32768.0, 32768.0, 16384.0) if wide else (-1.0, 127 / 128, 128.0)
        scaled = y if out_scale == 1 else y * out_scale
        if activation == "relu":
            a = torch.relu(scaled)
        elif activation == "abs":
            a = torch.abs(scaled)
        else:
            a = scaled
        q = torch.floor(a * step + 0.5) / step
        if activation == "relu":
            mask = (scaled > 0) & (q <= hi)
            ctx.save_for_backward(mask)
        elif activation == "abs":
            ctx.save_for_backward(((q >= lo) & (q <= hi)) * torch.sign(scaled))
        else:
            ctx.save_for_backward((q >= lo) & (q <= hi))
        ctx.out_scale = out_scale
        return q.clamp(lo, hi)

    @staticmethod
    def backward(ctx, dy):
        (mask,) = ctx.saved_tensors
        g = dy * mask
        return (g if ctx.out_scale == 1 else g * ctx.out_scale), None, None, None


class AvgPoolQuant(torch.autograd.Function):
    """Average-pool output in QAT: truncated toward zero at 1/128 (ai8x FloorQat: floor for positive,
    ceil for negative means, as the accelerator computes), or rounded half away from zero (as the
    izer computes it) where the layer's pool rounds; then clamp."""

    @staticmethod
    def forward(ctx, v, rounding):
        scaled = v * 128.0
        q = (torch.sign(scaled) * torch.floor(scaled.abs() + 0.5) if rounding else torch.trunc(scaled)) / 128.0
        ctx.save_for_backward((q >= -1) & (q <= 127 / 128))
        return q.clamp(-1.0, 127 / 128)

    @staticmethod
    def backward(ctx, dy):
        (mask,) = ctx.saved_tensors
        return dy * mask, None


def shift_from_limit(limit):
    """−floor(log2(1/limit)) clamped to [−15, 15], evaluated like quant/output-shift.ts (float32 steps)."""
    limit = float(np.float32(limit))
    if limit == 0:
        return -15
    inv = float(np.float32(1.0 / limit))
    shift = -math.floor(float(np.float32(math.log2(inv))))
    return int(min(max(shift, -15), 15))


def quantile_sorted(values, q):
    """Linear interpolation between order statistics (quant/output-shift.ts quantile), float64."""
    n = len(values)
    if n == 0:
        return 0.0
    pos = q * (n - 1)
    lo = int(math.floor(pos))
    hi = min(lo + 1, n - 1)
    return float(values[lo] + (values[hi] - values[lo]) * (pos - lo))


def output_shifts(pairs, shift_quantile):
    """Output shift per layer from its float weights and bias (ai8x recomputes it every forward); 0 for a
    pooling-only layer ((None, None)), like the embedded engine."""
    weighted = [(w, b) for w, b in pairs if w is not None]
    if shift_quantile >= 1:
        # One stack and one transfer for all layers (a device sync per layer would cost every batch).
        limits = iter(torch.stack([
            torch.maximum(w.detach().abs().max(), b.detach().abs().max()) if b is not None else w.detach().abs().max()
            for w, b in weighted
        ]).tolist()) if weighted else iter(())
        return [shift_from_limit(next(limits)) if w is not None else 0 for w, _ in pairs]
    out = []
    for w, b in pairs:
        if w is None:
            out.append(0)  # a pooling-only layer
            continue
        parts = [w.detach().flatten()] + ([b.detach().flatten()] if b is not None else [])
        a = np.sort(np.abs(torch.cat(parts).float().cpu().numpy()).astype(np.float64))
        out.append(shift_from_limit(quantile_sorted(a, shift_quantile)))
    return out


def output_shifts_np(weight, bias, shift_quantile):
    """output_shifts for one layer's numpy arrays (statistics and exports)."""
    parts = [np.abs(weight.ravel())] + ([np.abs(bias.ravel())] if bias is not None else [])
    a = np.concatenate(parts).astype(np.float32)
    if shift_quantile >= 1:
        return shift_from_limit(float(a.max()) if a.size else 0.0)
    return shift_from_limit(quantile_sorted(np.sort(a.astype(np.float64)), shift_quantile))
