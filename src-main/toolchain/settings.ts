// Toolchain settings: saved as JSON in the app state folder, written atomically. A damaged file
// is reported with its path and field, never silently reset (the user typed those paths).
import { readFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ApiError } from '../api/contract.ts';
import { ToolchainSettings } from '../api/toolchain.api.ts';
import { writeFileAtomic } from '../project/atomic-write.ts';

export const SETTINGS_FILE = 'toolchain-settings.json';

export function settingsPath(stateDir: string): string {
  return join(stateDir, SETTINGS_FILE);
}

export async function loadSettings(stateDir: string): Promise<ToolchainSettings> {
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
  const parsed = ToolchainSettings.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const keys = 'keys' in issue ? (issue.keys as string[]) : [];
    const field = [...issue.path.map(String), ...keys.slice(0, 1)].join('.');
    throw new ApiError('invalid-data', `${file}: field "${field}": ${issue.message}.`, field);
  }
  return parsed.data;
}

export async function saveSettings(stateDir: string, settings: ToolchainSettings): Promise<ToolchainSettings> {
  const clean = ToolchainSettings.parse(settings);
  await mkdir(stateDir, { recursive: true });
  await writeFileAtomic(settingsPath(stateDir), JSON.stringify(clean, null, 2) + '\n');
  return clean;
}

/** Saved settings with per-run overrides (CLI flags); undefined overrides keep the saved value. */
export function withOverrides(saved: ToolchainSettings, overrides: Partial<Record<keyof ToolchainSettings, string | number | undefined>>): ToolchainSettings {
  const out: Record<string, unknown> = { ...saved };
  for (const [k, v] of Object.entries(overrides)) if (v !== undefined) out[k] = v;
  return ToolchainSettings.parse(out);
}
