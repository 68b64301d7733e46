"""Per-layer range statistics of an epoch, the same figures as src-main/training/range-stats.ts:
weights after the 2^−shift scaling on the b-bit grid, activation range before the clamp, clipped
shares and 32-bin histograms (values outside land in the end bins)."""
import math

import numpy as np

from .quant import grid_max, output_shifts_np

BINS = 32


def histogram(values, lo, hi):
    width = (hi - lo) / BINS or 1.0
    v = np.asarray(values, dtype=np.float64)
    idx = np.clip(np.floor((v - lo) / width), 0, BINS - 1).astype(np.int64) if v.size else np.zeros(0, dtype=np.int64)
    counts = np.bincount(idx, minlength=BINS)[:BINS]
    return {"edges": [lo + i * width for i in range(BINS + 1)], "counts": [int(c) for c in counts]}


def activation_stats(values, wide):
    v = np.asarray(values, dtype=np.float32).ravel()
    lo, hi = (-32768.0, 32768.0) if wide else (-1.0, 127 / 128)
    if v.size == 0:
        return {"min": 0.0, "max": 0.0, "histogram": histogram(v, -1.0, 1.0), "clippedShare": 0.0}
    mn, mx = float(v.min()), float(v.max())
    rng = (min(mn, 0.0), max(mx, 0.0)) if wide else (-1.0, 1.0)
    clipped = int(np.count_nonzero((v < lo) | (v > hi)))
    return {"min": mn, "max": mx, "histogram": histogram(v, rng[0], rng[1]), "clippedShare": clipped / v.size}


def _finite(v):
    return v if math.isfinite(v) else (0.0 if math.isnan(v) else v)


def layer_range_stats(layer, weight, bias, bits, shift_quantile, activation):
    shift = output_shifts_np(weight, bias, shift_quantile)
    allv = np.concatenate([weight.ravel(), bias.ravel()]) if bias is not None else weight.ravel()
    allv = allv.astype(np.float32)
    scale = np.float32(2.0 ** -shift)
    grid = np.float32(2.0 ** (bits - 1))
    scaled = allv * scale
    q = np.floor(allv * scale * grid + np.float32(0.5)) / grid
    clipped = int(np.count_nonzero((q < -1) | (q > grid_max(bits))))
    return {
        "layer": layer.name,
        "weightMin": float(allv.min()) if allv.size else math.inf,
        "weightMax": float(allv.max()) if allv.size else -math.inf,
        "weightHistogram": histogram(scaled, -1.0, 1.0),
        "activationMin": activation["min"] if activation else 0.0,
        "activationMax": activation["max"] if activation else 0.0,
        "activationHistogram": activation["histogram"] if activation else {"edges": [], "counts": []},
        "clippedShare": activation["clippedShare"] if activation else 0.0,
        "weightClippedShare": clipped / allv.size if allv.size else 0.0,
        "outputShift": shift,
        "weightBits": bits,
    }
