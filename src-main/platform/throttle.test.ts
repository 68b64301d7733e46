import { describe, expect, it } from 'vitest';
import { createThrottle } from './throttle.ts';

describe('createThrottle', () => {
  it('lets one update through per interval and every must-deliver one', () => {
    let t = 1000;
    const pass = createThrottle(50, () => t);
    const seen: string[] = [];
    const at = (ms: number, what: string, must = false) => {
      t = ms;
      if (pass(must)) seen.push(what);
    };
    at(1000, 'a');
    at(1010, 'b');
    at(1020, 'epoch', true);
    at(1030, 'c');
    at(1070, 'd');
    at(1071, 'last', true);
    at(1200, 'e');
    expect(seen).toEqual(['a', 'epoch', 'd', 'last', 'e']);
  });
});
