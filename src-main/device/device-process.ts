// Starts a device-side module (link.process.ts, virtual-device.process.ts) as a child process
// with an IPC channel. Not a worker thread: serialport's native binding crashes V8 when it is
// loaded in more than one thread of a process ("Entering the V8 API without proper locking").
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export function startDeviceProcess(moduleUrl: URL): ChildProcess {
  const file = fileURLToPath(moduleUrl);
  return fork(file, [], {
    // A .ts module (source checkout, tests, CLI) runs through tsx; a bundled .js runs as is.
    execArgv: file.endsWith('.ts') ? ['--import', 'tsx'] : [],
    // Inside Electron, process.execPath is the app; this makes it behave as plain Node.
    env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
    serialization: 'advanced',
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
}

/** The child's side of the channel. */
export const parentChannel = {
  post(m: unknown): void {
    process.send?.(m);
  },
  /** `cleanup` runs before exit when the parent goes away or sends SIGTERM (ptys, socat, ports). */
  onMessage(cb: (m: never) => void, cleanup: () => Promise<void> = async () => {}): void {
    process.on('message', cb as (m: unknown) => void);
    let leaving = false;
    const leave = () => {
      if (leaving) return;
      leaving = true;
      void cleanup().catch(() => {}).finally(() => process.exit(0));
    };
    process.on('disconnect', leave);
    process.on('SIGTERM', leave);
    process.on('SIGINT', leave);
  },
  close(): void {
    process.disconnect?.();
  },
};
