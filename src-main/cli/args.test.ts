// The CLI refuses what it does not know: on every command an unknown option, a stray argument, a
// missing value or a bad value exits 2 and names it (in-process through main(), and once through
// the real bin/qatwb.mjs to see the process exit code).
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { main } from './main.ts';
import { commands } from './commands/index.ts';

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { out: (l) => void (out += l + '\n'), err: (l) => void (err += l + '\n') });
  return { code, out, err };
}

describe('qatwb refuses unknown options and bad values', () => {
  it.each(Object.keys(commands))('%s: an unknown option exits 2 naming it', async (name) => {
    const r = await run([name, '--no-such-option', '7']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('unknown option --no-such-option');
  });

  it.each(Object.keys(commands))('%s: a stray argument exits 2 naming it', async (name) => {
    const r = await run([name, 'stray']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('unexpected argument "stray"');
  });

  it('suggests the nearest known option', async () => {
    const r = await run(['train', '--example', 'mnist', '--qat-strat', '1']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/unknown option --qat-strat \(did you mean --qat-start\?\)/);
  });

  it.each([
    [['train', '--example', 'mnist', '--epochs', 'ten'], /--epochs expects an integer, got "ten"/],
    [['train', '--example', 'mnist', '--epochs', '0'], /--epochs expects a value ≥ 1 and ≤ 1000, got "0"/],
    [['train', '--example', 'mnist', '--epochs', '4', '--qat-start', '5'], /--qat-start expects a value ≥ 0 and ≤ 4, got "5"/],
    [['train', '--example', 'mnist', '--lr', '-1'], /--lr expects a value > 0 and ≤ 10, got "-1"/],
    [['train', '--example', 'mnist', '--lr'], /--lr needs a value/],
    [['train', '--example', 'mnist', '--model', 'resnet'], /--model expects ai85net5, ai85netextrasmall, ecgnet, or a .onnx, model .json or ai8x .yaml file, got "resnet"/],
    [['train', '--example', 'mnist', '--class-weights=maybe'], /--class-weights expects no value \(inverse frequency\) or one weight ≥ 0 per class like 1,5; got "maybe"/],
    [['train', '--example', 'mnist', '--float-epochs', '2', '--epochs', '3'], /--epochs is a shorthand for --float-epochs\/--qat-epochs/],
    [['train', '--example', 'mnist', '--qat-epochs', '4', '--bits-schedule', '8@0,4@5'], /QAT epoch 5 is past the QAT phase \(4 epochs/],
    [['train', '--example', 'mnist', '--qat-epochs', '4', '--bits-schedule', '8@1,4@2'], /the first width starts at the QAT start \(BITS@0\)/],
    [['train', '--example', 'mnist', '--lr-schedule', 'linear'], /--lr-schedule expects none, step, cosine or plateau, got "linear"/],
    [['serve', '--port', '70000'], /--port expects a value ≥ 0 and ≤ 65535, got "70000"/],
    [['simulate', '--engine', 'gpu', '--checkpoint', 'c', '--network', 'n', '--input', 'i'], /--engine expects auto, js or wasm, got "gpu"/],
    [['check', '--port', '/dev/null', '--artifacts', '.', '--windows', '2.5'], /--windows expects an integer, got "2.5"/],
    [['virtual-device', '--artifacts', '.', '--fault-rate', '2'], /--fault-rate expects a value ≥ 0 and ≤ 1, got "2"/],
    [['build', '--project', '.', '--jobs', '0'], /--jobs expects a value ≥ 1 and ≤ 256, got "0"/],
    [['plan', '--checkpoint', 'c', '--network', 'n', '--dims', '28,x'], /--dims expects positive integers/],
  ])('%j exits 2', async (argv, message) => {
    const r = await run(argv);
    expect(r.code, r.err).toBe(2);
    expect(r.err).toMatch(message);
  });

  it('with --json a usage error is also one JSON document on stdout', async () => {
    const r = await run(['doctor', '--json', '--izr', '/x']);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.out)).toEqual({ error: { code: 'usage', message: 'unknown option --izr (did you mean --izer?).' } });
  });

  it('the real process exits 2 on an unknown train option (it used to run and exit 0)', () => {
    const r = spawnSync(process.execPath, ['bin/qatwb.mjs', 'train', '--example', 'mnist', '--patiense', '3'], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('unknown option --patiense');
  });
});
