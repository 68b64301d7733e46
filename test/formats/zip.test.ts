import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from '../../src-main/formats/crc32.ts';
import { FormatError } from '../../src-main/formats/format-error.ts';
import { readZip, writeZip } from '../../src-main/formats/zip.ts';
import { pythonModules, runPython } from './python.ts';
import { gate } from '../support/fixtures.ts';
import { CONFORMANCE } from '../support/fixtures.ts';

const CKPTS = ['mnist-qat8', 'mnist-extrasmall', 'ecg1d-mixed'].map((d) => `${CONFORMANCE}/${d}/checkpoint.pth.tar`);
const py = gate(pythonModules('zipfile', 'zlib'));

function expectFormatError(fn: () => unknown, file: string, field: RegExp, msg?: RegExp): FormatError {
  let err: unknown;
  try { fn(); } catch (e) { err = e; }
  expect(err).toBeInstanceOf(FormatError);
  const fe = err as FormatError;
  expect(fe.file).toBe(file);
  expect(fe.field).toMatch(field);
  expect(fe.message.startsWith(`${file}: ${fe.field}: expected `)).toBe(true);
  if (msg) expect(fe.message).toMatch(msg);
  return fe;
}

describe('crc32', () => {
  it('matches the standard check value and chains', () => {
    const b = new TextEncoder().encode('123456789');
    expect(crc32(b)).toBe(0xcbf43926);
    expect(crc32(b.subarray(4), crc32(b.subarray(0, 4)))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
  });
});

describe('readZip', () => {
  it.skipIf(py.skip)('reads every entry of the fixture checkpoints exactly as python zipfile does' + py.note, () => {
    const ref = runPython(`
import sys, json, zipfile, zlib
out = {}
for p in sys.argv[1:]:
    z = zipfile.ZipFile(p)
    out[p] = [[i.filename, i.file_size, zlib.crc32(z.read(i))] for i in z.infolist()]
print(json.dumps(out))`, CKPTS);
    for (const p of CKPTS) {
      const z = readZip(readFileSync(p), p);
      expect([...z].map(([n, d]) => [n, d.length, crc32(d)]), p).toEqual(ref[p]);
    }
  });
});

describe('writeZip', () => {
  const entries = [
    { name: 'archive/data.pkl', data: new TextEncoder().encode('hello pickle') },
    { name: 'archive/data/0', data: Uint8Array.from({ length: 1000 }, (_, i) => (i * 7) & 255) },
    { name: 'archive/data/1', data: new Uint8Array(0) },
    { name: 'archive/version', data: new TextEncoder().encode('3\n') },
  ];
  it('round-trips and aligns every entry to 64 bytes', () => {
    const bytes = writeZip(entries);
    const z = readZip(bytes);
    expect([...z.keys()]).toEqual(entries.map((e) => e.name));
    for (const e of entries) {
      const d = z.get(e.name)!;
      expect(Array.from(d)).toEqual(Array.from(e.data));
      expect(d.byteOffset % 64, e.name).toBe(0);
    }
  });
  it.skipIf(py.skip)('writes archives python zipfile accepts (CRC checked by testzip)' + py.note, () => {
    const p = join(mkdtempSync(join(tmpdir(), 'zip-')), 'a.zip');
    writeFileSync(p, writeZip(entries));
    const r = runPython(`
import sys, json, zipfile
z = zipfile.ZipFile(sys.argv[1])
print(json.dumps({'bad': z.testzip(), 'names': z.namelist(), 'v': z.read('archive/version').decode()}))`, [p]);
    expect(r).toEqual({ bad: null, names: entries.map((e) => e.name), v: '3\n' });
  });
});

describe('readZip refuses malformed archives', () => {
  const good = writeZip([{ name: 'a/data.pkl', data: new Uint8Array([1, 2, 3, 4]) }, { name: 'a/version', data: new Uint8Array([51]) }]);
  it('wrong magic (not a zip)', () => {
    expectFormatError(() => readZip(new TextEncoder().encode('\x93NUMPY this is not a zip archive at all'), 'c.pth.tar'),
      'c.pth.tar', /^end-of-central-directory$/, /zip archive/);
  });
  it('truncated archive (cut in the middle)', () => {
    expectFormatError(() => readZip(good.subarray(0, good.length >> 1), 'c.pth.tar'), 'c.pth.tar', /end-of-central-directory/);
  });
  it('truncated central directory (EOCD kept, bytes before it gone)', () => {
    const eocd = good.subarray(good.length - 22);
    expectFormatError(() => readZip(eocd, 'c.pth.tar'), 'c.pth.tar', /central-directory/, /truncated/);
  });
  it('bad CRC (one data byte flipped)', () => {
    const bad = good.slice();
    const at = readZip(good).get('a/data.pkl')!.byteOffset;
    bad[at] = bad[at]! ^ 0xff;
    expectFormatError(() => readZip(bad, 'c.pth.tar'), 'c.pth.tar', /^a\/data\.pkl\.crc32$/, /corrupted/);
  });
  it('bad local header signature', () => {
    const bad = good.slice();
    bad[0] = 0;
    expectFormatError(() => readZip(bad, 'c.pth.tar'), 'c.pth.tar', /^a\/data\.pkl\.local-header$/);
  });
  it.skipIf(py.skip)('deflated entry (written by python zipfile)' + py.note, () => {
    const p = join(mkdtempSync(join(tmpdir(), 'zip-')), 'd.zip');
    runPython(`
import sys, zipfile
with zipfile.ZipFile(sys.argv[1], 'w', compression=zipfile.ZIP_DEFLATED) as z:
    z.writestr('archive/data.pkl', b'x' * 1000)
print('{}')`, [p]);
    expectFormatError(() => readZip(readFileSync(p), 'd.pth.tar'), 'd.pth.tar', /^archive\/data\.pkl\.method$/, /deflated/);
  });
  it('empty file', () => {
    expectFormatError(() => readZip(new Uint8Array(0), 'e.pth.tar'), 'e.pth.tar', /end-of-central-directory/);
  });
});
