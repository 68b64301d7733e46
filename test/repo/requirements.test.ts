// What a provisioned machine (`.ci/run`) must have for the bit-exact and real-tool suites. In strict
// mode a missing piece fails here with the install line; elsewhere each shows as a noted skip.
import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { CONFORMANCE, CONFORMANCE_CASES, STRICT, conformance, need, type Requirement } from '../support/fixtures.ts';

const required: [string, () => Requirement][] = [
  ['Python', need.python],
  ['numpy', need.numpy],
  ['PyTorch', need.torch],
  ['python onnx', need.onnx],
  ['the real ai8x-synthesis', need.izer],
  ['socat (pseudo-terminals)', () => need.command('socat', 'socat')],
  ['Chromium', () => need.command('chromium', 'chromium')],
  ['arm-none-eabi-gcc', () => need.command('arm-none-eabi-gcc', 'gcc-arm-none-eabi libnewlib-arm-none-eabi')],
];

describe('test requirements', () => {
  it('the conformance fixtures are in the repository', () => {
    for (const c of CONFORMANCE_CASES) {
      for (const f of ['checkpoint.pth.tar', 'network.yaml', 'sample.input.npy', 'sample.expected.npy', 'resources.json']) {
        expect(existsSync(conformance(c, f)), `${c}/${f}`).toBe(true);
      }
    }
    expect(existsSync(`${CONFORMANCE}/LICENSE-ai8x-synthesis.txt`)).toBe(true);
  });

  for (const [name, check] of required) {
    const r = check();
    it.skipIf(!r.ok && !STRICT)(`${name} is installed${r.ok ? '' : ` [skipped: ${r.reason}]`}`, () => {
      expect(r.ok, r.reason).toBe(true);
    });
  }
});
