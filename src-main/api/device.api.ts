// Contract of the device service: serial ports, the link to a board (or a virtual MAX78002), and
// the live check (device INT8 vs bit-exact simulator vs float, window by window).
import { z } from 'zod';
import { call, job, service } from './contract.ts';
import { ScalingDto } from './training.api.ts';

export const PortInfo = z.object({
  /** Path to open, e.g. /dev/ttyACM0 or a virtual device's pty link. */
  path: z.string(),
  /** What is likely on the other end; `virtual` for a running virtual MAX78002. */
  kind: z.enum(['max32625pico', 'maxim', 'ftdi', 'usb-serial', 'unknown', 'virtual']),
  /** One line for the port picker. */
  label: z.string(),
  vendorId: z.string().optional(),
  productId: z.string().optional(),
  manufacturer: z.string().optional(),
  serialNumber: z.string().optional(),
});

export const DeviceHello = z.object({
  protocolVersion: z.number().int(),
  deviceId: z.string(),
  firmwareId: z.string(),
  /** CRC-32 of the checkpoint + YAML the firmware was built from, 8 hex digits. */
  modelHash: z.string(),
  /** Channel-first input shape. */
  inputShape: z.array(z.number().int()),
  outputCount: z.number().int(),
  /** Bits per output value as sent (32: raw accumulators). */
  outputBits: z.number().int(),
  outputWeightBits: z.number().int(),
  /** Layers the firmware can dump (0: no LAYER_DUMP). */
  layerCount: z.number().int(),
});

const nullableNumber = z.number().nullable();

/** Per-window result pushed while a check runs. */
export const WindowEvent = z.object({
  index: z.number().int(),
  seq: z.number().int(),
  label: z.number().int().nullable(),
  deviceClass: z.number().int(),
  simClass: z.number().int(),
  floatClass: z.number().int().nullable(),
  bitExact: z.boolean(),
  cosineFloat: nullableNumber,
  maxAbsErrorFloat: nullableNumber,
  /** Inference time the device measured, µs. */
  deviceTimeUs: z.number(),
  /** Host processing time for the window, ms. */
  hostMs: z.number(),
  disagrees: z.boolean(),
  /** Output vectors of this window on the float scale (value · 2^scaleExp), for the live view. */
  outputs: z.object({ device: z.array(z.number()), simulator: z.array(z.number()), float: z.array(z.number()).nullable() }).optional(),
});

/** Rolling figures attached to each window event, and what the check's progress carries. */
export const RollingFigures = z.object({
  windows: z.number().int(),
  bitExactRate: z.number(),
  top1AgreementFloat: nullableNumber,
  cosineMean: nullableNumber,
  /** dB; null when unknown; a very large value never appears as Infinity on the wire. */
  sqnrDb: nullableNumber,
});

const Comparison = z.object({
  windows: z.number().int(),
  top1Agreement: nullableNumber,
  cosineMean: nullableNumber,
  cosineMin: nullableNumber,
  l2r: nullableNumber,
  /** dB; "Infinity" when the outputs are identical. */
  sqnrDb: z.union([z.number(), z.literal('Infinity')]).nullable(),
  rmse: nullableNumber,
  mae: nullableNumber,
  maxAbsError: nullableNumber,
  nse: nullableNumber,
  confusion: z.array(z.array(z.number().int())),
});

/** The live-check report without per-window rows (those come as `window` events / CSV). */
export const CheckReport = z.object({
  /** complete; stopped (by the user); link-lost (the port stayed gone past the replug window); device-stalled (live device silent). */
  status: z.enum(['complete', 'stopped', 'link-lost', 'device-stalled']),
  /** Why the check ended early, with how many windows it kept (null when complete). */
  reason: z.string().nullable(),
  /** Windows the check set out to compare. */
  windowsPlanned: z.number().int(),
  windows: z.number().int(),
  bitExactRate: z.number(),
  top1AgreementFloat: nullableNumber,
  cosineMean: nullableNumber,
  sqnrDb: z.union([z.number(), z.literal('Infinity')]).nullable(),
  l2r: nullableNumber,
  rmse: nullableNumber,
  mae: nullableNumber,
  maxAbsError: nullableNumber,
  nse: nullableNumber,
  framesCorrupted: z.number().int(),
  framesRecovered: z.number().int(),
  windowsLost: z.number().int(),
  device: z.object({ id: z.string(), firmware: z.string(), modelHash: z.string(), modelHashMatches: z.boolean() }),
  model: z.string(),
  source: z.string(),
  /** The input scaling the model expects (model.json `input.scaling`, null if not recorded); `raw`: the host scaled raw source values with it. */
  input: z.object({ raw: z.boolean(), scaling: ScalingDto.nullable() }),
  /** Output unit: value · 2^scaleExp compares with float logits (−14: Q17.14). */
  scaleExp: z.number().int(),
  float: z.object({ present: z.boolean(), note: z.string().optional() }),
  vsFloat: Comparison.nullable(),
  vsSimulator: Comparison,
  /** device vs labels, float twin vs labels, device vs float twin; null without labels. */
  rows: z.array(z.object({ name: z.string(), windows: z.number().int(), accuracy: nullableNumber })).nullable(),
  confusionDeviceVsLabels: z.array(z.array(z.number().int())).nullable(),
  latency: z.object({ meanUs: nullableNumber, p50Us: nullableNumber, p95Us: nullableNumber, maxUs: nullableNumber }),
  hostMsPerWindow: z.number(),
  wallMsPerWindow: z.number(),
  link: z.record(z.string(), z.number()),
  /** First-divergent-layer searches, one per searched window (a failed search says why in `note`). */
  divergences: z.array(z.object({
    window: z.number().int(), seq: z.number().int(),
    status: z.enum(['found', 'equal', 'unsupported', 'failed']),
    layer: z.number().int().nullable(), name: z.string().nullable(),
    mismatches: z.number().int(), firstIndex: z.number().int().nullable(), note: z.string(),
    search: z.object({
      method: z.enum(['layer-crcs', 'layer-dumps', 'none']), seq: z.number().int().nullable(), resent: z.boolean(),
      requests: z.number().int(), layersCompared: z.number().int(), bytesDumped: z.number().int(), bytesReceived: z.number().int(), ms: z.number(),
    }),
  })),
  /** Windows saved for retraining; `against`: how many differ from each reference (a window may count in several). */
  disagreements: z.object({
    count: z.number().int(),
    against: z.object({ simulator: z.number().int(), floatTwin: z.number().int(), labels: z.number().int() }),
    xPath: z.string().optional(),
    yPath: z.string().optional(),
  }),
});

export const deviceApi = service(
  {
    ping: call('Checks that the device service answers.', z.strictObject({}), z.object({ ok: z.literal(true) })),
    listPorts: call(
      'Lists serial ports (EV kit / PICO first) plus a running virtual MAX78002.',
      z.strictObject({}),
      z.object({
        ports: z.array(PortInfo),
        /** Set when the OS cannot list ports (e.g. no udevadm): offer manual path entry. */
        warning: z.string().optional(),
      }),
    ),
    connect: call(
      'Opens the port and reads the device HELLO (errors: port-not-found, port-busy, port-permission, device-silent).',
      z.strictObject({
        path: z.string().min(1),
        /** Line rate, default 921600. */
        baud: z.number().int().positive().optional(),
        /** The check to come (its artifacts, source, labels, raw): read first, so a bad file is named before the port is opened. */
        prepare: z.strictObject({ artifacts: z.string().min(1), source: z.string().optional(), labels: z.string().optional(), raw: z.boolean().optional() }).optional(),
      }),
      z.object({ path: z.string(), hello: DeviceHello }),
    ),
    disconnect: call('Closes the link.', z.strictObject({}), z.object({ closed: z.boolean() })),
    startCheck: job(
      'Runs the live check on the connected device; progress carries the rolling figures.',
      z.strictObject({
        /** Exported artifacts folder (checkpoint.pth.tar, network.yaml, optional model.onnx). */
        artifacts: z.string().min(1),
        /**
         * "device" (the board's own sensor), "mnist", an int8 .npy of windows, or raw values (a .csv in
         * the training file's layout, a float .npy) scaled with model.json `input.scaling`. Default "device".
         */
        source: z.string().optional(),
        /** An integer .npy holds raw values (e.g. ADC counts), not int8 codes. */
        raw: z.boolean().optional(),
        /** Labels .npy for a windows file. */
        labels: z.string().optional(),
        /** Windows to check (default: the whole source; live: 100). */
        windows: z.number().int().positive().optional(),
        /** Folder for the disagreeing windows dataset. */
        saveDir: z.string().optional(),
      }),
      CheckReport,
      RollingFigures,
    ),
    inputScaling: call(
      'The input scaling an export expects (its model.json input.scaling): how raw windows are scaled to int8 codes.',
      z.strictObject({ artifacts: z.string().min(1) }),
      z.object({ scaling: ScalingDto.nullable(), /** The model.json read, or null when the folder has none. */ file: z.string().nullable() }),
    ),
    stopCheck: call('Stops the running check (its job then returns the report so far).', z.strictObject({}), z.object({ stopped: z.boolean() })),
    getReport: call(
      'The last check report as JSON or per-window CSV text.',
      z.strictObject({ format: z.enum(['json', 'csv']) }),
      z.object({ fileName: z.string(), text: z.string() }),
    ),
    startVirtualDevice: call(
      'Starts a virtual MAX78002 (bit-exact simulator behind a pty) and returns its port path.',
      z.strictObject({
        artifacts: z.string().min(1),
        /** Live-mode source: "mnist", an int8 .npy, or raw values (.csv, float .npy) the device scales with model.json input.scaling. */
        sensor: z.string().optional(),
        /** Sensor windows per second, default 10. */
        rateHz: z.number().positive().optional(),
        /** Probability per frame of an injected fault, 0..1. */
        faultRate: z.number().min(0).max(1).optional(),
        baud: z.number().int().positive().optional(),
        /** Deployment-bug injection: every value of this layer off in its lowest bit (to try the layer search). */
        bugLayer: z.number().int().min(0).optional(),
        /** Never answer layer requests (to see a layer search fail). */
        ignoreLayerRequests: z.boolean().optional(),
      }),
      z.object({ path: z.string(), pts: z.string() }),
    ),
    stopVirtualDevice: call('Stops the virtual MAX78002.', z.strictObject({}), z.object({ stopped: z.boolean() })),
    unplugVirtualDevice: call(
      'Simulates pulling the virtual device\'s cable for a moment.',
      z.strictObject({ ms: z.number().int().min(0).max(60000).optional() }),
      z.object({ ok: z.boolean() }),
    ),
  },
  {
    /** One checked window, with the rolling figures after it. */
    window: z.object({ record: WindowEvent, rolling: RollingFigures }),
    /** Link status changes: connected, unplugged (cable pulled), reconnecting, closed. */
    status: z.object({ path: z.string(), status: z.enum(['connected', 'unplugged', 'reconnecting', 'closed']), message: z.string().optional() }),
  },
);
