// A synthetic, imbalanced fall-detection set (the recipe users bring: 2 classes, falls rare):
// 1-D accelerometer magnitude windows of 64 samples. ADL: walking-like oscillation with noise.
// Fall: the same, then an impact peak somewhere and stillness after it — a small share of windows.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { seededRng } from '../../src-main/data/random.ts';

export const FALL_WINDOW = 64;

/** Writes the set as CSV (64 feature columns, then the label "adl"/"fall") and returns its path. */
export function writeFallCsv(options: { count?: number; fallShare?: number; seed?: number; impact?: number } = {}): string {
  const { count = 400, fallShare = 0.12, seed = 7, impact = 0.9 } = options;
  const rng = seededRng(seed);
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    const fall = rng() < fallShare;
    const phase = rng() * Math.PI * 2;
    const freq = 0.25 + rng() * 0.15;
    const at = 16 + Math.floor(rng() * 32);
    const row: string[] = [];
    for (let t = 0; t < FALL_WINDOW; t++) {
      let v = 1 + 0.3 * Math.sin(freq * t + phase) + 0.15 * (rng() - 0.5);
      if (fall && t >= at) v = t - at < 3 ? 1 + impact * (1 - (t - at) / 3) + 0.1 * rng() : 0.95 + 0.05 * (rng() - 0.5);
      row.push(v.toFixed(4));
    }
    row.push(fall ? 'fall' : 'adl');
    lines.push(row.join(','));
  }
  const dir = mkdtempSync(join(tmpdir(), 'qatwb-fall-'));
  const file = join(dir, 'falls.csv');
  writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(writeFallCsv({ count: Number(process.argv[2] ?? 400) }));
