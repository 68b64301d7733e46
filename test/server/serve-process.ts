// Starts a real `qatwb serve` child process (bin/qatwb.mjs, as a user would) on a free port with a
// temp state dir, and reads the one line it prints with the URL. Shared by the server and e2e tests.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface ServeProcess {
  url: string;
  origin: string;
  port: number;
  token: string;
  stateDir: string;
  /** Everything the process printed, for failure messages. */
  output(): string;
  stop(): Promise<void>;
  /** Ends the process with this signal (SIGKILL: a crash, nothing gets to clean up). */
  kill(signal: NodeJS.Signals): Promise<void>;
}

const repo = fileURLToPath(new URL('../..', import.meta.url));

export async function startServe(extraArgs: string[] = []): Promise<ServeProcess> {
  const stateDir = mkdtempSync(join(tmpdir(), 'qatwb-serve-'));
  const child: ChildProcess = spawn(process.execPath, ['bin/qatwb.mjs', 'serve', '--state-dir', stateDir, ...extraArgs], {
    cwd: repo,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, QATWB_STATE_DIR: stateDir },
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`qatwb serve printed no URL in 30 s:\n${out}`)), 30_000);
    const check = () => {
      const m = /http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]+/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[0]);
      }
    };
    child.stdout!.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`qatwb serve exited with ${code}:\n${out}`));
    });
  });
  const kill = (signal: NodeJS.Signals) =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill(signal);
    });
  const parsed = new URL(url);
  return {
    url,
    origin: parsed.origin,
    port: Number(parsed.port),
    token: parsed.searchParams.get('token')!,
    stateDir,
    output: () => out,
    stop: () => kill('SIGTERM'),
    kill,
  };
}
