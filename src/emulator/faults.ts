import { z } from 'zod';
import { EmulatorError } from './errors.ts';
import { OPERATION_NAMES } from './router.ts';
import type { OperationName } from './router.ts';

// Scripted failures, set from tests in-process (`emulator.faults`) or over the admin API. The same
// zod schemas validate both, so a test and a curl call mean the same thing.

export const FailNextSpec = z.object({
  count: z.number().int().min(1).default(1),
  /** Only requests of this operation; any operation when absent. */
  operation: z.enum(OPERATION_NAMES).optional(),
  status: z.number().int().min(100).max(599).default(500),
  /** Sent verbatim (object as JSON, string as is); wins over code/message/shape. */
  body: z.unknown().optional(),
  code: z.string().optional(),
  message: z.string().optional(),
  shape: z.enum(['dis', 'apigw']).default('dis'),
});

export const FailRecordsSpec = z.object({
  share: z.number().min(0).max(1),
  errorCode: z.string().default('DIS.5250'),
  errorMessage: z.string().default('System error.'),
});

export const ResetConnectionsSpec = z.object({
  count: z.number().int().min(1).default(1),
  /** Before the records are stored (nothing written) or after (written, but the client never hears). */
  when: z.enum(['before-store', 'after-store']),
});

export const FaultPatch = z.strictObject({
  failNext: FailNextSpec.optional(),
  failRecords: FailRecordsSpec.optional(),
  latencyMs: z.number().int().min(0).max(600_000).optional(),
  resetConnections: ResetConnectionsSpec.optional(),
  throttleAll: z.boolean().optional(),
});

export type FailNext = z.output<typeof FailNextSpec>;
export type FailRecords = z.output<typeof FailRecordsSpec>;
export type ResetConnections = z.output<typeof ResetConnectionsSpec>;

export interface FaultSnapshot {
  readonly failNext: readonly FailNext[];
  readonly failRecords: FailRecords | null;
  readonly latencyMs: number;
  readonly resetConnections: ResetConnections | null;
  readonly throttleAll: boolean;
}

/** The in-process control surface (`emulator.faults`). Inputs take the schema defaults. */
export interface FaultControls {
  failNext(spec: z.input<typeof FailNextSpec>): void;
  failRecords(spec: z.input<typeof FailRecordsSpec>): void;
  setLatency(ms: number): void;
  resetConnections(spec: z.input<typeof ResetConnectionsSpec>): void;
  throttleAll(on?: boolean): void;
  /** Applies an admin-API body (validated by {@link FaultPatch}). */
  apply(patch: z.input<typeof FaultPatch>): void;
  clear(): void;
  snapshot(): FaultSnapshot;
}

export type InjectedFailure =
  | { readonly kind: 'raw'; readonly status: number; readonly body: unknown }
  | { readonly kind: 'error'; readonly error: EmulatorError };

/** What the server and PutRecords consult. */
export interface FaultEngine extends FaultControls {
  takeFailure(operation: OperationName): InjectedFailure | undefined;
  takeReset(): ResetConnections['when'] | undefined;
  /** Error for one PutRecords record, decided with `random`. */
  recordFailure(random: () => number): { code: string; message: string } | undefined;
  throttlingAll(): boolean;
  latencyMs(): number;
}

export function createFaults(): FaultEngine {
  let failNext: FailNext[] = [];
  let failRecords: FailRecords | null = null;
  let latencyMs = 0;
  let reset: ResetConnections | null = null;
  let throttleAll = false;

  const controls: FaultEngine = {
    failNext: (spec) => failNext.push(FailNextSpec.parse(spec)),
    failRecords(spec) {
      failRecords = FailRecordsSpec.parse(spec);
    },
    setLatency(ms) {
      latencyMs = z.number().int().min(0).parse(ms);
    },
    resetConnections(spec) {
      reset = ResetConnectionsSpec.parse(spec);
    },
    throttleAll(on = true) {
      throttleAll = on;
    },
    apply(input) {
      const patch = FaultPatch.parse(input);
      if (patch.failNext !== undefined) failNext.push(patch.failNext);
      if (patch.failRecords !== undefined) failRecords = patch.failRecords;
      if (patch.latencyMs !== undefined) latencyMs = patch.latencyMs;
      if (patch.resetConnections !== undefined) reset = patch.resetConnections;
      if (patch.throttleAll !== undefined) throttleAll = patch.throttleAll;
    },
    clear() {
      failNext = [];
      failRecords = null;
      latencyMs = 0;
      reset = null;
      throttleAll = false;
    },
    snapshot: () => ({
      failNext: failNext.map((f) => ({ ...f })),
      failRecords,
      latencyMs,
      resetConnections: reset,
      throttleAll,
    }),
    takeFailure(operation) {
      const index = failNext.findIndex(
        (f) => f.operation === undefined || f.operation === operation,
      );
      const fault = failNext[index];
      if (fault === undefined) return undefined;
      if (fault.count <= 1) failNext.splice(index, 1);
      else failNext[index] = { ...fault, count: fault.count - 1 };
      if (fault.body !== undefined) return { kind: 'raw', status: fault.status, body: fault.body };
      const code = fault.code ?? (fault.shape === 'dis' ? 'DIS.5000' : 'APIGW.0101');
      const message =
        fault.message ?? (fault.shape === 'dis' ? 'System error.' : 'Injected failure.');
      return { kind: 'error', error: new EmulatorError(fault.status, fault.shape, code, message) };
    },
    takeReset() {
      if (reset === null) return undefined;
      const { when } = reset;
      reset = reset.count <= 1 ? null : { ...reset, count: reset.count - 1 };
      return when;
    },
    recordFailure(random) {
      if (failRecords === null || failRecords.share === 0) return undefined;
      return random() < failRecords.share
        ? { code: failRecords.errorCode, message: failRecords.errorMessage }
        : undefined;
    },
    throttlingAll: () => throttleAll,
    latencyMs: () => latencyMs,
  };
  return controls;
}
