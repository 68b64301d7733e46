// The CLI's own stdout/stderr. A reader that goes away early (`qatwb plan ... | head -1`) closes the
// pipe; the next write then fails with EPIPE, which Node raises as an unhandled 'error' event with a
// stack trace. The conventional behaviour is to stop quietly: nobody is left to read the rest.
import type { CommandIo } from './command.ts';

let installed = false;

/** Ends the process quietly (exit 0) once stdout or stderr is closed by its reader. */
export function endQuietlyWhenOutputCloses(): void {
  if (installed) return;
  installed = true;
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPIPE' || error.code === 'ERR_STREAM_DESTROYED') process.exit(0);
      throw error;
    });
  }
}

/** The process's stdout/stderr as a CommandIo; writes after the reader left are dropped. */
export function processIo(): CommandIo {
  endQuietlyWhenOutputCloses();
  const write = (stream: NodeJS.WriteStream, line: string) => {
    if (!stream.destroyed) stream.write(line + '\n');
  };
  return { out: (line) => write(process.stdout, line), err: (line) => write(process.stderr, line) };
}
