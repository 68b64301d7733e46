// Where web mode and the CLI keep app state (recent projects, example projects, settings) when no
// Electron userData folder exists: $QATWB_STATE_DIR, else the platform's per-user config folder.
import { homedir } from 'node:os';
import { join } from 'node:path';

export function defaultStateDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.QATWB_STATE_DIR) return env.QATWB_STATE_DIR;
  if (process.platform === 'win32' && env.APPDATA) return join(env.APPDATA, 'qat-workbench');
  if (process.platform === 'darwin') return join(homedir(), 'Library', 'Application Support', 'qat-workbench');
  return join(env.XDG_CONFIG_HOME || join(homedir(), '.config'), 'qat-workbench');
}
