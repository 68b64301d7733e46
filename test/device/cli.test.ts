// The two commands end to end as a user runs them: `qatwb virtual-device` in one process and
// `qatwb check --json` in another, on a real pty; plus the Linux permission diagnostic.
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { createPtyPair } from '../../src-main/device/pty-pair.ts';
import { startVirtualDevice } from './virtual-device-process.ts';
import { CONFORMANCE } from '../support/fixtures.ts';

const run = promisify(execFile);
const CLI = fileURLToPath(new URL('../../bin/qatwb.mjs', import.meta.url));
const ARTIFACTS = join(CONFORMANCE, 'mnist-extrasmall');

describe('qatwb check --json against qatwb virtual-device', () => {
  it('prints the summary fields (host windows and live sensor windows)', async () => {
    const vd = await startVirtualDevice(['--artifacts', ARTIFACTS, '--sensor', 'mnist', '--rate', '200', '--fault-rate', '0.02']);
    try {
      const { stdout } = await run(process.execPath, [CLI, 'check', '--port', vd.path, '--artifacts', ARTIFACTS, '--source', 'mnist', '--windows', '200', '--json']);
      const r = JSON.parse(stdout) as Record<string, unknown>;
      for (const k of ['windows', 'bitExactRate', 'top1AgreementFloat', 'cosineMean', 'sqnrDb', 'l2r', 'maxAbsError', 'framesCorrupted', 'framesRecovered', 'windowsLost']) {
        expect(r, k).toHaveProperty(k);
      }
      expect(r.windows).toBe(200);
      expect(r.bitExactRate).toBe(1);
      expect(r.windowsLost).toBe(0);
      expect(r.top1AgreementFloat).toBeNull(); // no model.onnx in the fixture: float column absent
      expect((r.float as { note: string }).note).toMatch(/No model.onnx/);
      expect(r).not.toHaveProperty('perWindow');
      const live = JSON.parse((await run(process.execPath, [CLI, 'check', '--port', vd.path, '--artifacts', ARTIFACTS, '--windows', '30', '--json'])).stdout) as Record<string, unknown>;
      expect(live.source).toBe('device sensor');
      expect(live.windows).toBe(30);
      expect(live.bitExactRate).toBe(1);
    } finally {
      await vd.stop();
    }
  }, 60_000);

  it('with trained artifacts from qatwb train: the float column from its model.onnx', async () => {
    const out = mkdtempSync(join(tmpdir(), 'qatwb-trained-'));
    try {
      await run(process.execPath, [CLI, 'train', '--example', 'mnist', '--model', 'ai85netextrasmall', '--epochs', '2', '--qat-start', '1', '--limit', '1500', '--out', out, '--json'], { maxBuffer: 64 << 20 });
      expect(existsSync(join(out, 'model.onnx'))).toBe(true);
      const vd = await startVirtualDevice(['--artifacts', out]);
      try {
        const { stdout } = await run(process.execPath, [CLI, 'check', '--port', vd.path, '--artifacts', out, '--source', 'mnist', '--windows', '300', '--json']);
        const r = JSON.parse(stdout) as { bitExactRate: number; top1AgreementFloat: number; sqnrDb: number; l2r: number; cosineMean: number; float: { present: boolean }; rows: { name: string; accuracy: number }[]; device: { modelHashMatches: boolean } };
        expect(r.float.present).toBe(true);
        expect(r.bitExactRate).toBe(1);
        expect(r.device.modelHashMatches).toBe(true);
        // Device INT8 vs the float model on one scale: close, but not identical (quantization).
        expect(r.top1AgreementFloat).toBeGreaterThan(0.8);
        expect(r.cosineMean).toBeGreaterThan(0.98);
        expect(r.sqnrDb).toBeGreaterThan(15);
        expect(r.l2r).toBeLessThan(0.2);
        expect(r.rows.map((x) => x.name)).toEqual(['device vs labels', 'float twin vs labels', 'device vs float twin']);
      } finally {
        await vd.stop();
      }
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 180_000);

  it('exits 1 with a clear message for a silent device', async () => {
    const pair = await createPtyPair();
    try {
      const res = await run(process.execPath, [CLI, 'check', '--port', pair.hostPath, '--artifacts', ARTIFACTS, '--json']).catch((e: { code: number; stdout: string }) => e);
      expect((res as { code: number }).code).toBe(1);
      const err = JSON.parse((res as { stdout: string }).stdout) as { error: { code: string; message: string } };
      expect(err.error.code).toBe('device-silent');
      expect(err.error.message).toContain(pair.hostPath);
    } finally {
      await pair.close();
    }
  }, 30_000);
});

describe('qatwb virtual-device shutdown', () => {
  it('leaves no socat behind, even when killed with SIGKILL', async () => {
    const vd = await startVirtualDevice(['--artifacts', ARTIFACTS]);
    const dir = vd.path.slice(0, vd.path.lastIndexOf('/'));
    const socatOf = () => {
      try {
        return execFileSync('pgrep', ['-f', `socat .*${dir}/`], { encoding: 'utf8' }).trim();
      } catch {
        return '';
      }
    };
    expect(socatOf()).not.toBe('');
    vd.child.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 500));
    expect(socatOf()).toBe('');
  }, 30_000);
});

const canDropPrivileges = process.getuid?.() === 0 && existsSync('/usr/bin/setpriv');

describe('Linux permission diagnostic', () => {
  it.skipIf(!canDropPrivileges)('an unprivileged user gets the dialout advice for a root-only port' + (canDropPrivileges ? '' : ' [skipped: optional, needs root and setpriv to drop privileges]'), async () => {
    const pair = await createPtyPair(); // socat makes its ptys crw------- root
    try {
      const script = fileURLToPath(new URL('./open-port.mjs', import.meta.url));
      const out = execFileSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, script, pair.hostPath], {
        encoding: 'utf8', env: { ...process.env, HOME: '/tmp' }, cwd: fileURLToPath(new URL('.', import.meta.url)),
      });
      const r = JSON.parse(out.trim().split('\n').pop()!) as { code: string; message: string };
      expect(r.code).toBe('port-permission');
      expect(r.message).toMatch(/usermod -aG dialout/);
    } finally {
      await pair.close();
    }
  }, 30_000);
});
