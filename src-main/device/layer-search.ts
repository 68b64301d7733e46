// Finding the first layer whose device output differs from the bit-exact simulator, for one window
// whose final output differed. One LAYER_CRC_REQ returns the CRC-32 of every layer the device holds;
// the first CRC that differs from the simulator's names the layer, and only that layer is dumped
// (to count and place its wrong values). Firmware without LAYER_CRC_REQ gets its layers dumped in
// order instead. A search that breaks off says why and never takes the check's results with it.
import { ApiError } from '../api/contract.ts';
import type { LayerOutput, ModelRuntime } from './model-runtime.ts';
import * as P from './protocol.ts';
import { DeviceRefusal, type DeviceSession } from './session.ts';

export interface LayerSearch {
  /** layer-crcs: one CRC per layer in one request; layer-dumps: whole layers dumped in order; none: not searched. */
  method: 'layer-crcs' | 'layer-dumps' | 'none';
  /** seq of the INPUT whose layers were read (the window's own, or the seq it was sent again under). */
  seq: number | null;
  /** The window was sent to the device again to read its layers (a live window, or one the device no longer held). */
  resent: boolean;
  /** Layer requests: LAYER_CRC_REQs sent plus LAYER_DUMP chunks received. */
  requests: number;
  /** Layers compared with the simulator. */
  layersCompared: number;
  /** Layer values dumped (LAYER_DUMP element bytes). */
  bytesDumped: number;
  /** Payload bytes received for the search: the CRC table plus the dumps. */
  bytesReceived: number;
  ms: number;
}

export interface Divergence {
  /** Index of the window in the check. */
  window: number;
  /** seq of the window as checked (INPUT seq, or the device's SENSOR seq in live mode). */
  seq: number;
  /** found: `layer` is the first that differs; equal: every layer equals the simulator; unsupported: the firmware cannot report layers; failed: the search broke off (see note). */
  status: 'found' | 'equal' | 'unsupported' | 'failed';
  /** First layer whose device output differs from the simulator's; null unless found. */
  layer: number | null;
  name: string | null;
  mismatches: number;
  firstIndex: number | null;
  note: string;
  /** How the layer was found: which window, how many requests and bytes. */
  search: LayerSearch;
}

export interface SearchTarget {
  /** Index of the window in the check. */
  index: number;
  /** seq of the window as checked. */
  seq: number;
  /** INPUT seq whose layers the device may still hold; null (live windows): send the window again. */
  inputSeq: number | null;
  window: Int8Array;
  /** The device's final output for this window, as checked. */
  outputs: Int32Array;
}

const fmt = (n: number) => n.toLocaleString('en-US');
const refused = (e: unknown, code: number) => e instanceof DeviceRefusal && e.deviceCode === code;

export async function findDivergence(session: DeviceSession, rt: ModelRuntime, t: SearchTarget): Promise<Divergence> {
  const t0 = performance.now();
  const search: LayerSearch = { method: 'none', seq: null, resent: false, requests: 0, layersCompared: 0, bytesDumped: 0, bytesReceived: 0, ms: 0 };
  const done = (d: Omit<Divergence, 'search' | 'window' | 'seq'>): Divergence => {
    search.ms = performance.now() - t0;
    return { window: t.index, seq: t.seq, ...d, search };
  };
  if (session.hello.layerCount === 0) {
    return done({ status: 'unsupported', layer: null, name: null, mismatches: 0, firstIndex: null, note: 'The firmware cannot report its layers (HELLO says 0 layers): the first divergent layer cannot be searched on this device.' });
  }
  let resendNote = '';
  const resend = async (why: string): Promise<number> => {
    const r = await session.infer(t.window);
    search.resent = true;
    const same = r.outputs.length === t.outputs.length && r.outputs.every((v, i) => v === t.outputs[i]);
    resendNote = same
      ? ` The window was sent again (${why}); the device gave the same output.`
      : ` The window was sent again (${why}) and the device gave another output than when it was checked: the difference depends on how the window reached the CNN (capture path, timing), which the layers of this resend cannot show.`;
    return r.seq;
  };
  try {
    const sim = rt.runLayers(t.window).layers;
    let seq = t.inputSeq ?? (await resend('the device keeps no layers of a window it captured itself'));
    search.seq = seq;
    // A device that no longer holds the window (it keeps only its last one) gets it once more.
    const again = async <T>(read: () => Promise<T>): Promise<T> => {
      try {
        return await read();
      } catch (error) {
        if (search.resent || !refused(error, P.ErrorCode.STALE_WINDOW)) throw error;
        seq = search.seq = await resend('the device no longer held its layers');
        return await read();
      }
    };
    let crcs: P.LayerCrcs | null = null;
    try {
      crcs = await again(() => {
        search.requests++;
        return session.layerCrcs(seq);
      });
    } catch (error) {
      if (!refused(error, P.ErrorCode.UNKNOWN_TYPE)) throw error; // firmware without LAYER_CRC_REQ
    }
    const dump = (l: number, expect: { total: number; elemBytes: number }) => again(async () => {
      const d = await session.layerDump(seq, l, expect, {
        onChunk: (c) => {
          search.requests++;
          search.bytesReceived += c.data.length * c.elemBytes + 15;
        },
      });
      search.bytesDumped += d.total * d.elemBytes;
      return d;
    });
    if (crcs) {
      search.method = 'layer-crcs';
      search.bytesReceived += 4 + P.LAYER_CRC_ENTRY_BYTES * crcs.layers.length;
      const count = Math.min(crcs.layers.length, sim.length);
      for (let l = 0; l < count; l++) {
        search.layersCompared = l + 1;
        const dev = crcs.layers[l]!;
        const ref = sim[l]!;
        if (dev.total !== ref.data.length || dev.elemBytes !== ref.elemBytes) {
          return done({
            status: 'found', layer: l, name: ref.name, mismatches: Math.max(dev.total, ref.data.length), firstIndex: null,
            note: `Layer ${l} (${ref.name}) is the first that differs: the device holds ${fmt(dev.total)} values of ${dev.elemBytes} byte(s), the model ${fmt(ref.data.length)} of ${ref.elemBytes}. The firmware was built from another network description.${how(t, search)}${resendNote}`,
          });
        }
        if (dev.crc === P.layerCrc(ref.data, ref.elemBytes)) continue;
        const d = await dump(l, { total: ref.data.length, elemBytes: ref.elemBytes });
        return done(found(rt, l, ref, d.data, t, search, resendNote));
      }
      return done(allEqual(count, crcs.layers.length, sim.length, t, search, resendNote));
    }
    search.method = 'layer-dumps';
    const count = Math.min(session.hello.layerCount, sim.length);
    for (let l = 0; l < count; l++) {
      search.layersCompared = l + 1;
      const ref = sim[l]!;
      const d = await dump(l, { total: ref.data.length, elemBytes: ref.elemBytes });
      if (d.data.some((v, i) => v !== ref.data[i])) return done(found(rt, l, ref, d.data, t, search, resendNote));
    }
    return done(allEqual(count, session.hello.layerCount, sim.length, t, search, resendNote));
  } catch (error) {
    return done({
      status: 'failed', layer: null, name: null, mismatches: 0, firstIndex: null,
      note: `The layer search for window #${t.index} failed after ${search.requests} layer request(s): ${failure(error)}. The windows already compared are kept in this report.`,
    });
  }
}

/** Why a search broke off, in plain words, then the exact message. */
function failure(error: unknown): string {
  const message = String((error as Error)?.message ?? error).replace(/\.$/, '');
  const code = error instanceof ApiError ? error.code : '';
  const plain = error instanceof DeviceRefusal ? 'the device refused a layer request'
    : code === 'device-timeout' ? 'the device stopped answering layer requests'
    : code === 'device-unplugged' || code === 'cancelled' ? 'the link to the device closed'
    : code === 'device' || error instanceof P.ProtocolError ? "the device's layer data does not fit the model"
    : 'an unexpected error';
  return `${plain} (${message})`;
}

/** How the search went, in words: which window, how many requests and bytes. */
function how(t: SearchTarget, s: LayerSearch): string {
  const via = s.method === 'layer-crcs' ? `the CRC-32 of ${s.layersCompared} layer(s)` : `${s.layersCompared} layer(s) dumped in order`;
  const seq = s.resent ? `sent again as INPUT #${s.seq}` : `INPUT #${s.seq}`;
  return ` Found from window #${t.index} (${seq}): ${via}, ${s.requests} layer request(s), ${fmt(s.bytesDumped)} bytes of layer values dumped.`;
}

function found(rt: ModelRuntime, l: number, ref: LayerOutput, got: Int32Array, t: SearchTarget, s: LayerSearch, resendNote: string): Omit<Divergence, 'search' | 'window' | 'seq'> {
  let mismatches = 0;
  let first: number | null = null;
  for (let i = 0; i < ref.data.length; i++) {
    if (ref.data[i] !== got[i]) {
      mismatches++;
      first ??= i;
    }
  }
  const n = ref.data.length;
  return {
    status: 'found', layer: l, name: ref.name, mismatches, firstIndex: first,
    note: `Layer ${l} (${ref.name}) is the first whose device output differs from the simulator (${fmt(mismatches)} of ${fmt(n)} values, first at ${first}). ${likelyCause(rt, l, mismatches, n)}${how(t, s)}${resendNote}`,
  };
}

function allEqual(compared: number, deviceLayers: number, modelLayers: number, t: SearchTarget, s: LayerSearch, resendNote: string): Omit<Divergence, 'search' | 'window' | 'seq'> {
  const fewer = deviceLayers < modelLayers ? ` The device reports ${deviceLayers} of the model's ${modelLayers} layers; the rest could not be compared.` : '';
  return {
    status: 'equal', layer: null, name: null, mismatches: 0, firstIndex: null,
    note: `All ${compared} layer(s) the device reports equal the simulator; the difference arises after them (unload or output scaling).${fewer}${how(t, s)}${resendNote}`,
  };
}

/** Plain-words guess at why a layer differs, from how much of it differs and how it is placed. */
function likelyCause(rt: ModelRuntime, l: number, mismatches: number, n: number): string {
  const layer = rt.model.layers[l];
  if (!layer) return '';
  const p = layer.placement;
  const where = p
    ? `processors ${p.processors}, in_offset 0x${p.inOffset.toString(16)}, out_offset 0x${p.outOffset.toString(16)}`
    : 'its placement';
  if (layer.op === 'passthrough') {
    return `This layer only moves (and pools) data: likely its input read from the wrong offset or a processor map that misses channels (${where}).`;
  }
  const shift = `output shift ${layer.outputShift + (layer.extraShift ?? 0)} (+${8 - layer.weightBits} for ${layer.weightBits}-bit weights)`;
  if (mismatches === n || mismatches > n / 2) {
    return `Most values differ: likely the ${shift}, the weights loaded for this layer, or an input read from the wrong offset (${where}).`;
  }
  return `Only part of it differs: likely overlapping data memory or a processor map that misses channels (${where}); also check the ${shift}.`;
}

