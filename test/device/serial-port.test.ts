// Port listing and diagnostics: adapters recognised by USB ID, the no-udevadm fallback, and the
// advice each OS error turns into.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { classifyPort, explainOpenError, listPorts } from '../../src-main/device/serial-port.ts';

const hasUdevadm = (() => {
  try {
    execFileSync('sh', ['-c', 'command -v udevadm']);
    return true;
  } catch {
    return false;
  }
})();

describe('serial ports', () => {
  it.each([
    [{ path: '/dev/ttyACM0', vendorId: '0D28', productId: '0204' }, 'max32625pico', /MAX32625PICO \(DAPLink\) — \/dev\/ttyACM0/],
    [{ path: '/dev/ttyUSB0', vendorId: '0403', productId: '6015' }, 'ftdi', /FTDI USB-UART/],
    [{ path: '/dev/ttyACM1', vendorId: '0b6a', productId: '003c' }, 'maxim', /Maxim/],
    [{ path: '/dev/ttyACM2', vendorId: '2e8a', productId: '000a', manufacturer: 'Raspberry Pi' }, 'usb-serial', /Raspberry Pi — \/dev\/ttyACM2/],
    [{ path: '/dev/ttyS0' }, 'unknown', /serial port — \/dev\/ttyS0/],
  ])('classifies %j', (port, kind, label) => {
    const p = classifyPort(port);
    expect(p.kind).toBe(kind);
    expect(p.label).toMatch(label);
  });

  it.skipIf(hasUdevadm)('without udevadm, listing answers with advice to type the path instead of failing' + (hasUdevadm ? ' [skipped: optional, runs only where udevadm is absent]' : ''), async () => {
    const r = await listPorts();
    expect(r.ports).toEqual([]);
    expect(r.warning).toMatch(/udevadm is not installed.*Type the port path by hand/);
  });

  it.each([
    [Object.assign(new Error('Error: No such file or directory, cannot open /dev/ttyACM9'), { code: 'ENOENT' }), 'port-not-found', /does not exist/],
    [new Error('Error: Permission denied, cannot open /dev/ttyACM0'), 'port-permission', /dialout/],
    [new Error('Error Resource temporarily unavailable Cannot lock port'), 'port-busy', /in use by another program/],
    [new Error('Error: Input/output error'), 'port-open-failed', /Could not open serial port \/dev\/x: Error: Input\/output error/],
  ])('explains %s', (error, code, message) => {
    const e = explainOpenError('/dev/x', error);
    expect(e.code).toBe(code);
    expect(e.message).toMatch(message);
    expect(e.field).toBe('path');
  });
});
