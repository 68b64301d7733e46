// Best-effort: opens a URL in the user's default browser. Failure is fine (the URL is printed).
import { spawn } from 'node:child_process';

export function openBrowser(url: string): boolean {
  const [cmd, args] =
    process.platform === 'darwin' ? ['open', [url]] :
    process.platform === 'win32' ? ['cmd', ['/c', 'start', '""', url]] :
    ['xdg-open', [url]];
  try {
    const child = spawn(cmd as string, args as string[], { stdio: 'ignore', detached: true, shell: false });
    child.on('error', () => undefined);
    child.unref();
    return true;
  } catch {
    return false;
  }
}
