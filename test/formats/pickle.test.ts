import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PyGlobal, readPickle } from '../../src-main/formats/pickle.ts';
import { PyCall, PyFloat, PyGlobalRef, PyTuple, writePickle } from '../../src-main/formats/pickle-write.ts';
import { pythonModules, runPython } from './python.ts';
import { gate } from '../support/fixtures.ts';

const py = gate(pythonModules('pickle'));

describe('readPickle on pickles made by CPython', () => {
  it.skipIf(py.skip)('reads protocols 2..5 of plain data the same' + py.note, () => {
    const dir = mkdtempSync(join(tmpdir(), 'pkl-'));
    runPython(`
import sys, pickle, collections
shared = [1, 2]
obj = {'none': None, 't': True, 'f': False, 'small': 5, 'neg': -70000, 'i16': 40000, 'big': 2**70, 'nbig': -(2**64),
       'float': 1.5, 'nan_free': -2.5e-300, 'str': 'héllo ✓', 'bytes': b'\\x00\\xff', 'list': [1, 'a', [2]],
       'tuple': (1, (2, 3)), 'empty': (), 'set': {3}, 'fs': frozenset([4]), 3: 'int key',
       'od': collections.OrderedDict([('b', 1), ('a', 2)]), 'shared': [shared, shared], 'long': 'x' * 300}
for p in (2, 3, 4, 5):
    with open(sys.argv[1] + '/p%d.pkl' % p, 'wb') as f:
        pickle.dump(obj, f, protocol=p)
print('{}')`, [dir]);
    for (const p of [2, 3, 4, 5]) {
      const v = readPickle(readFileSync(join(dir, `p${p}.pkl`)), `p${p}.pkl`) as Map<unknown, unknown>;
      expect(v.get('none')).toBeNull();
      expect(v.get('t')).toBe(true);
      expect(v.get('f')).toBe(false);
      expect(v.get('small')).toBe(5);
      expect(v.get('neg')).toBe(-70000);
      expect(v.get('i16')).toBe(40000);
      expect(v.get('big')).toBe(2n ** 70n);
      expect(v.get('nbig')).toBe(-(2n ** 64n));
      expect(v.get('float')).toBe(1.5);
      expect(v.get('nan_free')).toBe(-2.5e-300);
      expect(v.get('str')).toBe('héllo ✓');
      expect(Array.from(v.get('bytes') as Uint8Array)).toEqual([0, 255]);
      expect(v.get('list')).toEqual([1, 'a', [2]]);
      expect(v.get('tuple')).toEqual([1, [2, 3]]);
      expect(v.get('empty')).toEqual([]);
      expect(v.get('set')).toEqual(new Set([3]));
      expect(v.get('fs')).toEqual(new Set([4]));
      expect(v.get(3)).toBe('int key');
      expect([...(v.get('od') as Map<string, number>)]).toEqual([['b', 1], ['a', 2]]);
      const shared = v.get('shared') as unknown[][];
      expect(shared[0]).toBe(shared[1]); // memo keeps identity
      expect(v.get('long')).toBe('x'.repeat(300));
    }
  });
});

describe('writePickle', () => {
  const value = new Map<any, any>([
    ['int', 7], ['i2', 1000], ['i4', -5], ['i4b', 2 ** 31 - 1], ['long', 2 ** 40], ['nlong', -(2n ** 63n)], ['l128', 128n],
    ['float', new PyFloat(3)], ['frac', 0.1], ['s', 'ünï'], ['none', null], ['b', true],
    ['list', [1, [2]]], ['tuple', new PyTuple([1, 'x'])], ['od', new PyCall(new PyGlobalRef('collections', 'OrderedDict'), new PyTuple([]), [['k', 1]])],
  ]);
  it('round-trips through our reader', () => {
    const v = readPickle(writePickle(value)) as Map<string, unknown>;
    expect(v.get('int')).toBe(7);
    expect(v.get('i2')).toBe(1000);
    expect(v.get('i4')).toBe(-5);
    expect(v.get('i4b')).toBe(2 ** 31 - 1);
    expect(v.get('long')).toBe(2 ** 40);
    expect(v.get('nlong')).toBe(-(2n ** 63n));
    expect(v.get('l128')).toBe(128);
    expect(v.get('float')).toBe(3);
    expect(v.get('frac')).toBe(0.1);
    expect(v.get('s')).toBe('ünï');
    expect(v.get('tuple')).toEqual([1, 'x']);
    expect([...(v.get('od') as Map<string, number>)]).toEqual([['k', 1]]);
  });
  it.skipIf(py.skip)('is read by CPython pickle with the right Python types' + py.note, () => {
    const p = join(mkdtempSync(join(tmpdir(), 'pkl-')), 'w.pkl');
    writeFileSync(p, writePickle(value));
    const r = runPython(`
import sys, json, pickle
v = pickle.load(open(sys.argv[1], 'rb'))
print(json.dumps({k: [type(x).__name__, repr(x)] for k, x in v.items()}))`, [p]);
    expect(r).toEqual({
      int: ['int', '7'], i2: ['int', '1000'], i4: ['int', '-5'], i4b: ['int', '2147483647'], long: ['int', '1099511627776'],
      nlong: ['int', '-9223372036854775808'], l128: ['int', '128'], float: ['float', '3.0'], frac: ['float', '0.1'],
      s: ['str', "'ünï'"], none: ['NoneType', 'None'], b: ['bool', 'True'], list: ['list', '[1, [2]]'],
      tuple: ['tuple', "(1, 'x')"], od: ['OrderedDict', "OrderedDict([('k', 1)])"],
    });
  });
  it('keeps allowed reference-only globals as values', () => {
    const v = readPickle(writePickle(new PyGlobalRef('torch.optim.adam', 'Adam')), 'x.pkl', { references: /^torch\.optim\./ });
    expect(v).toBeInstanceOf(PyGlobal);
    expect(String(v)).toBe('torch.optim.adam.Adam');
  });
});
