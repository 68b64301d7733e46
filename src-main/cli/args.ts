// A small argument parser for the qatwb CLI: `--key value`, `--key=value`, boolean `--flag`,
// positionals. Errors name the option and what was expected.
export class UsageError extends Error {
  override name = 'UsageError';
}

export interface ParsedArgs {
  positionals: string[];
  options: Map<string, string | true>;
}

export function parseArgs(argv: string[], booleans: readonly string[] = []): ParsedArgs {
  const positionals: string[] = [];
  const options = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) {
      positionals.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const key = eq > 0 ? a.slice(2, eq) : a.slice(2);
    if (eq > 0) options.set(key, a.slice(eq + 1));
    else if (booleans.includes(key) || i + 1 >= argv.length || argv[i + 1]!.startsWith('--')) options.set(key, true);
    else options.set(key, argv[++i]!);
  }
  return { positionals, options };
}

export function optString(args: ParsedArgs, key: string): string | undefined {
  const v = args.options.get(key);
  if (v === true) throw new UsageError(`--${key} needs a value.`);
  return v;
}

export function reqString(args: ParsedArgs, key: string): string {
  const v = optString(args, key);
  if (v === undefined) throw new UsageError(`--${key} is required.`);
  return v;
}

export function optNumber(args: ParsedArgs, key: string): number | undefined {
  const v = optString(args, key);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new UsageError(`--${key} expects a number, got "${v}".`);
  return n;
}

export function flag(args: ParsedArgs, key: string): boolean {
  return args.options.get(key) === true || args.options.get(key) === 'true';
}
