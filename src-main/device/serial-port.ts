// The only file that touches serialport: list ports (recognising MAX78002 EV kit / MAX32625PICO
// USB-UARTs), open one exclusively, and turn OS errors into advice (busy, permission, missing).
import { constants as fsConstants, promises as fs } from 'node:fs';
import { SerialPort } from 'serialport';
import { ApiError } from '../api/contract.ts';

export interface PortInfo {
  path: string;
  /** What we think is on the other end, for the port picker. */
  kind: 'max32625pico' | 'maxim' | 'ftdi' | 'usb-serial' | 'unknown';
  /** One line for the picker, e.g. "MAX32625PICO (DAPLink) — /dev/ttyACM0". */
  label: string;
  vendorId?: string;
  productId?: string;
  manufacturer?: string;
  serialNumber?: string;
}

export interface PortList {
  ports: PortInfo[];
  /** Set when the OS could not be asked (no udevadm): the user must type the path. */
  warning?: string;
}

/**
 * USB IDs of the adapters a MAX78002 EV kit or a MAX78000FTHR is reached through. The PICO debug
 * adapter runs Arm DAPLink firmware and enumerates with Arm's DAPLink ID 0D28:0204 (a CDC VCOM
 * beside CMSIS-DAP); Maxim's own VID is 0B6A and ADI's is 0456.
 */
const KNOWN: { vid: string; pid?: string; kind: PortInfo['kind']; name: string }[] = [
  { vid: '0d28', pid: '0204', kind: 'max32625pico', name: 'MAX32625PICO (DAPLink)' },
  { vid: '0b6a', kind: 'maxim', name: 'Maxim USB device' },
  { vid: '0456', kind: 'maxim', name: 'Analog Devices USB device' },
  { vid: '0403', kind: 'ftdi', name: 'FTDI USB-UART' },
];

export function classifyPort(p: { path: string; vendorId?: string; productId?: string; manufacturer?: string }): PortInfo {
  const vid = p.vendorId?.toLowerCase();
  const pid = p.productId?.toLowerCase();
  const hit = KNOWN.find((k) => k.vid === vid && (!k.pid || k.pid === pid));
  const kind: PortInfo['kind'] = hit?.kind ?? (vid ? 'usb-serial' : 'unknown');
  const name = hit?.name ?? p.manufacturer ?? (vid ? `USB serial ${vid}:${pid ?? '?'}` : 'serial port');
  return { ...p, kind, label: `${name} — ${p.path}` } as PortInfo;
}

export async function listPorts(): Promise<PortList> {
  try {
    const raw = await SerialPort.list();
    const ports = raw.map((r) => classifyPort({
      path: r.path,
      ...(r.vendorId ? { vendorId: r.vendorId } : {}),
      ...(r.productId ? { productId: r.productId } : {}),
      ...(r.manufacturer ? { manufacturer: r.manufacturer } : {}),
      ...(r.serialNumber ? { serialNumber: r.serialNumber } : {}),
    }));
    const rank = (k: PortInfo['kind']): number => ['max32625pico', 'maxim', 'ftdi', 'usb-serial', 'unknown'].indexOf(k);
    ports.sort((a, b) => rank(a.kind) - rank(b.kind));
    return { ports };
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    const why = e.code === 'ENOENT' && /udevadm/.test(e.message)
      ? 'udevadm is not installed, so serial ports cannot be listed'
      : `listing serial ports failed (${e.message})`;
    return { ports: [], warning: `${why}. Type the port path by hand (e.g. /dev/ttyACM0, /dev/ttyUSB0, or a virtual device's path).` };
  }
}

/** An open serial line: bytes in, bytes out, and a close notice that says whether it was unplugged. */
export interface SerialLink {
  readonly path: string;
  write(bytes: Uint8Array): void;
  /** Resolves when everything written so far has been handed to the OS. */
  drain(): Promise<void>;
  onData(cb: (chunk: Uint8Array) => void): void;
  /** `unplugged`: the device went away (EIO/HUP), as opposed to our own close(). */
  onClose(cb: (info: { unplugged: boolean; message?: string }) => void): void;
  close(): Promise<void>;
  readonly isOpen: boolean;
}

/** Error codes the device service returns for port trouble; the UI branches on them. */
export type PortErrorCode = 'port-not-found' | 'port-busy' | 'port-permission' | 'port-open-failed';

export function explainOpenError(path: string, error: Error & { code?: string }): ApiError {
  const m = error.message ?? String(error);
  if (error.code === 'ENOENT' || /ENOENT|No such file/i.test(m)) {
    return new ApiError('port-not-found', `Serial port ${path} does not exist. Is the board plugged in, and is this the right path? (Pick it from the list or check "ls /dev/tty*".)`, 'path');
  }
  if (error.code === 'EACCES' || /EACCES|Permission denied/i.test(m)) {
    return new ApiError('port-permission', `No permission to open ${path}. On Linux add yourself to the port's group ("sudo usermod -aG dialout $USER", or the group shown by "ls -l ${path}"), then log out and back in.`, 'path');
  }
  if (/Cannot lock port|Resource temporarily unavailable|EBUSY|EAGAIN/i.test(m)) {
    return new ApiError('port-busy', `Serial port ${path} is in use by another program (a terminal such as minicom/screen, a serial monitor, or another QAT Workbench window). Close it and retry.`, 'path');
  }
  return new ApiError('port-open-failed', `Could not open serial port ${path}: ${m}`, 'path');
}

export async function openPort(path: string, baudRate: number): Promise<SerialLink> {
  try {
    await fs.access(path, fsConstants.F_OK);
  } catch (error) {
    throw explainOpenError(path, error as Error & { code?: string });
  }
  const port = new SerialPort({ path, baudRate, autoOpen: false, lock: true });
  await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(explainOpenError(path, err)) : resolve())));
  let closing = false;
  let closeCbs: ((info: { unplugged: boolean; message?: string }) => void)[] = [];
  port.on('close', (err: (Error & { disconnected?: boolean }) | null) => {
    const unplugged = !closing || Boolean(err?.disconnected);
    const info = { unplugged, ...(err ? { message: err.message } : {}) };
    for (const cb of closeCbs) cb(info);
    closeCbs = [];
  });
  // Read errors (EIO when the other end vanishes) surface as 'error' then 'close'.
  port.on('error', () => {});
  return {
    path,
    write: (bytes) => {
      if (port.isOpen) port.write(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    },
    drain: () => new Promise<void>((resolve) => (port.isOpen ? port.drain(() => resolve()) : resolve())),
    onData: (cb) => port.on('data', (b: Buffer) => cb(new Uint8Array(b.buffer, b.byteOffset, b.byteLength))),
    onClose: (cb) => closeCbs.push(cb),
    close: async () => {
      if (!port.isOpen) return;
      closing = true;
      await new Promise<void>((resolve) => port.close(() => resolve()));
    },
    get isOpen() {
      return port.isOpen;
    },
  };
}
