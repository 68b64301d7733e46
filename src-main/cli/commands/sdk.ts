// `qatwb sdk install ai8x-synthesis`: clone the generator at its pinned version into a folder, make
// its Python environment and install what that environment lacks (the app's "Install
// ai8x-synthesis" runs the same code). `qatwb sdk use ai8x-synthesis --dir DIR` checks an existing
// checkout. Either prints the izer folder and Python to use (--izer / --python of the toolchain
// commands, or Settings).
import { optString, UsageError } from '../args.ts';
import type { Command } from '../command.ts';
import { runCli } from '../../toolchain/cli-run.ts';
import { inspectCheckout, installIzer, IZER_PINNED_REF } from '../../toolchain/sdk/install-izer.ts';

export const command: Command = {
  name: 'sdk',
  summary: 'Install or point at ai8x-synthesis (the network generator).',
  usage: `qatwb sdk install ai8x-synthesis --from URL|PATH [--tag T] --dir DIR [--python PY] [--json] [--quiet]
qatwb sdk use ai8x-synthesis --dir DIR [--json]
  --from URL|PATH   the ai8x-synthesis repository (https://github.com/analogdevicesinc/ai8x-synthesis.git) or a local clone
  --tag T           tag, branch or commit (default ${IZER_PINNED_REF}, the version the workbench is tested against)
  --dir DIR         folder to create (must be new or empty); its venv/ gets the Python environment
  --python PY       Python that makes the environment (default: /usr/bin/python3 where present, else python3)
The environment sees the system's Python packages (--system-site-packages), so a distribution's
PyTorch and NumPy serve without a download; pip installs only what it still lacks.`,
  options: ['from', 'tag', 'dir', 'python'],
  booleans: ['quiet'],
  positionals: 2,
  async run(args, io) {
    return runCli(args, io, async () => {
      const [verb, what] = args.positionals;
      const expected = 'expected "qatwb sdk install ai8x-synthesis" or "qatwb sdk use ai8x-synthesis"';
      if (verb !== 'install' && verb !== 'use') throw new UsageError(verb ? `unexpected argument "${verb}" (${expected}).` : `${expected}.`);
      if (what !== 'ai8x-synthesis') throw new UsageError(what ? `unexpected argument "${what}" (${expected}; the MSDK and OpenOCD come with Analog Devices' MSDK installer).` : `${expected}.`);
      const dir = optString(args, 'dir');
      if (!dir) throw new UsageError('--dir is required.');
      const json = args.options.has('json');
      if (verb === 'use') {
        const c = inspectCheckout(dir);
        if (json) io.out(JSON.stringify(c));
        else io.out(`ai8x-synthesis: ${c.izerDir}${c.commit ? ` (commit ${c.commit.slice(0, 12)})` : ''}\nPython: ${c.python ?? 'no venv/ in the checkout; give --python to the toolchain commands'}`);
        return 0;
      }
      const from = optString(args, 'from');
      if (!from) throw new UsageError('--from is required (a URL or a local clone).');
      const quiet = args.options.has('quiet');
      let last = -1;
      const r = await installIzer({
        from, dir, ref: optString(args, 'tag'), python: optString(args, 'python'), signal: io.signal,
        onLine: quiet ? undefined : (line) => io.err(`[install] ${line}`),
        onProgress: quiet || json ? undefined : (p) => {
          const f = Math.floor((p.fraction ?? 0) * 100);
          if (f !== last) io.err(`-- ${f}% ${p.message ?? ''}`);
          last = f;
        },
      });
      if (json) io.out(JSON.stringify(r));
      else {
        io.out(`ai8x-synthesis ${r.ref} (commit ${r.commit.slice(0, 12)}) installed in ${r.izerDir}`);
        io.out(`Python: ${r.python}`);
        io.out(r.installed.length ? `pip installed: ${r.installed.join(', ')}` : `All its Python packages come from the system (${r.satisfied.join(', ')}).`);
        io.out(`Log: ${r.log}`);
      }
      return 0;
    });
  },
};
