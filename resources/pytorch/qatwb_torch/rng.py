"""The app's seeded generator (src-main/data/random.ts, mulberry32) and Fisher-Yates shuffle.

Reproducing them exactly gives both engines the same initial weights and the same batch order for a
seed, so their runs differ only by float rounding. mulberry32's k-th output depends only on
seed + k·0x6d2b79f5, so a whole stream is computed at once with uint32 arithmetic (mod 2^32, like
the JavaScript bit operations).
"""
import numpy as np

_GOLDEN = np.uint64(0x6D2B79F5)
_MASK = np.uint64(0xFFFFFFFF)


def _imul(a, b):
    return ((a.astype(np.uint64) * b.astype(np.uint64)) & _MASK).astype(np.uint32)


class SeededRng:
    """Floats in [0, 1), the same sequence as seededRng(seed) in random.ts."""

    def __init__(self, seed):
        self.state = np.uint64(int(seed) & 0xFFFFFFFF)
        self.drawn = 0

    def take(self, n):
        k = np.arange(self.drawn + 1, self.drawn + 1 + n, dtype=np.uint64)
        self.drawn += n
        s = ((self.state + k * _GOLDEN) & _MASK).astype(np.uint32)
        t = _imul(s ^ (s >> np.uint32(15)), s | np.uint32(1))
        t = t ^ ((t.astype(np.uint64) + _imul(t ^ (t >> np.uint32(7)), t | np.uint32(61)).astype(np.uint64)) & _MASK).astype(np.uint32)
        return (t ^ (t >> np.uint32(14))).astype(np.float64) / 4294967296.0


def shuffled(values, seed):
    """shuffleInPlace(values.slice(), seededRng(seed)) of random.ts."""
    a = np.array(values, dtype=np.int64).tolist()
    n = len(a)
    if n < 2:
        return np.array(a, dtype=np.int64)
    r = SeededRng(seed).take(n - 1)
    for step, i in enumerate(range(n - 1, 0, -1)):
        j = int(r[step] * (i + 1))
        a[i], a[j] = a[j], a[i]
    return np.array(a, dtype=np.int64)
