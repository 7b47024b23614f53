import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';

// Top self-time functions of a V8 .cpuprofile (what `node --cpu-prof` writes): each sample's time
// delta is charged to the node it hit, then summed per function name + script, and per area
// (a package under node_modules, node's internals, or a folder of src/). A second view charges
// native and node-internal time (socket writes, hashing, GC-free builtins) to the nearest
// application or package frame above it, which says *who* caused a write or an HMAC.

const CpuProfile = z.object({
  nodes: z.array(
    z.object({
      id: z.number(),
      callFrame: z.object({
        functionName: z.string(),
        url: z.string(),
        lineNumber: z.number(),
      }),
      children: z.array(z.number()).optional(),
    }),
  ),
  startTime: z.number(),
  samples: z.array(z.number()),
  timeDeltas: z.array(z.number()),
});

/** CLOCK_MONOTONIC in microseconds: the clock of a .cpuprofile's timestamps on Linux. */
export function monotonicMicros(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

/** Only samples taken between these instants (monotonicMicros) count. */
export interface ProfileWindow {
  readonly startUs: number;
  readonly endUs: number;
}

export interface SelfTime {
  readonly name: string;
  readonly where: string;
  readonly selfMs: number;
  readonly percent: number;
}

export interface ProfileSummary {
  readonly file: string;
  /** Sampled time in the window, idle included. */
  readonly totalMs: number;
  readonly idleMs: number;
  /** Percentages below are of this: the time the gateway's thread was busy. */
  readonly busyMs: number;
  readonly top: readonly SelfTime[];
  readonly byArea: readonly AreaTime[];
  /** Native and node-internal time charged to the nearest package or src/ frame above it. */
  readonly byCallerArea: readonly AreaTime[];
}

export interface AreaTime {
  readonly area: string;
  readonly selfMs: number;
  readonly percent: number;
}

function shortUrl(url: string, root: string): string {
  const path = url.startsWith('file://') ? decodeURIComponent(url.slice('file://'.length)) : url;
  return path.startsWith(root) ? path.slice(root.length) : path;
}

function areaOf(where: string): string {
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(where)?.[1];
  if (pkg !== undefined) return pkg;
  if (where.startsWith('node:')) return 'node internals';
  const src = /^src\/([^/]+)/.exec(where)?.[1];
  if (src !== undefined) return `src/${src.replace(/\.ts$/, '')}`;
  return where === '' ? 'native / VM' : where;
}

type ProfileNode = z.infer<typeof CpuProfile>['nodes'][number];

function isOwnFrame(url: string): boolean {
  return url !== '' && !url.startsWith('node:');
}

/** The area of the nearest frame (itself included) that is application or package code. */
function callerArea(
  node: ProfileNode,
  byId: ReadonlyMap<number, ProfileNode>,
  parents: ReadonlyMap<number, number>,
  root: string,
): string | undefined {
  for (let current: ProfileNode | undefined = node; current !== undefined;) {
    if (isOwnFrame(current.callFrame.url)) return areaOf(shortUrl(current.callFrame.url, root));
    const parent = parents.get(current.id);
    current = parent === undefined ? undefined : byId.get(parent);
  }
  return undefined;
}

function sortedAreas(
  areas: ReadonlyMap<string, number>,
  percent: (us: number) => number,
): AreaTime[] {
  return [...areas.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 20)
    .map(([area, us]) => ({ area, selfMs: us / 1000, percent: percent(us) }));
}

export function summarizeProfile(
  file: string,
  root: string,
  top: number,
  window?: ProfileWindow,
): ProfileSummary {
  const profile = CpuProfile.parse(JSON.parse(readFileSync(file, 'utf8')));
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parents = new Map<number, number>();
  for (const n of profile.nodes) for (const child of n.children ?? []) parents.set(child, n.id);
  const callerAreas = new Map<string, number>();
  const selfUs = new Map<string, { name: string; where: string; us: number }>();
  let totalUs = 0;
  let idleUs = 0;
  let at = profile.startTime;
  profile.samples.forEach((id, i) => {
    const node = byId.get(id);
    const delta = profile.timeDeltas[i] ?? 0;
    at += delta;
    if (node === undefined || delta < 0) return;
    if (window !== undefined && (at < window.startUs || at > window.endUs)) return;
    totalUs += delta;
    if (node.callFrame.functionName === '(idle)') {
      idleUs += delta;
      return;
    }
    const where = shortUrl(node.callFrame.url, root);
    const name = node.callFrame.functionName === '' ? '(anonymous)' : node.callFrame.functionName;
    const key = `${name}\u0000${where}`;
    const entry = selfUs.get(key) ?? { name, where, us: 0 };
    entry.us += delta;
    selfUs.set(key, entry);
    const caller = callerArea(node, byId, parents, root) ?? (where === '' ? name : areaOf(where));
    callerAreas.set(caller, (callerAreas.get(caller) ?? 0) + delta);
  });
  const busyUs = totalUs - idleUs;
  const percent = (us: number): number => (busyUs === 0 ? 0 : (us / busyUs) * 100);
  const entries = [...selfUs.values()].sort((a, b) => b.us - a.us);
  const areas = new Map<string, number>();
  for (const e of entries) {
    const area = e.where === '' ? e.name : areaOf(e.where);
    areas.set(area, (areas.get(area) ?? 0) + e.us);
  }
  return {
    file,
    totalMs: totalUs / 1000,
    idleMs: idleUs / 1000,
    busyMs: busyUs / 1000,
    top: entries.slice(0, top).map((e) => ({
      name: e.name,
      where: e.where,
      selfMs: e.us / 1000,
      percent: percent(e.us),
    })),
    byArea: sortedAreas(areas, percent),
    byCallerArea: sortedAreas(callerAreas, percent),
  };
}

/** The newest .cpuprofile in a directory written at or after `sinceMs`, if any. */
export function newestProfile(dir: string, sinceMs: number): string | undefined {
  let newest: { path: string; mtime: number } | undefined;
  for (const name of readdirSync(dir)) {
    if (!name.endsWith('.cpuprofile')) continue;
    const path = join(dir, name);
    const mtime = statSync(path).mtimeMs;
    if (mtime < sinceMs) continue;
    if (newest === undefined || mtime > newest.mtime) newest = { path, mtime };
  }
  return newest?.path;
}

export function formatProfile(summary: ProfileSummary): string {
  const rows = summary.top.map(
    (t, i) =>
      `${String(i + 1).padStart(2)}. ${t.selfMs.toFixed(0).padStart(7)} ms ${t.percent.toFixed(1).padStart(5)}%  ${t.name}  ${t.where}`,
  );
  const area = (a: AreaTime): string =>
    `    ${a.selfMs.toFixed(0).padStart(7)} ms ${a.percent.toFixed(1).padStart(5)}%  ${a.area}`;
  return [
    `CPU profile ${summary.file}: ${summary.totalMs.toFixed(0)} ms sampled in the window, ` +
      `${summary.idleMs.toFixed(0)} ms idle; top self time (% of the ${summary.busyMs.toFixed(0)} ms busy):`,
    ...rows,
    '  self time by area:',
    ...summary.byArea.slice(0, 12).map(area),
    '  by calling area (native and node-internal time charged to the package or src/ folder that called it):',
    ...summary.byCallerArea.slice(0, 12).map(area),
  ].join('\n');
}
