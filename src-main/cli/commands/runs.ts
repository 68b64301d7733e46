// `qatwb runs`: the training runs kept in a project folder (runs/<id>/run.json), newest first, with
// their status and comparison; `--continue RUNID` goes on with an interrupted or cancelled one.
// The training service's listRuns and continueRun.
import { resolve } from 'node:path';
import { optString, reqString } from '../args.ts';
import type { Command } from '../command.ts';
import { withServices } from '../connect.ts';
import { comparisonLines, trainingJob } from './train.ts';

export const command: Command = {
  name: 'runs',
  summary: 'List the training runs kept in a project; continue an interrupted one.',
  usage: `qatwb runs --project DIR [--continue RUNID] [--json]
  --project DIR      the project folder (its runs/ folder holds one folder per run)
  --continue RUNID   continue an interrupted or cancelled run from its last finished epoch, in its own folder
  --json             {"runs": [{runId, status, createdAt, epochsDone, epochsPlanned, dir, fromRun, model, bits, phases, widths, result}], "skipped": []}
                     (with --continue: the finished run's summary, as qatwb train --json prints it)
Status: running, done, cancelled, failed, or interrupted (the process stopped while it ran).`,
  options: ['project', 'continue'],
  async run(args, io) {
    const projectDir = resolve(reqString(args, 'project'));
    const runId = optString(args, 'continue');
    return withServices(['training'], {}, async ({ api }) => {
      if (runId) {
        const result = await api.training.continueRun({ runId, projectDir }, trainingJob(io));
        if (args.options.has('json')) io.out(JSON.stringify(result));
        else for (const line of comparisonLines(result)) io.out(line);
        return 0;
      }
      const list = await api.training.listRuns({ projectDir });
      if (args.options.has('json')) io.out(JSON.stringify(list));
      else {
        if (!list.runs.length) io.out(`No runs kept in ${projectDir}.`);
        for (const r of list.runs) {
          const best = r.result?.rows.at(-1);
          io.out(`${r.runId}  ${r.status.padEnd(11)} ${r.createdAt}  ${r.model} ${r.bits}-bit  epochs ${r.epochsDone}/${r.epochsPlanned}${best ? `  ${best.name} ${(best.accuracy * 100).toFixed(2)} %` : ''}`);
        }
        for (const s of list.skipped) io.err(`skipped: ${s}`);
      }
      return 0;
    });
  },
};
