// Finds each toolchain part: the saved setting first, then the environment (MAXIM_PATH), then the
// usual install folders (MSDK installer defaults, a venv inside the izer checkout), then the PATH.
// Pure file-system probing, so detection is testable with a fake home and environment.
import { accessSync, constants, existsSync, readdirSync, statSync } from 'node:fs';
import { delimiter as pathDelimiter, dirname, join, resolve } from 'node:path';
import type { ToolchainSettings } from '../api/toolchain.api.ts';

export interface Located {
  path: string;
  /** settings | $MAXIM_PATH | MSDK | izer venv | PATH | usual location */
  source: string;
}

export interface LocateContext {
  settings: ToolchainSettings;
  env: Record<string, string | undefined>;
  home: string;
  platform: NodeJS.Platform;
}

export interface ResolvedTools {
  izerDir?: Located;
  python?: Located;
  maximPath?: Located;
  armGcc?: Located;
  make?: Located;
  openocd?: Located;
  openocdScripts?: Located;
}

const exe = (ctx: LocateContext, name: string) => (ctx.platform === 'win32' ? `${name}.exe` : name);

export function isExecutable(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export function findOnPath(ctx: LocateContext, name: string): string | undefined {
  const dirs = (ctx.env.PATH ?? ctx.env.Path ?? '').split(ctx.platform === 'win32' ? ';' : pathDelimiter).filter(Boolean);
  const names = ctx.platform === 'win32' ? [name, `${name}.exe`, `${name}.cmd`] : [name];
  for (const d of dirs) for (const n of names) if (isExecutable(join(d, n))) return join(d, n);
  return undefined;
}

function isMsdk(dir: string): boolean {
  return existsSync(join(dir, 'Libraries')) && statSync(join(dir, 'Libraries')).isDirectory();
}

export function locateMsdk(ctx: LocateContext): Located | undefined {
  if (ctx.settings.maximPath) return { path: resolve(ctx.settings.maximPath), source: 'settings' };
  if (ctx.env.MAXIM_PATH && isMsdk(ctx.env.MAXIM_PATH)) return { path: resolve(ctx.env.MAXIM_PATH), source: '$MAXIM_PATH' };
  const candidates = [join(ctx.home, 'MaximSDK'), '/opt/MaximSDK', ...(ctx.platform === 'win32' ? ['C:/MaximSDK'] : [])];
  for (const c of candidates) if (isMsdk(c)) return { path: c, source: 'usual location' };
  return undefined;
}

export function locateArmGcc(ctx: LocateContext, msdk?: Located): Located | undefined {
  if (ctx.settings.armGcc) return { path: resolve(ctx.settings.armGcc), source: 'settings' };
  if (msdk) {
    const root = join(msdk.path, 'Tools', 'GNUTools');
    // The installer's 10.3 first, then any other version it may hold.
    const versions = existsSync(root) ? readdirSync(root).sort().reverse() : [];
    for (const v of ['10.3', ...versions.filter((v) => v !== '10.3')]) {
      const p = join(root, v, 'bin', exe(ctx, 'arm-none-eabi-gcc'));
      if (isExecutable(p)) return { path: p, source: 'MSDK' };
    }
  }
  const onPath = findOnPath(ctx, 'arm-none-eabi-gcc');
  return onPath ? { path: onPath, source: 'PATH' } : undefined;
}

export function locateMake(ctx: LocateContext, msdk?: Located): Located | undefined {
  if (ctx.settings.make) return { path: resolve(ctx.settings.make), source: 'settings' };
  if (msdk && ctx.platform === 'win32') {
    const p = join(msdk.path, 'Tools', 'MSYS2', 'usr', 'bin', 'make.exe');
    if (isExecutable(p)) return { path: p, source: 'MSDK' };
  }
  const onPath = findOnPath(ctx, 'make');
  return onPath ? { path: onPath, source: 'PATH' } : undefined;
}

export function locateOpenocd(ctx: LocateContext, msdk?: Located): Located | undefined {
  if (ctx.settings.openocd) return { path: resolve(ctx.settings.openocd), source: 'settings' };
  if (msdk) {
    for (const p of [join(msdk.path, 'Tools', 'OpenOCD', exe(ctx, 'openocd')), join(msdk.path, 'Tools', 'OpenOCD', 'bin', exe(ctx, 'openocd'))]) {
      if (isExecutable(p)) return { path: p, source: 'MSDK' };
    }
  }
  const onPath = findOnPath(ctx, 'openocd');
  return onPath ? { path: onPath, source: 'PATH' } : undefined;
}

export function locateOpenocdScripts(ctx: LocateContext, msdk?: Located, openocd?: Located): Located | undefined {
  if (ctx.settings.openocdScripts) return { path: resolve(ctx.settings.openocdScripts), source: 'settings' };
  const candidates: [string, string][] = [];
  if (msdk) candidates.push([join(msdk.path, 'Tools', 'OpenOCD', 'scripts'), 'MSDK']);
  if (openocd) {
    const dir = dirname(openocd.path);
    candidates.push([join(dir, 'scripts'), 'beside openocd'], [join(dir, '..', 'share', 'openocd', 'scripts'), 'beside openocd']);
  }
  candidates.push(['/usr/share/openocd/scripts', 'usual location'], ['/usr/local/share/openocd/scripts', 'usual location']);
  for (const [p, source] of candidates) if (existsSync(join(p, 'interface'))) return { path: resolve(p), source };
  return undefined;
}

export function locateIzer(ctx: LocateContext): Located | undefined {
  if (ctx.settings.izerDir) return { path: resolve(ctx.settings.izerDir), source: 'settings' };
  const candidates = [join(ctx.home, 'ai8x-synthesis'), join(ctx.home, 'src', 'ai8x-synthesis'), join(ctx.home, 'ai8x', 'ai8x-synthesis'), '/opt/ai8x-synthesis'];
  for (const c of candidates) if (existsSync(join(c, 'ai8xize.py'))) return { path: c, source: 'usual location' };
  return undefined;
}

export function locatePython(ctx: LocateContext, izer?: Located): Located | undefined {
  if (ctx.settings.python) return { path: ctx.settings.python.includes('/') || ctx.settings.python.includes('\\') ? resolve(ctx.settings.python) : ctx.settings.python, source: 'settings' };
  if (izer) {
    const rel = ctx.platform === 'win32'
      ? [['venv', 'Scripts', 'python.exe'], ['.venv', 'Scripts', 'python.exe']]
      : [['venv', 'bin', 'python3'], ['venv', 'bin', 'python'], ['.venv', 'bin', 'python3'], ['.venv', 'bin', 'python']];
    for (const r of rel) {
      const p = join(izer.path, ...r);
      if (isExecutable(p)) return { path: p, source: 'izer venv' };
    }
  }
  const onPath = findOnPath(ctx, ctx.platform === 'win32' ? 'python' : 'python3') ?? findOnPath(ctx, 'python');
  return onPath ? { path: onPath, source: 'PATH' } : undefined;
}

export function resolveTools(ctx: LocateContext): ResolvedTools {
  const maximPath = locateMsdk(ctx);
  const izerDir = locateIzer(ctx);
  const openocd = locateOpenocd(ctx, maximPath);
  return {
    izerDir,
    python: locatePython(ctx, izerDir),
    maximPath,
    armGcc: locateArmGcc(ctx, maximPath),
    make: locateMake(ctx, maximPath),
    openocd,
    openocdScripts: locateOpenocdScripts(ctx, maximPath, openocd),
  };
}

/** The context of this process: real environment, home folder and platform. */
export function hostContext(settings: ToolchainSettings, home: string, env: Record<string, string | undefined> = process.env): LocateContext {
  return { settings, env, home, platform: process.platform };
}
