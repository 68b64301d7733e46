// How a service contract is declared: each method has a zod request and response schema, and a
// service may declare events it pushes. Pure (zod only): the renderer, the RPC layer and the
// services all derive their types from these declarations, so both ends are checked by the compiler.
import { z } from 'zod';

export interface MethodSpec<Req extends z.ZodType = z.ZodType, Res extends z.ZodType = z.ZodType, P extends z.ZodType | undefined = z.ZodType | undefined> {
  request: Req;
  response: Res;
  /** Long-running: reports progress through CallContext.progress and honours cancellation. */
  job: boolean;
  /**
   * What a job's Progress.data holds (its one home): the service writes it with `satisfies
   * z.input<...>`, a client parses it. Absent: the job's progress carries no data.
   */
  progress?: P;
  /** One line shown in docs and `--help`. */
  summary: string;
}

export interface ServiceSpec {
  methods: Record<string, MethodSpec>;
  /** Events pushed to every subscriber (e.g. a live-check window), by name → payload schema. */
  events: Record<string, z.ZodType>;
}

/** A short call (< ~100 ms): no progress. Requests are strict objects (unknown keys rejected). */
export function call<Req extends z.ZodType, Res extends z.ZodType>(
  summary: string, request: Req, response: Res,
): MethodSpec<Req, Res> {
  return { summary, request, response, job: false };
}

/** A long-running call: reports Progress (its `data` as `progress` says) and can be cancelled. */
export function job<Req extends z.ZodType, Res extends z.ZodType, P extends z.ZodType | undefined = undefined>(
  summary: string, request: Req, response: Res, progress?: P,
): MethodSpec<Req, Res, P> {
  return { summary, request, response, job: true, ...(progress ? { progress } : {}) };
}

export function service<M extends Record<string, MethodSpec>, E extends Record<string, z.ZodType>>(
  methods: M, events: E,
): { methods: M; events: E } {
  return { methods, events };
}

/** Progress of a job; `data` carries job-specific figures, as the job's `progress` schema declares. */
export const Progress = z.object({
  /** Phase name, e.g. `float`, `qat`, `synthesize`. */
  phase: z.string(),
  /** 0..1 when known. */
  fraction: z.number().min(0).max(1).optional(),
  /** One line for a status bar or a log. */
  message: z.string().optional(),
  /** Job-specific structured figures (the method's `progress` schema; parse it, never read it by key). */
  data: z.record(z.string(), z.unknown()).optional(),
});
export type Progress = z.infer<typeof Progress>;

/** Error codes every service may return; services add their own strings. */
export type ErrorCode =
  | 'bad-request'
  | 'not-found'
  | 'cancelled'
  | 'unauthorized'
  | 'io'
  | 'invalid-model'
  | 'invalid-data'
  | 'toolchain'
  | 'device'
  | 'internal'
  | (string & {});

/** The one error type that crosses the API; the UI branches on `code`, never on text. */
export class ApiError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** Dotted path of the offending request field or file field, when there is one. */
    readonly field?: string,
    /**
     * Structured facts a front door shows besides the message (a tool failure's tool, reason, fix
     * and output tail; an import refusal's source node and layer). JSON-safe.
     */
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'ApiError';
  }
  toJSON(): { code: string; message: string; field?: string; details?: Record<string, unknown> } {
    return { code: this.code, message: this.message, ...(this.field ? { field: this.field } : {}), ...(this.details ? { details: this.details } : {}) };
  }
}

export interface CallOptions {
  signal?: AbortSignal;
  onProgress?: (p: Progress) => void;
}

/** What a service implementation receives besides the validated request. */
export interface CallContext {
  signal: AbortSignal;
  /**
   * Reports progress, rate-limited to ~20 a second; `mustDeliver` (a record the UI keeps, like an
   * epoch's figures) is never dropped. A fraction of 1 always arrives too.
   */
  progress(p: Progress, options?: { mustDeliver?: boolean }): void;
}

type Methods<S extends ServiceSpec> = S['methods'];

/** Client view of a service: request as the caller writes it, response as validated. */
export type ServiceClient<S extends ServiceSpec> = {
  [K in keyof Methods<S>]: (
    request: z.input<Methods<S>[K]['request']>,
    options?: CallOptions,
  ) => Promise<z.output<Methods<S>[K]['response']>>;
};

/** Server view of a service: request after validation, response before serialisation. */
export type ServiceImpl<S extends ServiceSpec> = {
  [K in keyof Methods<S>]: (
    request: z.output<Methods<S>[K]['request']>,
    ctx: CallContext,
  ) => Promise<z.input<Methods<S>[K]['response']>>;
};

export type EventPayload<S extends ServiceSpec, E extends keyof S['events']> = z.output<S['events'][E]>;

/** Lets a service push its declared events. */
export type EventEmitterFor<S extends ServiceSpec> = <E extends keyof S['events'] & string>(
  event: E,
  payload: z.input<S['events'][E]>,
) => void;
