// `qatwb check`: the live check over a serial port — device vs simulator vs float, window by window.
// The device service runs it (the link and the check in its child process), as for the app's window.
import { promises as fs } from 'node:fs';
import { optInt, optString, reqString } from '../args.ts';
import type { Command } from '../command.ts';
import { withServices } from '../connect.ts';
import type { CheckReport } from '../../device/live-check.ts';

type Figure = number | 'Infinity' | null;
const pct = (v: number | null) => (v === null ? 'n/a' : `${(100 * v).toFixed(2)} %`);
// The report arrives as JSON: a figure of identical outputs is the string "Infinity".
const num = (v: Figure, d = 4) => (v === null ? 'n/a' : v === 'Infinity' || v === Infinity ? '∞' : v.toFixed(d));

/** The full report as the service keeps it (JSON: Infinity as "Infinity"). */
type ReportDoc = Omit<CheckReport, 'sqnrDb' | 'maxAbsError' | 'l2r' | 'cosineMean'> & { sqnrDb: Figure; maxAbsError: Figure; l2r: Figure; cosineMean: Figure };

export const command: Command = {
  name: 'check',
  summary: 'Live check: device vs simulator vs float, window by window.',
  usage: `qatwb check --port PATH --artifacts DIR [--windows N] [--source device|mnist|FILE.npy|FILE.csv] [--labels FILE.npy]
             [--raw] [--baud B] [--save DIR] [--report FILE.json] [--csv FILE.csv] [--json]
  --port PATH       serial port of the board (or of "qatwb virtual-device")
  --artifacts DIR   exported model: checkpoint.pth.tar, network.yaml [, model.onnx for the float column]
  --source SRC      device: windows the device captures itself (live); mnist, FILE.npy or FILE.csv: the host
                    sends them. An int8/integer .npy holds int8 codes; a float .npy or a .csv (the training
                    file's layout, label column optional) holds raw values, scaled to int8 codes with
                    model.json input.scaling exactly as training scaled them
  --raw             an integer .npy holds raw values (e.g. ADC counts), not int8 codes
  --labels FILE     labels for the windows (gives the three-row report; a .csv may carry its own)
  --windows N       windows to check (default: all of the source; live: 100)
  --save DIR        save disagreeing windows there as disagreements.x.npy / .y.npy
  --report / --csv  write the full report (JSON) / per-window rows (CSV)
A check whose link is lost for good (the port stays gone past the 15 s replug window) or whose live
device stops sending still prints and writes its report, with status link-lost / device-stalled, the
reason and every window compared so far, and exits 1.`,
  options: ['port', 'artifacts', 'windows', 'source', 'labels', 'baud', 'save', 'report', 'csv'],
  booleans: ['raw'],
  async run(args, io) {
    const windows = optInt(args, 'windows', { min: 1 });
    const baud = optInt(args, 'baud', { min: 300 });
    const source = optString(args, 'source');
    const labels = optString(args, 'labels');
    const saveDir = optString(args, 'save');
    const port = reqString(args, 'port');
    // Paths as given: the service's link process runs in this working directory.
    const artifacts = reqString(args, 'artifacts');
    const reportFile = optString(args, 'report');
    const csvFile = optString(args, 'csv');
    return withServices(['device'], {}, async ({ api, on }) => {
      const inputs = { artifacts, ...(source ? { source } : {}), ...(labels ? { labels } : {}), ...(args.options.get('raw') === true ? { raw: true } : {}) };
      await api.device.connect({ path: port, prepare: inputs, ...(baud !== undefined ? { baud } : {}) });
      // Link changes after the connect (a cable pulled, a reconnect) go to stderr.
      const stopStatus = on('device', 'status', (p) => {
        const { status, message } = p as { status: string; message?: string };
        if (status !== 'closed') io.err(`link ${status}${message ? `: ${message}` : ''}`);
      });
      try {
        await api.device.startCheck({
          ...inputs,
          ...(windows !== undefined ? { windows } : {}),
          ...(saveDir ? { saveDir } : {}),
        }, io.signal ? { signal: io.signal } : {});
      } finally {
        stopStatus();
      }
      const full = (await api.device.getReport({ format: 'json' })).text;
      if (reportFile) await writeAtomic(reportFile, full);
      if (csvFile) await writeAtomic(csvFile, (await api.device.getReport({ format: 'csv' })).text);
      const { perWindow: _rows, ...report } = JSON.parse(full) as ReportDoc;
      // A check the link or the device ended early still prints (and writes) its report, and exits 1.
      const rc = report.status === 'link-lost' || report.status === 'device-stalled' ? 1 : 0;
      if (args.options.has('json')) {
        io.out(JSON.stringify(report));
        return rc;
      }
      io.out(`Live check of ${report.model} on ${report.device.id} (${report.device.firmware}), source ${report.source}`);
      if (report.status !== 'complete') io.out(`ENDED EARLY (${report.status}): ${report.reason}`);
      io.out(`  input: ${scalingLine(report)}`);
      if (!report.device.modelHashMatches) io.out('WARNING: the device reports another model hash than these artifacts — it runs a different model.');
      io.out(`  windows ${report.windows}, lost ${report.windowsLost}; frames corrupted ${report.framesCorrupted}, recovered ${report.framesRecovered}`);
      io.out(`  bit-exact vs simulator ${pct(report.bitExactRate)}`);
      if (report.float.present) {
        io.out(`  device vs float twin of QAT: top-1 agreement ${pct(report.top1AgreementFloat)}, cosine ${num(report.cosineMean)}, SQNR ${num(report.sqnrDb, 2)} dB, L2R ${num(report.l2r)}, max |e| ${num(report.maxAbsError)}`);
      } else io.out(`  ${report.float.note}`);
      if (report.rows) for (const r of report.rows) io.out(`  ${r.name.padEnd(18)} ${pct(r.accuracy)} (${r.windows} windows)`);
      io.out(`  device latency mean ${num(report.latency.meanUs, 0)} µs; host ${report.hostMsPerWindow.toFixed(3)} ms/window`);
      for (const d of report.divergences) io.out(`  window ${d.window}: ${d.note}`);
      if (report.disagreements.xPath) {
        const a = report.disagreements.against;
        io.out(`  ${report.disagreements.count} windows saved to ${report.disagreements.xPath} (device differs from: labels ${a.labels}, float twin ${a.floatTwin}, simulator ${a.simulator})`);
      }
      return rc;
    });
  },
};

/** One line on the input scaling: what the model expects and who applied it to this source. */
function scalingLine(r: Pick<CheckReport, 'input' | 'source'>): string {
  const s = r.input.scaling;
  const expects = !s
    ? 'model.json records no input scaling'
    : s.kind === 'int8'
      ? 'the model takes int8 codes as they are'
      : `the model expects raw [${s.min}, ${s.max}] → int8 (${s.kind === 'minmax' ? 'min-max of the training file' : s.kind === 'unit' ? 'unit range' : 'given range'})`;
  const how = r.source === 'device sensor' ? 'the device scales what it captures' : r.input.raw ? 'raw windows scaled by the host' : 'windows sent as int8 codes';
  return `${expects}; ${how}`;
}

async function writeAtomic(path: string, text: string): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await fs.writeFile(tmp, text);
  await fs.rename(tmp, path);
}
