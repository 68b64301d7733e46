// `qatwb serve`: web mode. Serves the built renderer and the API on 127.0.0.1 with a per-launch
// token, prints one line with the URL, and runs until interrupted.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from '../command.ts';
import { flag, optChoice, optInt, optString, UsageError } from '../args.ts';

export const command: Command = {
  name: 'serve',
  ownsSignals: true,
  summary: 'Serve the app to a browser on 127.0.0.1 (web mode).',
  usage: [
    '  qatwb serve [--port N] [--open] [--example mnist] [--state-dir DIR] [--renderer-dir DIR] [--json]',
    '',
    '  --port N          port on 127.0.0.1 (default: a free one)',
    '  --open            also open the URL in the default browser (default: --no-open)',
    '  --example mnist   open the built-in MNIST digits example project at start',
    '  --state-dir DIR   app state (recent projects, examples); default $QATWB_STATE_DIR or the user config folder',
    '  --renderer-dir    built UI folder (default out/renderer; build it with npm run build:renderer)',
    '  --json            print {"url","port"} as one JSON line instead of the text line',
  ].join('\n'),
  options: ['port', 'example', 'state-dir', 'renderer-dir'],
  booleans: ['open', 'no-open'],
  async run(args, io) {
    const port = optInt(args, 'port', { min: 0, max: 65535 }) ?? 0;
    const example = optChoice(args, 'example', ['mnist']);
    const { startWebServer, DEFAULT_RENDERER_DIR } = await import('../../server/web-server.ts');
    const { defaultStateDir } = await import('../../server/state-dir.ts');
    const stateDir = resolve(optString(args, 'state-dir') ?? defaultStateDir());
    const rendererDir = resolve(optString(args, 'renderer-dir') ?? DEFAULT_RENDERER_DIR);
    if (!existsSync(join(rendererDir, 'index.html'))) {
      io.err(`qatwb serve: no built UI in ${rendererDir}; run "npm run build:renderer" (the API works meanwhile).`);
    }
    const server = await startWebServer({ stateDir, port, rendererDir }).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE') throw new UsageError(`port ${port} on 127.0.0.1 is in use; pick another with --port, or omit --port for a free one.`);
      throw error;
    });
    if (example) {
      // Through the RPC server itself, so connected pages receive the same `changed` event.
      await new Promise<void>((done, fail) =>
        server.rpc.handle({ kind: 'call', id: 0, service: 'project', method: 'openExample', request: { name: example } }, (m) => {
          if (m.kind === 'result') done();
          else if (m.kind === 'error') fail(new Error(`cannot open the ${example} example: ${m.error.message}`));
        }),
      );
    }
    if (flag(args, 'json')) io.out(JSON.stringify({ url: server.url, port: server.port }));
    else io.out(`QAT Workbench web mode: open ${server.url}  (Ctrl+C to stop)`);
    if (flag(args, 'open') && !flag(args, 'no-open')) {
      const { openBrowser } = await import('../../server/open-browser.ts');
      openBrowser(server.openUrl());
    }
    await new Promise<void>((done) => {
      const stop = () => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        done();
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
    await server.close();
    return 0;
  },
};
