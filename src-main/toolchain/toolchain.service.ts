// The toolchain service: implements api/toolchain.api.ts over the toolchain capability (Node edge;
// no Electron). Jobs stream each tool output line as a `log` event and report progress.
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ApiError, type CallContext, type ServiceImpl } from '../api/contract.ts';
import { EXECUTABLE_SETTINGS, type toolchainApi } from '../api/toolchain.api.ts';
import type { ServiceEnv, ToolPathChange } from '../services.ts';
import { runDoctor } from './doctor.ts';
import { buildFlow, flashFlow, replayBundle, synthesizeFlow, type FlowContext } from './flow.ts';
import { hostContext } from './locate.ts';
import { loadSettings, runSettings, saveSettings, settingsPath } from './settings.ts';
import { inspectCheckout, installIzer, IZER_UPSTREAM } from './sdk/install-izer.ts';

export function createToolchainService(env: ServiceEnv): ServiceImpl<typeof toolchainApi> {
  const locked = (fields?: string[]) =>
    `Program paths${fields ? ` (${fields.join(', ')})` : ''} cannot be changed from here: set them in the desktop app, or edit ${settingsPath(env.stateDir)}.`;
  async function flowContext(ctx: CallContext): Promise<FlowContext> {
    return {
      settings: await runSettings(env),
      signal: ctx.signal,
      onProgress: (p) => ctx.progress(p),
      onLine: (tool, line, stream) => env.emit('toolchain', 'log', { tool, stream, line }),
    };
  }
  return {
    async ping() {
      return { ok: true as const };
    },
    async getSettings() {
      return loadSettings(env.stateDir);
    },
    async pathPolicy() {
      return env.approveToolPaths ? { locked: [], reason: null } : { locked: [...EXECUTABLE_SETTINGS], reason: locked() };
    },
    async setSettings(settings) {
      const saved = await loadSettings(env.stateDir);
      const changes: ToolPathChange[] = EXECUTABLE_SETTINGS.filter((k) => settingText(settings[k]) !== settingText(saved[k]))
        .map((k) => ({ field: k, ...(saved[k] !== undefined ? { from: settingText(saved[k]) } : {}), ...(settings[k] !== undefined ? { to: settingText(settings[k]) } : {}) }));
      if (changes.length > 0) {
        if (!env.approveToolPaths) {
          throw new ApiError('forbidden', locked(changes.map((c) => c.field)), changes[0]!.field);
        }
        if (!(await env.approveToolPaths(changes))) {
          throw new ApiError('cancelled', 'The new program paths were not confirmed; the settings are unchanged.', changes[0]!.field);
        }
      }
      return saveSettings(env.stateDir, settings);
    },
    async installIzer(req, ctx) {
      // git and pip run code from the network: only where a person at this computer confirms it.
      const dir = join(env.stateDir, 'sdk', 'ai8x-synthesis');
      const from = req.from ?? IZER_UPSTREAM;
      const change: ToolPathChange[] = [{ field: 'izerDir', to: `${dir} (cloned from ${from})` }, { field: 'python', to: join(dir, 'venv') }];
      if (!env.approveToolPaths) throw new ApiError('forbidden', `Installing ai8x-synthesis runs git and pip: do it in the desktop app, or run qatwb sdk install ai8x-synthesis --from ${from} --dir ${dir}.`, 'from');
      if (!(await env.approveToolPaths(change))) throw new ApiError('cancelled', 'The installation was not confirmed; nothing was changed.', 'from');
      const r = await installIzer({
        from, dir, ...(req.ref ? { ref: req.ref } : {}), signal: ctx.signal, onProgress: (p) => ctx.progress(p),
        onLine: (line, stream) => env.emit('toolchain', 'log', { tool: 'install', stream, line }),
      });
      await saveSettings(env.stateDir, { ...(await loadSettings(env.stateDir)), izerDir: r.izerDir, python: r.python });
      return r;
    },
    async useIzerCheckout(req) {
      const c = inspectCheckout(req.dir);
      const saved = await loadSettings(env.stateDir);
      const next = { ...saved, izerDir: c.izerDir, ...(c.python ? { python: c.python } : {}) };
      const changes: ToolPathChange[] = (['izerDir', 'python'] as const).filter((k) => (next[k] ?? '') !== (saved[k] ?? ''))
        .map((k) => ({ field: k, ...(saved[k] !== undefined ? { from: saved[k] } : {}), ...(next[k] !== undefined ? { to: next[k] } : {}) }));
      if (changes.length > 0) {
        if (!env.approveToolPaths) throw new ApiError('forbidden', locked(), 'dir');
        if (!(await env.approveToolPaths(changes))) throw new ApiError('cancelled', 'The new program paths were not confirmed; the settings are unchanged.', 'dir');
      }
      return saveSettings(env.stateDir, next);
    },
    async doctor(_req, ctx) {
      ctx.progress({ phase: 'doctor', message: 'Looking for the toolchain' });
      return runDoctor(hostContext(await runSettings(env), homedir()));
    },
    async synthesize({ izerEnv, harnessDir, ...req }, ctx) {
      const r = await synthesizeFlow({ ...(await flowContext(ctx)), ...(izerEnv ? { izerEnv } : {}), ...(harnessDir ? { harnessDir } : {}) }, req);
      return { ...r, harness: { ...r.harness } };
    },
    async replayBundle({ bundleDir, outDir, izerEnv, harnessDir }, ctx) {
      return replayBundle({ ...(await flowContext(ctx)), ...(izerEnv ? { izerEnv } : {}), ...(harnessDir ? { harnessDir } : {}) }, bundleDir, outDir);
    },
    async build(req, ctx) {
      return buildFlow(await flowContext(ctx), req.projectDir);
    },
    async flash(req, ctx) {
      return flashFlow(await flowContext(ctx), req);
    },
  };
}

/** A program setting as the person reads it (the remote prefix is a command: its words joined). */
function settingText(v: string | string[] | undefined): string {
  return v === undefined ? '' : Array.isArray(v) ? v.join(' ') : v;
}
