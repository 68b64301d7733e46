// Child-process adapter for the link to a board and the live check (the simulator and ONNX Runtime run
// per window, so this stays off the main thread). Messages: connect {path, baud?, prepare?} → hello;
// check {req} → window events … report; stop → (the check ends early); close → closed.
import { ApiError } from '../api/contract.ts';
import { createThrottle } from '../platform/throttle.ts';
import { parentChannel } from './device-process.ts';
import { prepareCheck, type CheckInputs, type PreparedCheck } from './check-job.ts';
import { runLiveCheck } from './live-check.ts';
import { DeviceSession } from './session.ts';

export interface CheckRequest extends CheckInputs {
  windows?: number;
  saveDir?: string;
}

export type LinkRequest =
  | { type: 'connect'; path: string; baud?: number; prepare?: CheckInputs }
  | { type: 'check'; req: CheckRequest }
  | { type: 'stop' }
  | { type: 'close' };

let session: DeviceSession | null = null;
let abort: AbortController | null = null;
const post = (m: unknown) => parentChannel.post(m);
const fail = (e: unknown, during: string) =>
  post({ type: 'error', during, code: e instanceof ApiError ? e.code : 'device', message: (e as Error).message ?? String(e) });

/** What connect read ahead for the check it announced (so a bad file is named before the port is opened). */
let prepared: (PreparedCheck & { key: string }) | null = null;
const keyOf = (req: CheckInputs) => JSON.stringify([req.artifacts, req.source ?? 'device', req.labels ?? null, req.raw ?? false]);

async function check(req: CheckRequest): Promise<void> {
  if (!session) throw new ApiError('not-connected', 'Connect to a device before starting a check.');
  const ready = prepared?.key === keyOf(req) ? prepared : await prepareCheck(req);
  prepared = null;
  const { runtime, source, float } = ready;
  abort = new AbortController();
  // At most ~20 windows a second reach the UI; the report carries them all.
  const pass = createThrottle(50);
  try {
    const report = await runLiveCheck({
      session, runtime, source, signal: abort.signal,
      ...(float ? { float } : {}),
      ...(req.windows ? { windows: req.windows } : {}),
      ...(req.saveDir ? { saveDir: req.saveDir } : {}),
      onWindow: (record, rolling) => {
        if (!pass()) return;
        post({ type: 'window', record, rolling: { ...rolling, sqnrDb: Number.isFinite(rolling.sqnrDb) ? rolling.sqnrDb : null } });
      },
    });
    post({ type: 'report', report });
  } finally {
    abort = null;
    await float?.close();
  }
}

parentChannel.onMessage(async (m: LinkRequest) => {
  try {
    if (m.type === 'connect') {
      await prepared?.float?.close();
      prepared = m.prepare ? { ...(await prepareCheck(m.prepare)), key: keyOf(m.prepare) } : null;
      session = await DeviceSession.open({ path: m.path, ...(m.baud ? { baud: m.baud } : {}) });
      session.onStatus((status, message) => post({ type: 'status', status, ...(message ? { message } : {}) }));
      post({ type: 'hello', hello: session.hello });
    } else if (m.type === 'check') {
      await check(m.req);
    } else if (m.type === 'stop') {
      abort?.abort();
    } else if (m.type === 'close') {
      abort?.abort();
      await prepared?.float?.close();
      prepared = null;
      await session?.close();
      session = null;
      post({ type: 'closed' });
      parentChannel.close();
    }
  } catch (e) {
    fail(e, m.type);
  }
}, async () => {
  abort?.abort();
  await session?.close();
});
