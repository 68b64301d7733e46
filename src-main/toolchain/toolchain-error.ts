// The one error type of the toolchain capability: what went wrong in plain words, the fix, and the
// evidence (tool, exit code, the line that matched, the output tail). It is an ApiError with code
// `toolchain` (or `cancelled`), so it crosses the API unchanged and the UI branches on `reason`.
import { ApiError } from '../api/contract.ts';

export type ToolName = 'ai8xize' | 'make' | 'openocd' | 'python' | 'gcc' | 'console' | 'cross-check' | 'pytorch' | 'other';

/** Machine-readable cause; the UI and tests branch on this, never on the text. */
export type ToolchainReason =
  | 'not-found'
  | 'not-executable'
  | 'cancelled'
  | 'timeout'
  | 'exit'
  | 'bn-not-folded'
  | 'processor-count'
  | 'data-memory-overflow'
  | 'overwriting-input'
  | 'arch-mismatch'
  | 'flatten-limit'
  | 'zero-weights'
  | 'python-module-missing'
  | 'sample-input'
  | 'izer-error'
  | 'yaml-syntax'
  | 'yaml-config'
  | 'weight-memory-overflow'
  | 'layer-count'
  | 'compile-error'
  | 'link-error'
  | 'maxim-path'
  | 'compiler-missing'
  | 'make-error'
  | 'adapter-not-found'
  | 'adapter-busy'
  | 'usb-permission'
  | 'cannot-read-idr'
  | 'target-not-examined'
  | 'openocd-config-missing'
  | 'program-failed'
  | 'kat-fail'
  | 'kat-timeout'
  | 'cross-check-mismatch'
  | 'project-layout'
  | 'bad-input';

export interface ToolchainErrorInit {
  tool: ToolName;
  reason: ToolchainReason;
  /** What went wrong, one or two sentences, no jargon beyond the tool's own names. */
  message: string;
  /** What to do about it. */
  fix: string;
  exitCode?: number | null;
  /** Source location when the tool reported one (gcc `file:line:col`). */
  file?: string;
  line?: number;
  column?: number;
  /** The output line the diagnosis was made from. */
  evidence?: string;
  /** Last lines of the tool's output. */
  tail?: string[];
}

export class ToolchainError extends ApiError {
  readonly tool: ToolName;
  readonly reason: ToolchainReason;
  readonly fix: string;
  readonly exitCode?: number | null;
  readonly file?: string;
  readonly line?: number;
  readonly column?: number;
  readonly evidence?: string;
  readonly tail: string[];

  constructor(init: ToolchainErrorInit) {
    const where = init.file ? `${init.file}${init.line !== undefined ? `:${init.line}` : ''}: ` : '';
    const message = `${init.tool}: ${where}${init.message} Fix: ${init.fix}`;
    // The structured form (`--json`, logs, and the wire: a front door shows the fix and evidence).
    super(init.reason === 'cancelled' ? 'cancelled' : 'toolchain', message, undefined, {
      tool: init.tool,
      reason: init.reason,
      message,
      fix: init.fix,
      ...(init.exitCode !== undefined ? { exitCode: init.exitCode } : {}),
      ...(init.file ? { file: init.file, line: init.line, column: init.column } : {}),
      ...(init.evidence ? { evidence: init.evidence } : {}),
      tail: init.tail ?? [],
    });
    this.name = 'ToolchainError';
    this.tool = init.tool;
    this.reason = init.reason;
    this.fix = init.fix;
    this.exitCode = init.exitCode;
    this.file = init.file;
    this.line = init.line;
    this.column = init.column;
    this.evidence = init.evidence;
    this.tail = init.tail ?? [];
  }
}
