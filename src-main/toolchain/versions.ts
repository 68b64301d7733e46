// Versions of the tools, for the doctor and the deployment bundle: `--version` output's first
// line, and the git commit of a checkout read from its .git folder (no git needed).
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { runProcess } from './run-process.ts';
import type { ToolName } from './toolchain-error.ts';

export async function toolVersion(tool: ToolName, file: string, args: string[] = ['--version'], timeoutMs = 15_000): Promise<string> {
  const r = await runProcess({ tool, file, args, cwd: tmpdir(), timeoutMs });
  const first = r.lines.find((l) => l.trim().length > 0)?.trim() ?? '';
  return first;
}

/** Commit of a git checkout (`abc1234…`), following one symbolic ref; undefined when not a checkout. */
export function gitCommit(dir: string): string | undefined {
  let gitDir = join(dir, '.git');
  if (!existsSync(gitDir)) return undefined;
  try {
    if (statSync(gitDir).isFile()) {
      // Worktrees and submodules: ".git" is a file "gitdir: <path>".
      const m = readFileSync(gitDir, 'utf8').match(/^gitdir: (.+)$/m);
      if (!m) return undefined;
      gitDir = join(dir, m[1]!.trim());
    }
    const head = readFileSync(join(gitDir, 'HEAD'), 'utf8').trim();
    if (/^[0-9a-f]{40}$/.test(head)) return head;
    const ref = head.match(/^ref: (.+)$/)?.[1];
    if (!ref) return undefined;
    if (existsSync(join(gitDir, ref))) return readFileSync(join(gitDir, ref), 'utf8').trim();
    const packed = existsSync(join(gitDir, 'packed-refs')) ? readFileSync(join(gitDir, 'packed-refs'), 'utf8') : '';
    return packed.split('\n').find((l) => l.endsWith(` ${ref}`))?.split(' ')[0];
  } catch {
    return undefined;
  }
}
