// The project's network as the model service holds it: loaded from project.json's `model` reference
// (a built-in network of ir/zoo.ts, sent inline, or a model.json file), planned on the project's
// device (processors, offsets, memory, rule diagnostics), with its bit policy editable: per-layer
// weight bits and the bit schedule live in the network itself (ir/bits-policy.ts), written to the
// project's network file, or kept beside a built-in network's name in project.json (ModelRef).
// Training reads them from there.
import { defineStore } from 'pinia';
import { computed, ref, shallowRef, watch } from 'vue';
import type { BitsStep, Model, WeightBits } from '@ir/graph.ts';
import { bitsSettings, withBitsSettings } from '@ir/bits-policy.ts';
import type { StoredLayer, StoredModel } from '@ir/schema.ts';
import { serializeModel } from '@ir/schema.ts';
import { zoo, zooForData } from '@ir/zoo.ts';
import type { DiagnosticDto, PlanDto } from '../../src-main/api/model.api.ts';
import { useBusy } from '../composables/use-busy.ts';
import { api } from '../api/client.ts';
import { useDataStore } from './data.ts';
import { useProjectStore } from './project.ts';

export type { DiagnosticDto, PlanDto };
export type LayerPlan = PlanDto['layers'][number];

export const useModelStore = defineStore('model', () => {
  const project = useProjectStore();
  const data = useDataStore();
  const ref_ = computed(() => project.current?.doc.model ?? null);
  /** The imported data's per-sample shape and classes: a built-in network is planned as it trains on them. */
  const dataShape = computed(() => {
    const d = data.dataset;
    return d ? { channels: d.channels, dims: d.dims, classes: d.classNames.length } : null;
  });
  /**
   * The zoo network as the IR builds it (no server round trip), shaped for the imported data when
   * there is some (as training shapes it); its own default input until then.
   */
  const model = computed<Model | null>(() => {
    const r = ref_.value;
    if (!r || r.kind !== 'zoo' || !(r.arch in zoo)) return null;
    const arch = r.arch as keyof typeof zoo;
    const device = project.current?.doc.device ?? 'MAX78002';
    return withBitsSettings((dataShape.value && zooForData(arch, device, dataShape.value)) || zoo[arch](device), r);
  });
  /** Whether the planned network follows the imported data: 'yes', 'no-data' (not imported yet) or 'mismatch' (wrong rank). */
  const fitsData = computed<'yes' | 'no-data' | 'mismatch' | null>(() => {
    const r = ref_.value;
    if (r?.kind === 'file') {
      // The project's own network is trained as it is: it must take the samples and give one output per class.
      const m = stored.value;
      if (!m) return null;
      if (!dataShape.value) return 'no-data';
      const d = dataShape.value;
      const last = m.layers[m.layers.length - 1];
      return m.input.channels === d.channels && m.input.dims.join() === d.dims.join() && last?.outChannels === d.classes ? 'yes' : 'mismatch';
    }
    if (!r || r.kind !== 'zoo' || !(r.arch in zoo)) return null;
    if (!dataShape.value) return 'no-data';
    return zooForData(r.arch as keyof typeof zoo, 'MAX78002', dataShape.value) ? 'yes' : 'mismatch';
  });

  const modelId = ref<string | null>(null);
  /** The model the service holds (bits applied); parameters stay on the service side. */
  const stored = shallowRef<StoredModel | null>(null);
  const plan = shallowRef<PlanDto | null>(null);
  const diagnostics = shallowRef<DiagnosticDto[]>([]);
  const { busy, error, run } = useBusy();
  /** Time of the last plan round trip, ms (shown, and read by the UI bench). */
  const planMs = ref<number | null>(null);
  /** Set while an existing ai8x model (checkpoint + YAML) is inspected instead of the project's network. */
  const imported = ref<{ checkpointPath: string; networkPath: string; samplePath?: string } | null>(null);

  const layers = computed<StoredLayer[]>(() => stored.value?.layers ?? []);
  /** Every error and warning of validation and planning, deduplicated, errors first. */
  const allDiagnostics = computed<DiagnosticDto[]>(() => {
    const seen = new Set<string>();
    const out: DiagnosticDto[] = [];
    for (const d of [...(plan.value?.errors ?? []), ...diagnostics.value, ...(plan.value?.warnings ?? [])]) {
      const key = `${d.rule}|${d.layer}|${d.message}`;
      if (!seen.has(key)) { seen.add(key); out.push(d); }
    }
    return out.sort((a, b) => (a.severity === b.severity ? a.layer - b.layer : a.severity === 'error' ? -1 : 1));
  });
  const diagnosticsByLayer = computed(() => {
    const map = new Map<number, DiagnosticDto[]>();
    for (const d of allDiagnostics.value) map.set(d.layer, [...(map.get(d.layer) ?? []), d]);
    return map;
  });

  /** The project's network file (absolute), when its network is one. */
  const networkPath = computed(() => {
    const r = ref_.value;
    if (r?.kind !== 'file' || !project.current) return null;
    return /^([a-zA-Z]:)?[\\/]/.test(r.path) ? r.path : `${project.current.path.replace(/[\\/]+$/, '')}/${r.path}`;
  });

  /** Loads the project's network (with its bit policy) into the model service and plans it. */
  async function load(): Promise<void> {
    const r = ref_.value;
    imported.value = null;
    modelId.value = null;
    stored.value = null;
    plan.value = null;
    diagnostics.value = [];
    if (!r) return;
    await run(async () => {
      const t0 = performance.now();
      let opened: Awaited<ReturnType<typeof api.model.load>>;
      if (r.kind === 'zoo') {
        if (!model.value) throw new Error(`The built-in network "${r.arch}" does not exist; choose ai85net5, ai85netextrasmall or ecgnet.`);
        opened = await api.model.load({ model: serializeModel(model.value) });
      } else {
        opened = await api.model.load({ path: networkPath.value! });
      }
      modelId.value = opened.modelId;
      diagnostics.value = opened.diagnostics;
      stored.value = opened.model;
      plan.value = await api.model.plan({ modelId: opened.modelId });
      planMs.value = performance.now() - t0;
    });
  }

  /**
   * Changes the bit policy (layers' final bits, the schedule): re-plans through the service and keeps
   * it in the project's network (its file, or the built-in network's reference).
   */
  async function editBits(edit: { bits?: Record<string, WeightBits>; bitsSchedule?: BitsStep[] | null }): Promise<boolean> {
    const id = modelId.value;
    if (!id) return false;
    const keep = project.isOpen && !imported.value;
    const ok = await run(async () => {
      const t0 = performance.now();
      const res = await api.model.setLayerBits({ modelId: id, ...edit, ...(keep && networkPath.value ? { saveTo: networkPath.value } : {}) });
      stored.value = res.model;
      plan.value = res.plan;
      diagnostics.value = (await api.model.validate({ modelId: id })).diagnostics;
      planMs.value = performance.now() - t0;
      const r = ref_.value;
      if (keep && r?.kind === 'zoo') await project.update({ model: { kind: 'zoo', arch: r.arch, ...bitsSettings(res.model) } });
      return true;
    });
    return ok === true;
  }
  const setBits = (bits: Record<string, WeightBits>) => editBits({ bits });
  /** Sets the bit schedule of the QAT phase (null: one width). */
  const setSchedule = (bitsSchedule: BitsStep[] | null) => editBits({ bitsSchedule });

  /**
   * Opens an existing ai8x model (quantized checkpoint + network YAML, optional sample) to inspect and
   * plan it here; bit changes then stay with it and do not touch the project.
   */
  async function openAi8x(paths: { checkpointPath: string; networkPath: string; samplePath?: string }): Promise<boolean> {
    const ok = await run(async () => {
      const t0 = performance.now();
      const opened = await api.model.importAi8x({ ...paths, ...(project.current ? { device: project.current.doc.device } : {}) });
      const planned = await api.model.plan({ modelId: opened.modelId });
      imported.value = { ...paths };
      modelId.value = opened.modelId;
      stored.value = opened.model;
      diagnostics.value = [...opened.warnings, ...opened.diagnostics];
      plan.value = planned;
      planMs.value = performance.now() - t0;
      return true;
    });
    return ok === true;
  }

  /** The project's own network file, beside project.json. */
  const NETWORK_FILE = 'network.model.json';

  /**
   * Imports your own network (ONNX, ai8x YAML + checkpoint, model.json) into the project as
   * network.model.json and makes it the project's network. A refusal names the node, layer and fix.
   */
  async function importNetwork(
    req: { path?: string; upload?: { name: string; base64: string }; checkpointPath?: string; checkpointUpload?: { name: string; base64: string }; inputShape?: number[] },
    onImported?: () => void,
  ): Promise<boolean> {
    const saveTo = project.pathIn(NETWORK_FILE);
    if (!saveTo) return false;
    const already = ref_.value?.kind === 'file' && ref_.value.path === NETWORK_FILE;
    const ok = await run(async () => {
      const r = await api.model.importNetwork({ ...req, saveTo, device: project.current!.doc.device });
      importWarnings.value = r.warnings;
      onImported?.();
      if (!already) await project.update({ model: { kind: 'file', path: NETWORK_FILE } }); // the watch reloads
      return true;
    });
    if (ok && already) await load();
    return ok === true;
  }

  /** Saves the builder's network as the project's network file and re-plans it; `onSaved` runs once it is written. */
  async function saveNetwork(next: Model, onSaved?: () => void): Promise<boolean> {
    const path = project.pathIn(NETWORK_FILE);
    if (!path) return false;
    const already = ref_.value?.kind === 'file' && ref_.value.path === NETWORK_FILE;
    const ok = await run(async () => {
      await api.model.saveNetwork({ model: serializeModel(next), path });
      onSaved?.();
      if (!already) await project.update({ model: { kind: 'file', path: NETWORK_FILE } }); // the watch reloads
      return true;
    });
    if (ok && already) await load();
    return ok === true;
  }
  const importWarnings = shallowRef<DiagnosticDto[]>([]);

  /** Sets every weighted layer to the same bit width. */
  const setAllBits = (bits: WeightBits) =>
    setBits(Object.fromEntries(layers.value.filter((l) => plan.value?.layers[layers.value.indexOf(l)]?.weightBytes).map((l) => [l.name, bits])));

  // Reload when the project, its network (not its bit policy: edits re-plan themselves), its device or the imported data's shape changes.
  const networkKey = computed(() => {
    const r = ref_.value;
    return r ? (r.kind === 'zoo' ? `zoo:${r.arch}` : `file:${r.path}`) : '';
  });
  watch(
    () => [project.current?.path, networkKey.value, project.current?.doc.device, JSON.stringify(dataShape.value)] as const,
    (now, before) => {
      if (!before || now.some((v, i) => v !== before[i])) void load();
    },
  );

  async function hydrate(): Promise<void> {
    if (ref_.value) await load();
  }
  function dispose(): void {}

  return {
    ref: ref_, model, fitsData, dataShape, modelId, stored, plan, diagnostics, allDiagnostics, diagnosticsByLayer, layers, busy, error, planMs, imported,
    networkPath, load, setBits, setSchedule, setAllBits, openAi8x, importNetwork, saveNetwork, importWarnings, hydrate, dispose,
  };
});
