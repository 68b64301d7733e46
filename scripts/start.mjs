// `npm start`: install dependencies if missing, build, and open the app with the built-in MNIST
// example. Uses the Electron window when Electron can run here; otherwise (no Electron binary, no
// display, or Electron fails to start) falls back to web mode and prints the URL to open.
//   npm start -- --web        force web mode
//   npm start -- --port N     web-mode port (default: a free one)
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
process.chdir(root);
const args = process.argv.slice(2);
const say = (line) => console.log(`[qatwb start] ${line}`);
const bin = (name) => join(root, 'node_modules', '.bin', name);
const run = (cmd, cmdArgs, opts = {}) => spawnSync(cmd, cmdArgs, { stdio: 'inherit', cwd: root, ...opts });

if (!existsSync(join(root, 'node_modules', '.bin'))) {
  say('node_modules is missing: running npm ci (one time)...');
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const res = run(npm, ['ci'], { shell: process.platform === 'win32' });
  if (res.status !== 0) {
    say('npm ci failed; see the messages above.');
    process.exit(res.status ?? 1);
  }
}

/** Why Electron cannot run here, or null when it may. Never triggers a download by itself. */
function electronBlocker() {
  if (args.includes('--web') || process.env.QATWB_WEB === '1') return 'web mode requested';
  if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) return 'no display (DISPLAY is not set)';
  const pkg = join(root, 'node_modules', 'electron');
  if (!existsSync(pkg)) return 'the electron package is not installed';
  const exe = () => {
    const pathFile = join(pkg, 'path.txt');
    return existsSync(pathFile) ? join(pkg, 'dist', readFileSync(pathFile, 'utf8').trim()) : null;
  };
  if (!exe() || !existsSync(exe())) {
    say('Electron binary missing: trying to download it once...');
    const res = run(process.execPath, [join(pkg, 'install.js')], { timeout: 120_000 });
    if (res.status !== 0 || !exe() || !existsSync(exe())) return 'the Electron binary could not be downloaded';
  }
  return null;
}

function electronPath() {
  const pkg = join(root, 'node_modules', 'electron');
  return join(pkg, 'dist', readFileSync(join(pkg, 'path.txt'), 'utf8').trim());
}

function forwardSignals(child) {
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
}

function startWeb(reason) {
  say(`Web mode (${reason}). Building the user interface...`);
  const build = run(process.execPath, [bin('vite'), 'build', '--config', 'vite.renderer.config.ts', '--logLevel', 'error']);
  if (build.status !== 0) process.exit(build.status ?? 1);
  const portIdx = args.indexOf('--port');
  const serveArgs = ['bin/qatwb.mjs', 'serve', '--example', 'mnist'];
  if (portIdx >= 0 && args[portIdx + 1]) serveArgs.push('--port', args[portIdx + 1]);
  const hasDisplay = process.platform !== 'linux' || process.env.DISPLAY || process.env.WAYLAND_DISPLAY;
  if (hasDisplay) serveArgs.push('--open');
  const child = spawn(process.execPath, serveArgs, { stdio: 'inherit', cwd: root });
  forwardSignals(child);
  child.on('exit', (code) => process.exit(code ?? 0));
}

function startElectron() {
  say('Building the app (electron-vite build)...');
  const build = run(process.execPath, [bin('electron-vite'), 'build', '--logLevel', 'error']);
  if (build.status !== 0) process.exit(build.status ?? 1);
  const startedAt = Date.now();
  const child = spawn(electronPath(), ['.', '--example=mnist'], { stdio: 'inherit', cwd: root });
  forwardSignals(child);
  let fellBack = false;
  const fallBack = (why) => {
    if (fellBack) return;
    fellBack = true;
    startWeb(why);
  };
  child.on('error', (error) => fallBack(`Electron could not start: ${error.message}`));
  child.on('exit', (code, signal) => {
    // A crash within seconds means Electron cannot run here (missing libraries, no GPU/display).
    if (code !== 0 && !signal && Date.now() - startedAt < 10_000) fallBack(`Electron exited with code ${code} at start`);
    else if (!fellBack) process.exit(code ?? 0);
  });
}

const blocker = electronBlocker();
if (blocker) startWeb(blocker);
else startElectron();
