// What a per-tool progress parser is: fed every output line, it returns a Progress when the line
// moves the job forward. Parsers keep their own counters, so one instance serves one run.
import type { Progress } from '../../api/contract.ts';

export type ProgressParser = (line: string) => Progress | undefined;
