// Child process for the atomic-save test: saves a large project.json through the real project
// service, and stops forever after the first chunk is on disk, so the parent can kill it mid-write.
import { createProjectService } from '../../src-main/project/project.service.ts';

const [dir, stateDir] = process.argv.slice(2) as [string, string];
const service = createProjectService(
  { stateDir, emit: () => undefined },
  {
    writeHooks: {
      async afterChunk(written, total) {
        if (written < total) {
          process.stdout.write(`writing ${written}/${total}\n`);
          await new Promise(() => setInterval(() => undefined, 1000)); // hang here until killed
        }
      },
    },
  },
);
const ctx = { signal: new AbortController().signal, progress: () => undefined };
const opened = await service.open({ path: dir }, ctx);
// ~2 MB of section data: many 64 KiB chunks, so the kill lands in the middle of the file.
const big = Array.from({ length: 40_000 }, (_, i) => ({ i, note: 'x'.repeat(32) }));
await service.save({ doc: { ...opened.doc, name: 'Half-written', sections: { big } } }, ctx);
process.stdout.write('saved\n');
