// Starts `qatwb virtual-device` as a real child process for tests and stops it cleanly.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../../bin/qatwb.mjs', import.meta.url));

export interface VdProcess {
  child: ChildProcess;
  path: string;
  pts: string;
  /** SIGTERM, wait for exit, return the stats the device printed. */
  stop(): Promise<Record<string, unknown>>;
}

export async function startVirtualDevice(args: string[]): Promise<VdProcess> {
  const child = spawn(process.execPath, [CLI, 'virtual-device', '--json', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr!.on('data', (b: Buffer) => (err += b.toString()));
  const ready = await new Promise<{ path: string; pts: string }>((resolve, reject) => {
    child.stdout!.on('data', (b: Buffer) => {
      out += b.toString();
      const nl = out.indexOf('\n');
      if (nl >= 0) resolve(JSON.parse(out.slice(0, nl)) as { path: string; pts: string });
    });
    child.once('exit', (code) => reject(new Error(`virtual-device exited (${code}): ${err}`)));
  });
  return {
    child,
    ...ready,
    stop: () => new Promise((resolve) => {
      child.once('exit', () => {
        const m = /virtual-device stats (\{.*\})/.exec(err);
        resolve(m ? (JSON.parse(m[1]!) as Record<string, unknown>) : {});
      });
      child.kill('SIGTERM');
    }),
  };
}
