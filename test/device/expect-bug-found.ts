// What every "bug injected at layer L" check asserts of its report, whatever the device (virtual
// device, compiled firmware) and however the windows arrive: no window is bit-exact, and each
// divergence the search followed up was found by the CRC search at that layer, every value of the
// layer wrong from its first one on, with nothing lost on the link.
import { expect } from 'vitest';
import type { CheckReport } from '../../src-main/device/live-check.ts';

export interface InjectedBug {
  layer: number;
  name: string;
  /** Values in that layer's output: the injected bug changes every one. */
  values: number;
  /** How many divergences the check was asked to follow up. */
  divergences: number;
}

/** Asserts the shared part and returns the divergences for what a test checks beyond it. */
export function expectBugFound(report: CheckReport, bug: InjectedBug): CheckReport['divergences'] {
  expect(report.bitExactRate).toBe(0);
  expect(report.divergences.length).toBe(bug.divergences);
  for (const d of report.divergences) {
    expect(d.status, d.note).toBe('found');
    expect(d.layer).toBe(bug.layer);
    expect(d.name).toBe(bug.name);
    expect(d.mismatches).toBe(bug.values);
    expect(d.firstIndex).toBe(0);
    expect(d.search.method).toBe('layer-crcs');
  }
  expect(report.link.windowsLost).toBe(0);
  return report.divergences;
}
