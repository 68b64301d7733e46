// Toolchain settings: saved as JSON in the app state folder, written atomically. A damaged file
// is reported with its path and field, never silently reset (the user typed those paths).
import { readFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ApiError } from '../api/contract.ts';
import { IZER_ENV_NAMES, ToolchainSettings, izerEnvNameAllowed } from '../api/toolchain.api.ts';
import { writeFileAtomic } from '../project/atomic-write.ts';

export const SETTINGS_FILE = 'toolchain-settings.json';

export function settingsPath(stateDir: string): string {
  return join(stateDir, SETTINGS_FILE);
}

/**
 * The saved settings. Environment names for the izer that are no longer allowed (a file written
 * before the allow-list, or by hand) are dropped with a warning and the file is rewritten without
 * them, so they stop reaching every later run; the rest of the file is kept.
 */
export async function loadSettings(stateDir: string, warn: (message: string) => void = (m) => process.emitWarning(m)): Promise<ToolchainSettings> {
  const file = settingsPath(stateDir);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new ApiError('io', `${file}: cannot be read (${(error as Error).message}).`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new ApiError('invalid-data', `${file}: not valid JSON (${(error as Error).message}); fix or delete the file.`);
  }
  const dropped = dropRefusedEnv(raw);
  const parsed = ToolchainSettings.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const keys = 'keys' in issue ? (issue.keys as string[]) : [];
    const field = [...issue.path.map(String), ...keys.slice(0, 1)].join('.');
    throw new ApiError('invalid-data', `${file}: field "${field}": ${issue.message}.`, field);
  }
  if (dropped.length) {
    warn(`${file}: izerEnv ${dropped.join(', ')} dropped: only ${IZER_ENV_NAMES.join(', ')} may be passed to the izer.`);
    await writeFileAtomic(file, JSON.stringify(parsed.data, null, 2) + '\n').catch(() => undefined);
  }
  return parsed.data;
}

function dropRefusedEnv(raw: unknown): string[] {
  const env = raw !== null && typeof raw === 'object' ? (raw as { izerEnv?: unknown }).izerEnv : undefined;
  if (env === null || typeof env !== 'object' || Array.isArray(env)) return [];
  const bad = Object.keys(env).filter((k) => !izerEnvNameAllowed(k));
  for (const k of bad) delete (env as Record<string, unknown>)[k];
  return bad;
}

export async function saveSettings(stateDir: string, settings: ToolchainSettings): Promise<ToolchainSettings> {
  const clean = ToolchainSettings.parse(settings);
  await mkdir(stateDir, { recursive: true });
  await writeFileAtomic(settingsPath(stateDir), JSON.stringify(clean, null, 2) + '\n');
  return clean;
}

/** Saved settings with per-run overrides (CLI flags); undefined overrides keep the saved value. */
export function withOverrides(saved: ToolchainSettings, overrides: Partial<ToolchainSettings>): ToolchainSettings {
  const out: Record<string, unknown> = { ...saved };
  for (const [k, v] of Object.entries(overrides)) if (v !== undefined) out[k] = v;
  return ToolchainSettings.parse(out);
}

/** What a run uses: the saved settings under the front door's own (the CLI's flags), for any service. */
export async function runSettings(env: { stateDir: string; toolOverrides?: Partial<ToolchainSettings> }): Promise<ToolchainSettings> {
  return withOverrides(await loadSettings(env.stateDir), env.toolOverrides ?? {});
}
