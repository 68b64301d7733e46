// A small argument parser for the qatwb CLI: `--key value`, `--key=value`, boolean `--flag`.
// Every command declares its options, so an unknown option, a stray argument or a missing value is
// a UsageError (exit 2) that names it, never silently ignored.
export class UsageError extends Error {
  override name = 'UsageError';
}

export interface ParsedArgs {
  positionals: string[];
  options: Map<string, string | true>;
}

/** The options one command accepts: `values` take a value, `flags` do not. */
export interface OptionSpec {
  values: readonly string[];
  flags: readonly string[];
  /** Options that work bare (a flag) or with an inline value: `--class-weights` or `--class-weights=1,5`. */
  optionalValues?: readonly string[];
  /** Words before or between the options the command takes (`qatwb sdk install ai8x-synthesis`); default none. */
  positionals?: number;
}

/** Options every command accepts. */
export const COMMON_FLAGS = ['json', 'help'] as const;

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}

function unknownOption(key: string, spec: OptionSpec): UsageError {
  const known = [...spec.values, ...spec.flags, ...(spec.optionalValues ?? [])];
  const near = known
    .map((k) => ({ k, d: editDistance(key, k) }))
    .filter(({ k, d }) => d <= Math.max(1, Math.floor(k.length / 3)))
    .sort((a, b) => a.d - b.d)[0];
  return new UsageError(`unknown option --${key}${near ? ` (did you mean --${near.k}?)` : ''}.`);
}

/**
 * Parses argv against the command's spec. Without a spec (only for callers that do their own
 * checking) every `--key` is accepted, a key followed by another option or by nothing is a flag.
 */
export function parseArgs(argv: string[], spec?: OptionSpec): ParsedArgs {
  const positionals: string[] = [];
  const options = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--') || a === '--') {
      if (spec && positionals.length >= (spec.positionals ?? 0)) throw new UsageError(`unexpected argument "${a}" (options start with --).`);
      positionals.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const key = eq > 0 ? a.slice(2, eq) : a.slice(2);
    const inline = eq > 0 ? a.slice(eq + 1) : undefined;
    if (!spec) {
      if (inline !== undefined) options.set(key, inline);
      else if (i + 1 >= argv.length || argv[i + 1]!.startsWith('--')) options.set(key, true);
      else options.set(key, argv[++i]!);
      continue;
    }
    if (spec.optionalValues?.includes(key)) {
      options.set(key, inline ?? true);
      continue;
    }
    if (spec.flags.includes(key)) {
      if (inline !== undefined && inline !== 'true' && inline !== 'false') throw new UsageError(`--${key} takes no value, got "${inline}".`);
      if (inline !== 'false') options.set(key, true);
      continue;
    }
    if (!spec.values.includes(key)) throw unknownOption(key, spec);
    if (inline !== undefined) {
      options.set(key, inline);
      continue;
    }
    const next = argv[i + 1];
    // A value may itself start with "-" (a negative number), but not with "--".
    if (next === undefined || next.startsWith('--')) throw new UsageError(`--${key} needs a value.`);
    options.set(key, next);
    i++;
  }
  return { positionals, options };
}

export function optString(args: ParsedArgs, key: string): string | undefined {
  const v = args.options.get(key);
  if (v === true) throw new UsageError(`--${key} needs a value.`);
  if (v === '') throw new UsageError(`--${key} needs a value, got an empty one.`);
  return v;
}

export function reqString(args: ParsedArgs, key: string): string {
  const v = optString(args, key);
  if (v === undefined) throw new UsageError(`--${key} is required.`);
  return v;
}

export function optNumber(args: ParsedArgs, key: string, range: { min?: number; max?: number; gt?: number } = {}): number | undefined {
  const v = optString(args, key);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || v.trim() === '') throw new UsageError(`--${key} expects a number, got "${v}".`);
  checkRange(key, n, range, v);
  return n;
}

/** An integer option, optionally bounded (inclusive). */
export function optInt(args: ParsedArgs, key: string, range: { min?: number; max?: number } = {}): number | undefined {
  const v = optString(args, key);
  if (v === undefined) return undefined;
  if (!/^[+-]?\d+$/.test(v.trim())) throw new UsageError(`--${key} expects an integer, got "${v}".`);
  const n = Number(v);
  checkRange(key, n, range, v);
  return n;
}

function checkRange(key: string, n: number, r: { min?: number; max?: number; gt?: number }, raw: string): void {
  const lo = r.gt !== undefined ? `> ${r.gt}` : r.min !== undefined ? `≥ ${r.min}` : undefined;
  const bad = (r.gt !== undefined && !(n > r.gt)) || (r.min !== undefined && n < r.min) || (r.max !== undefined && n > r.max);
  if (!bad) return;
  const want = lo && r.max !== undefined ? `${lo} and ≤ ${r.max}` : lo ?? `≤ ${r.max}`;
  throw new UsageError(`--${key} expects a value ${want}, got "${raw}".`);
}

/** One of a fixed set of words. */
export function optChoice<T extends string>(args: ParsedArgs, key: string, choices: readonly T[]): T | undefined {
  const v = optString(args, key);
  if (v === undefined) return undefined;
  if (!choices.includes(v as T)) throw new UsageError(`--${key} expects ${choices.join(', ').replace(/, ([^,]*)$/, ' or $1')}, got "${v}".`);
  return v as T;
}

export function flag(args: ParsedArgs, key: string): boolean {
  return args.options.get(key) === true || args.options.get(key) === 'true';
}
