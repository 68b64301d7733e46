// The accumulators of ConvTranspose2d, Conv1d and Conv2d against real PyTorch (float64, exact on
// these integers) on random cases, through both engines: checks weight layouts, flips, padding,
// dilation and output padding. Needs Debian's python3-torch (a failure in CI, a noted skip elsewhere).
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import type { Layer, Model } from '../ir/graph.ts';
import { simulate } from './simulate.ts';
import { PYTHON, gate, need } from '../../test/support/fixtures.ts';

const SCRIPT = `
import torch, json
torch.manual_seed(0)
cases=[]
for pad in [0,1,2]:
    x=torch.randint(-128,128,(1,3,4,5)).double(); w=torch.randint(-128,128,(3,4,3,3)).double(); b=torch.randint(-128,128,(4,)).double()
    y=torch.nn.functional.conv_transpose2d(x,w,b*128,stride=2,padding=pad,output_padding=1)
    cases.append({'kind':'convtranspose2d','pad':pad,'dil':1,'k':3,'inC':3,'outC':4,'dims':[4,5],'x':x.flatten().tolist(),'w':w.flatten().tolist(),'b':b.tolist(),'y':y.flatten().tolist(),'yshape':list(y.shape)})
for (k,pad,dil) in [(3,1,2),(5,2,1),(9,0,1),(2,1,3)]:
    x=torch.randint(-128,128,(1,3,30)).double(); w=torch.randint(-128,128,(4,3,k)).double()
    y=torch.nn.functional.conv1d(x,w,None,padding=pad,dilation=dil)
    cases.append({'kind':'conv1d','pad':pad,'dil':dil,'k':k,'inC':3,'outC':4,'dims':[30],'x':x.flatten().tolist(),'w':w.flatten().tolist(),'b':None,'y':y.flatten().tolist(),'yshape':list(y.shape)})
for (pad,dil) in [(1,1),(2,2),(0,1)]:
    x=torch.randint(-128,128,(1,3,9,7)).double(); w=torch.randint(-128,128,(4,3,3,3)).double(); b=torch.randint(-128,128,(4,)).double()
    y=torch.nn.functional.conv2d(x,w,b*128,padding=pad,dilation=dil)
    cases.append({'kind':'conv2d','pad':pad,'dil':dil,'k':3,'inC':3,'outC':4,'dims':[9,7],'x':x.flatten().tolist(),'w':w.flatten().tolist(),'b':b.tolist(),'y':y.flatten().tolist(),'yshape':list(y.shape)})
print(json.dumps(cases))
`;

interface Case { kind: 'conv1d' | 'conv2d' | 'convtranspose2d'; pad: number; dil: number; k: number; inC: number; outC: number; dims: number[]; x: number[]; w: number[]; b: number[] | null; y: number[]; yshape: number[] }

const torch = gate(need.torch());

function torchCases(): Case[] {
  const r = spawnSync(PYTHON, ['-c', SCRIPT], { encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`the PyTorch reference script failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as Case[];
}

describe.skipIf(torch.skip)('kernels vs PyTorch' + torch.note, () => {
  it('give the accumulators PyTorch gives on every case, in both engines', () => {
    for (const c of torchCases()) {
      const layer: Layer = {
        name: c.kind, op: c.kind, inChannels: c.inC, outChannels: c.outC, kernel: c.kind === 'conv1d' ? [c.k, 1] : [c.k, c.k],
        pad: c.pad, stride: c.kind === 'convtranspose2d' ? 2 : 1, ...(c.dil !== 1 ? { dilation: c.dil } : {}), flatten: false,
        activation: 'none', weightBits: 8, outputShift: 0, outputWidth: 32, hasBias: c.b !== null,
        params: { weights: Int8Array.from(c.w), bias: c.b ? Int32Array.from(c.b) : null },
      };
      const model: Model = { arch: 't', dataset: 't', device: 'MAX78002', input: { channels: c.inC, dims: c.dims, format: 'HWC' }, layers: [layer] };
      for (const engine of ['js', 'wasm'] as const) {
        const r = simulate(model, Int32Array.from(c.x), { engine });
        expect([r.shape.channels, ...r.shape.dims], `${c.kind} pad ${c.pad} dil ${c.dil}`).toEqual(c.yshape.slice(1));
        expect(Array.from(r.output), `${c.kind} pad ${c.pad} dil ${c.dil} (${engine})`).toEqual(c.y);
      }
    }
  });
});
