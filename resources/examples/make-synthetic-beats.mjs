// Writes synthetic-beats.csv: a small, deterministic, MIT-BIH-shaped heartbeat CSV (187 values in
// [0, 1] per row, class label last, no header) for trying CSV import and the 1-D network without a
// download. Synthetic: five waveform families (narrow / wide / inverted / double-peaked / flat-ish
// beats) with seeded noise and jitter. Not medical data. Run: node make-synthetic-beats.mjs
import { writeFileSync } from 'node:fs';

let s = 12345;
const rnd = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 4294967296);
const gauss = (t, mu, sigma) => Math.exp(-((t - mu) ** 2) / (2 * sigma * sigma));
const L = 187;
const rows = [];
for (let i = 0; i < 300; i++) {
  const cls = i % 5;
  const shift = (rnd() - 0.5) * 10;
  const amp = 0.8 + rnd() * 0.2;
  const v = [];
  for (let t = 0; t < L; t++) {
    const c = 40 + shift;
    let y;
    if (cls === 0) y = amp * gauss(t, c, 3) + 0.15 * gauss(t, c + 60, 10);
    else if (cls === 1) y = amp * gauss(t, c, 9) + 0.1 * gauss(t, c + 70, 12);
    else if (cls === 2) y = 0.6 - 0.55 * amp * gauss(t, c, 4) + 0.1 * gauss(t, c + 55, 10);
    else if (cls === 3) y = 0.7 * amp * gauss(t, c, 3) + 0.7 * amp * gauss(t, c + 25, 3);
    else y = 0.3 + 0.2 * Math.sin((t + shift) / 9) * amp;
    y += (rnd() - 0.5) * 0.06;
    v.push(Math.min(1, Math.max(0, y)).toFixed(4));
  }
  rows.push([...v, cls.toFixed(1)].join(','));
}
writeFileSync(new URL('./synthetic-beats.csv', import.meta.url), rows.join('\n') + '\n');
