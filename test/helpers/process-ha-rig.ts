import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request } from 'undici';
import { z } from 'zod';
import type { Emulator, EmulatorOptions } from '../../src/emulator/emulator.ts';
import { createSpoolKeys } from '../../src/spool/keys.ts';
import type { Cleanup } from './cleanup.ts';
import { startGatewayFixture } from './process-fixture.ts';
import { spawnGateways, type GatewayProcess } from './process-gateway.ts';
import type { NodeAddress } from './redis-topology.ts';

// Gateway processes (the real entry point, production mode) in front of one emulator and a Redis
// topology, a load of keep-alive clients of several kinds whose every record carries a unique id,
// and the ledger that compares what callers were told with what DIS holds afterwards:
// acked / in DIS / lost / duplicates.

export const LOGICAL_STREAM = 'clicks';
/** The principal of the `limited` callers and its limit. */
export const LIMITED_PRINCIPAL = 'load-limited';

export type RedisTopology =
  | { readonly url: string }
  | { readonly nodes: readonly NodeAddress[] }
  | { readonly sentinels: readonly NodeAddress[]; readonly name: string };

export interface HaRigOptions {
  readonly redis: RedisTopology;
  readonly gateways: number;
  readonly partitions?: number;
  /** The config file's `spool` section (merged over short test defaults). */
  readonly spool?: Readonly<Record<string, number | string>>;
  /** requests/s of LIMITED_PRINCIPAL (burst 5). */
  readonly limitedRequestsPerS?: number;
  readonly disRequestTimeoutMs?: number;
  readonly emulator?: EmulatorOptions;
}

export interface HaRig {
  readonly emulator: Emulator;
  readonly disStream: string;
  /** The spool's Redis key (its slot decides the Cluster master that holds it). */
  readonly spoolKey: string;
  readonly gateways: readonly GatewayProcess[];
  /** A token of `principal` for the stream (and receipts of its own records). */
  token(principal: string): string;
  /** Every record id DIS holds, one entry per copy. */
  storedIds(): string[];
  /** A counter summed over every gateway's /metrics (labels ignored). */
  metricSum(name: string): Promise<number>;
  send(gateway: number, init: SendInit): Promise<Answer>;
}

export interface SendInit {
  readonly method?: 'GET' | 'POST';
  readonly path: string;
  readonly token: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
}

export interface Answer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly text: string;
}

export async function startHaRig(t: Cleanup, options: HaRigOptions): Promise<HaRig> {
  const partitions = options.partitions ?? 2;
  const fixture = await startGatewayFixture(t, {
    name: 'proc-ha',
    partitions,
    ...(options.emulator === undefined ? {} : { emulator: options.emulator }),
  });
  const { emulator, disStream } = fixture;
  const agent = new Agent({ connections: 64, keepAliveTimeout: 30_000 });
  t.after(() => agent.close());

  const redisSection =
    'url' in options.redis
      ? { url: options.redis.url }
      : 'nodes' in options.redis
        ? { nodes: options.redis.nodes }
        : { sentinels: options.redis.sentinels, name: options.redis.name };
  const configPath = await fixture.writeConfig('gateway.json', {
    // A slow two-core host must not turn Redis calls into memory fallbacks (see the limiter test).
    redis: { ...redisSection, command_timeout_ms: 1000, connect_timeout_ms: 1000 },
    dis: { request_timeout_ms: options.disRequestTimeoutMs ?? 3000 },
    limits: {
      default: {
        requests_per_s: 100_000,
        burst: 100_000,
        records_per_s: 10_000_000,
        bytes_per_s: 1_000_000_000,
      },
      principals: {
        [LIMITED_PRINCIPAL]: { requests_per_s: options.limitedRequestsPerS ?? 20, burst: 5 },
      },
    },
    streams: {
      [LOGICAL_STREAM]: {
        dis_stream: disStream,
        partitions,
        // Stream limits far above the load: this rig measures Redis, not DIS quotas.
        limits: { records_per_s: 10_000_000, bytes_per_s: 1_000_000_000 },
      },
    },
    spool: {
      block_ms: 200,
      // Above put_timeout_ms + one DIS request's bound (2 s + 2 × 3 s).
      claim_idle_ms: 15_000,
      put_timeout_ms: 2000,
      retry_initial_ms: 100,
      retry_max_ms: 1000,
      ...options.spool,
    },
  });
  const env = { ...fixture.env, NODE_ENV: 'production', GATEWAY_CONFIG: configPath };
  const gateways = await spawnGateways(
    t,
    Array.from({ length: options.gateways }, () => ({ env, timeoutMs: 30_000 })),
  );

  const send = async (index: number, init: SendInit): Promise<Answer> => {
    const gateway = gateways[index % gateways.length];
    if (gateway === undefined) throw new Error('no gateway');
    const response = await request(`${gateway.url}${init.path}`, {
      method: init.method ?? 'POST',
      dispatcher: agent,
      headers: { authorization: `Bearer ${init.token}`, ...init.headers },
      ...(init.body === undefined ? {} : { body: init.body }),
      headersTimeout: 30_000,
      bodyTimeout: 30_000,
    });
    return {
      status: response.statusCode,
      headers: response.headers,
      text: await response.body.text(),
    };
  };

  const tokens = new Map<string, string>();
  const token = (principal: string): string => {
    let value = tokens.get(principal);
    if (value === undefined) {
      value = fixture.token(principal, [`dis:write:${LOGICAL_STREAM}`], 3600);
      tokens.set(principal, value);
    }
    return value;
  };

  return {
    emulator,
    disStream,
    spoolKey: createSpoolKeys().stream(disStream),
    gateways,
    token,
    storedIds: () =>
      emulator.state
        .records(disStream)
        .flatMap((p) =>
          p.records.map((r) => StoredRecord.parse(JSON.parse(r.data.toString('utf8'))).rec),
        ),
    async metricSum(name) {
      let sum = 0;
      for (const gateway of gateways) {
        const response = await request(`${gateway.url}/metrics`, { dispatcher: agent });
        const text = await response.body.text();
        for (const line of text.split('\n')) {
          if (line.startsWith(`${name} `) || line.startsWith(`${name}{`)) {
            sum += Number(line.slice(line.lastIndexOf(' ') + 1));
          }
        }
      }
      return sum;
    },
    send,
  };
}

const StoredRecord = z.object({ rec: z.string() });
const Verdicts = z.object({
  records: z.array(z.object({ status: z.string() }).loose()),
});
const Accepted = z.object({ receipt: z.string() });
const Problem = z.object({ code: z.string() });

const CALLER_KINDS = ['sync', 'async', 'idempotent', 'limited'] as const;
export type CallerKind = (typeof CALLER_KINDS)[number];

export interface LoadOptions {
  /** Callers of each kind, each a keep-alive loop of its own. */
  readonly callers: Readonly<Partial<Record<CallerKind, number>>>;
  readonly durationMs: number;
  readonly recordsPerRequest?: number;
  /** `Prefer: wait=N` of the sync and idempotent callers. */
  readonly waitS?: number;
  /** Runs alongside the load (the fault script); the load ends when both are done. */
  readonly during?: (elapsedMs: () => number) => Promise<void>;
}

export interface TimedStatus {
  readonly atMs: number;
  readonly kind: CallerKind;
  readonly status: number;
  readonly code: string | undefined;
}

export interface Ledger {
  /** Record id → what its caller was told: acknowledged (written or spooled) or not. */
  readonly records: Map<string, { readonly kind: CallerKind; acked: boolean }>;
  /** Receipts of 202s, with the principal that owns them. */
  readonly receipts: { readonly id: string; readonly principal: string }[];
  /** Every answer's status (and problem code) with its time from the start. */
  readonly answers: TimedStatus[];
  /** Idempotent requests that ended in a replayed verdict. */
  replayed: number;
  /** Admitted (non-429) requests of the limited callers, and the seconds they ran. */
  limitedAdmitted: number;
  elapsedMs: number;
}

/** Status counts like `202: 310, 503 ERR_REDIS_REPLICATION_TIMEOUT: 4`, per caller kind. */
export function statusSummary(answers: readonly TimedStatus[]): string {
  const counts = new Map<string, number>();
  for (const a of answers) {
    const key = `${a.kind} ${a.status}${a.code === undefined ? '' : ` ${a.code}`}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, n]) => `${k}: ${n}`)
    .join(', ');
}

/** Per `bucketMs`: `t=2.5s 202×40 503×3` — where in time the answers changed. */
export function timeline(answers: readonly TimedStatus[], bucketMs = 500): string {
  const buckets = new Map<number, Map<string, number>>();
  for (const a of answers) {
    const bucket = Math.floor(a.atMs / bucketMs);
    const counts = buckets.get(bucket) ?? new Map<string, number>();
    const key =
      a.status === 503 && a.code !== undefined ? `503/${a.code.slice(10)}` : String(a.status);
    counts.set(key, (counts.get(key) ?? 0) + 1);
    buckets.set(bucket, counts);
  }
  return [...buckets]
    .sort(([a], [b]) => a - b)
    .map(
      ([bucket, counts]) =>
        `${((bucket * bucketMs) / 1000).toFixed(1)}s ${[...counts].map(([k, n]) => `${k}×${n}`).join(' ')}`,
    )
    .join(' | ');
}

function problemCode(answer: Answer): string | undefined {
  if (answer.status < 400) return undefined;
  try {
    return Problem.parse(JSON.parse(answer.text)).code;
  } catch {
    return 'unparsed';
  }
}

function retryAfterMs(answer: Answer): number {
  const value = Number(answer.headers['retry-after']);
  return Number.isFinite(value) ? Math.min(value, 2) * 1000 : 500;
}

/** Runs the callers until `durationMs` has passed and `during` has finished. */
export async function runLoad(rig: HaRig, options: LoadOptions): Promise<Ledger> {
  const ledger: Ledger = {
    records: new Map(),
    receipts: [],
    answers: [],
    replayed: 0,
    limitedAdmitted: 0,
    elapsedMs: 0,
  };
  const perRequest = options.recordsPerRequest ?? 3;
  const wait = `wait=${String(options.waitS ?? 5)}`;
  const startedAt = performance.now();
  const elapsed = (): number => performance.now() - startedAt;
  let faultsDone = options.during === undefined;
  let sent = 0;
  const note = (kind: CallerKind, answer: Answer): void => {
    ledger.answers.push({
      atMs: elapsed(),
      kind,
      status: answer.status,
      code: problemCode(answer),
    });
  };
  const newRecords = (kind: CallerKind): string[] => {
    const ids = Array.from({ length: perRequest }, () => randomUUID());
    for (const id of ids) ledger.records.set(id, { kind, acked: false });
    return ids;
  };
  const body = (ids: readonly string[]): string =>
    JSON.stringify({ records: ids.map((rec) => ({ data: { rec } })) });
  const ackVerdicts = (ids: readonly string[], answer: Answer): void => {
    const { records } = Verdicts.parse(JSON.parse(answer.text));
    records.forEach((verdict, i) => {
      const entry = ledger.records.get(ids[i] ?? '');
      if (entry !== undefined && verdict.status === 'ok') entry.acked = true;
    });
  };

  const caller = async (kind: CallerKind, index: number): Promise<void> => {
    const principal = kind === 'limited' ? LIMITED_PRINCIPAL : `load-${kind}-${index}`;
    const token = rig.token(principal);
    const headers = { 'content-type': 'application/json' };
    while (elapsed() < options.durationMs || !faultsDone) {
      const gateway = sent++;
      const ids = newRecords(kind);
      try {
        if (kind === 'async') {
          const answer = await rig.send(gateway, {
            path: `/v1/streams/${LOGICAL_STREAM}/records`,
            token,
            headers: { ...headers, prefer: 'respond-async' },
            body: body(ids),
          });
          note(kind, answer);
          if (answer.status === 202) {
            for (const id of ids) {
              const entry = ledger.records.get(id);
              if (entry !== undefined) entry.acked = true;
            }
            ledger.receipts.push({
              id: Accepted.parse(JSON.parse(answer.text)).receipt,
              principal,
            });
          }
        } else if (kind === 'idempotent') {
          // The same key and body until an answer with verdicts: what a careful client does.
          const key = randomUUID();
          for (let attempt = 0; attempt < 40; attempt += 1) {
            const answer = await rig.send(gateway + attempt, {
              path: `/v1/streams/${LOGICAL_STREAM}/records`,
              token,
              headers: { ...headers, prefer: wait, 'idempotency-key': key },
              body: body(ids),
            });
            note(kind, answer);
            if (answer.status === 200 || answer.status === 207) {
              ackVerdicts(ids, answer);
              if (answer.headers['idempotent-replayed'] === 'true') ledger.replayed += 1;
              break;
            }
            if (answer.status < 500 && answer.status !== 409) break;
            await sleep(retryAfterMs(answer));
          }
        } else {
          const answer = await rig.send(gateway, {
            path: `/v1/streams/${LOGICAL_STREAM}/records`,
            token,
            headers: { ...headers, prefer: wait },
            body: body(ids),
          });
          note(kind, answer);
          if (answer.status === 200 || answer.status === 207) {
            ackVerdicts(ids, answer);
            if (kind === 'limited') ledger.limitedAdmitted += 1;
          } else if (kind === 'limited' && answer.status !== 429) {
            ledger.limitedAdmitted += 1;
          }
        }
      } catch {
        // A connection the gateway closed: nothing was acknowledged to this caller.
        ledger.answers.push({ atMs: elapsed(), kind, status: 0, code: 'connection' });
      }
    }
  };

  const loops: Promise<void>[] = [];
  for (const kind of CALLER_KINDS) {
    for (let i = 0; i < (options.callers[kind] ?? 0); i += 1) loops.push(caller(kind, i));
  }
  if (options.during !== undefined) {
    loops.push(
      options.during(elapsed).finally(() => {
        faultsDone = true;
      }),
    );
  }
  await Promise.all(loops);
  ledger.elapsedMs = elapsed();
  return ledger;
}

export interface Reckoning {
  readonly acked: number;
  readonly inDis: number;
  readonly lost: readonly string[];
  /** Ids DIS holds more than once, and the extra copies. */
  readonly duplicated: number;
  readonly extraCopies: number;
  /** Not acknowledged to their caller, yet in DIS (504s, 503s after a write): not losses. */
  readonly unackedInDis: number;
  readonly line: string;
}

/**
 * Waits (up to `timeoutMs`) until every acknowledged record is in DIS, then counts. Ids in DIS
 * that nobody sent would be an error of the rig, and throw.
 */
export async function reckon(rig: HaRig, ledger: Ledger, timeoutMs = 60_000): Promise<Reckoning> {
  const acked = [...ledger.records].filter(([, r]) => r.acked).map(([id]) => id);
  const deadline = Date.now() + timeoutMs;
  let copies = new Map<string, number>();
  for (;;) {
    copies = new Map();
    for (const id of rig.storedIds()) copies.set(id, (copies.get(id) ?? 0) + 1);
    if (acked.every((id) => copies.has(id)) || Date.now() > deadline) break;
    await sleep(250);
  }
  for (const id of copies.keys()) {
    if (!ledger.records.has(id)) throw new Error(`DIS holds ${id}, which the load never sent`);
  }
  const lost = acked.filter((id) => !copies.has(id));
  let duplicated = 0;
  let extraCopies = 0;
  let unackedInDis = 0;
  const duplicatedByKind = new Map<string, number>();
  for (const [id, n] of copies) {
    if (n > 1) {
      duplicated += 1;
      extraCopies += n - 1;
      const kind = ledger.records.get(id)?.kind ?? '?';
      duplicatedByKind.set(kind, (duplicatedByKind.get(kind) ?? 0) + 1);
    }
    if (ledger.records.get(id)?.acked === false) unackedInDis += 1;
  }
  const inDis = acked.length - lost.length;
  return {
    acked: acked.length,
    inDis,
    lost,
    duplicated,
    extraCopies,
    unackedInDis,
    line:
      `acked ${acked.length}, in DIS ${inDis}, lost ${lost.length}, duplicated ${duplicated} ` +
      `(+${extraCopies} copies${duplicated === 0 ? '' : `; ${[...duplicatedByKind].map(([k, n]) => `${k} ${n}`).join(', ')}`}), ` +
      `unacknowledged but in DIS ${unackedInDis}, ` +
      `records sent ${ledger.records.size} in ${(ledger.elapsedMs / 1000).toFixed(1)} s`,
  };
}

const ReceiptStatus = z.object({ status: z.string() });

/**
 * Every receipt answers 200 to its owner; how many say `written`. Polls (up to `timeoutMs`) until
 * all do: a forwarder may still be settling batches whose records are already in DIS.
 */
export async function checkReceipts(
  rig: HaRig,
  ledger: Ledger,
  timeoutMs = 30_000,
): Promise<{ readonly reachable: number; readonly written: number; readonly problems: string[] }> {
  const deadline = Date.now() + timeoutMs;
  const written = new Set<string>();
  for (;;) {
    let reachable = 0;
    const problems: string[] = [];
    for (const [i, receipt] of ledger.receipts.entries()) {
      if (written.has(receipt.id)) {
        reachable += 1;
        continue;
      }
      const answer = await rig.send(i, {
        method: 'GET',
        path: `/v1/receipts/${receipt.id}`,
        token: rig.token(receipt.principal),
      });
      if (answer.status !== 200) {
        problems.push(`receipt ${receipt.id}: ${answer.status} ${answer.text.slice(0, 120)}`);
        continue;
      }
      reachable += 1;
      if (ReceiptStatus.parse(JSON.parse(answer.text)).status === 'written') {
        written.add(receipt.id);
      }
    }
    const done = problems.length === 0 && written.size === ledger.receipts.length;
    if (done || Date.now() > deadline) return { reachable, written: written.size, problems };
    await sleep(500);
  }
}
