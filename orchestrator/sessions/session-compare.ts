/**
 * Compares two sessions task by task: what ran in only one, what ran with other parameters or
 * code, whose results differ, and how long each took. Tasks are matched per name in submission
 * order: first pairs with the same function hash and parameters, then the rest by position.
 * The result is flat rows plus counts, easy to print (`formatComparison`) or send to the UI.
 */
import type {
  ResultDiff,
  ResultVerdict,
  SessionComparison,
  SideTotals,
  TaskComparison,
} from '../protocol/state-rows.ts';
import { circuitOutcome, diffResults, previewValue } from './result-diff.ts';
import { bytesEqual, compareValues, decodeResult, type Tolerance } from './result-values.ts';
import type { SessionReader } from './session-reader.ts';
import type { SessionTaskRow } from './session-types.ts';

/** Numeric tolerance for results; defaults relTol 1e-9, absTol 1e-12. */
export type CompareOptions = Partial<Tolerance>;

// The row types are shared with the dashboard (orchestrator/protocol/state-rows.ts).
export type {
  CountsDiff,
  MatchStatus,
  ResultDiff,
  ResultVerdict,
  SessionComparison,
  SideTotals,
  TaskComparison,
} from '../protocol/state-rows.ts';

/** Every task of a session in submission order, read page by page. */
export function readAllTasks(r: SessionReader): SessionTaskRow[] {
  const out: SessionTaskRow[] = [];
  for (let offset = 0; ; offset += 10_000) {
    const page = r.tasks({ limit: 10_000, offset });
    out.push(...page);
    if (page.length < 10_000) return out;
  }
}

const paramsKey = (t: SessionTaskRow): string => t.paramsJson ?? t.argsPreview ?? '';
const duration = (t: SessionTaskRow | undefined): number | null =>
  t && t.startedAt !== null && t.endedAt !== null ? t.endedAt - t.startedAt : null;

function totals(r: SessionReader, tasks: SessionTaskRow[]): SideTotals {
  const first = tasks.reduce((m, t) => Math.min(m, t.submittedAt), Infinity);
  const last = tasks.reduce((m, t) => Math.max(m, t.endedAt ?? t.submittedAt), -Infinity);
  return {
    session: r.metadata().name,
    tasks: tasks.length,
    totalDurationMs: tasks.reduce((s, t) => s + (duration(t) ?? 0), 0),
    wallMs: tasks.length ? last - first : 0,
  };
}

/** Pairs tasks of one name: exact (hash + params) matches in order first, then leftovers by position. */
function pairByName(
  as: SessionTaskRow[],
  bs: SessionTaskRow[],
): Array<[SessionTaskRow | undefined, SessionTaskRow | undefined]> {
  const free = new Map<string, SessionTaskRow[]>();
  for (const b of bs) {
    const k = `${b.functionHash}\0${paramsKey(b)}`;
    (free.get(k) ?? free.set(k, []).get(k)!).push(b);
  }
  const pairs: Array<[SessionTaskRow | undefined, SessionTaskRow | undefined]> = [];
  const used = new Set<SessionTaskRow>();
  const leftA: SessionTaskRow[] = [];
  for (const a of as) {
    const b = free.get(`${a.functionHash}\0${paramsKey(a)}`)?.shift();
    if (b) {
      used.add(b);
      pairs.push([a, b]);
    } else leftA.push(a);
  }
  const leftB = bs.filter((b) => !used.has(b));
  for (let i = 0; i < Math.max(leftA.length, leftB.length); i++) pairs.push([leftA[i], leftB[i]]);
  return pairs.sort((x, y) => (x[0]?.seq ?? Infinity) - (y[0]?.seq ?? Infinity) || (x[1]?.seq ?? 0) - (y[1]?.seq ?? 0));
}

/** How two stored results compare, with previews of both and the size of the difference. */
interface ResultComparison {
  readonly verdict: ResultVerdict;
  readonly detail: string | null;
  readonly previewA: string | null;
  readonly previewB: string | null;
  readonly diff: ResultDiff | null;
}

function compareResults(
  ra: SessionReader,
  rb: SessionReader,
  a: SessionTaskRow,
  b: SessionTaskRow,
  tol: Tolerance,
): ResultComparison {
  const xa = ra.result(a.taskId);
  const xb = rb.result(b.taskId);
  const none = { detail: null, previewA: null, previewB: null, diff: null };
  if (!xa && !xb) return { verdict: 'none', ...none };
  const va = xa ? decodeResult(xa.contentType, xa.bytes) : undefined;
  const vb = xb ? decodeResult(xb.contentType, xb.bytes) : undefined;
  const preview = (x: typeof xa, v: unknown): string | null =>
    !x ? null : v === undefined ? `(${x.size} bytes, ${x.contentType})` : previewValue(v);
  const previews = { previewA: preview(xa, va), previewB: preview(xb, vb) };
  if (!xa) return { ...none, verdict: 'missing-a', previewB: previews.previewB };
  if (!xb) return { ...none, verdict: 'missing-b', previewA: previews.previewA };
  // Equal values still get previews: a row that differs in parameters or code shows what both returned.
  if (xa.contentType === xb.contentType && bytesEqual(xa.bytes, xb.bytes))
    return { verdict: 'equal', ...none, ...previews };
  if (va === undefined || vb === undefined)
    return { verdict: 'differ', detail: `bytes differ (${xa.size} vs ${xb.size} bytes)`, ...previews, diff: null };
  // Two circuit runs with the same counts return the same result, however long each took.
  const oa = circuitOutcome(va);
  const ob = circuitOutcome(vb);
  if (oa && ob && compareValues(oa, ob, tol).equal)
    return {
      verdict: 'close',
      detail: 'same counts and shots (run facts such as durationMs differ)',
      ...previews,
      diff: null,
    };
  const diff = diffResults(va, vb, tol);
  return diff.path === null
    ? { verdict: 'close', detail: `max abs diff ${diff.maxAbsDiff.toPrecision(3)}`, ...previews, diff }
    : {
        verdict: 'differ',
        detail: `differs at ${diff.path}; max abs diff ${diff.maxAbsDiff.toPrecision(3)}`,
        ...previews,
        diff,
      };
}

/** Compares session `a` with session `b`. Both readers stay open (the caller closes them). */
export function compareSessions(a: SessionReader, b: SessionReader, opts: CompareOptions = {}): SessionComparison {
  const tol: Tolerance = { relTol: opts.relTol ?? 1e-9, absTol: opts.absTol ?? 1e-12 };
  const ta = readAllTasks(a);
  const tb = readAllTasks(b);
  const names: string[] = [];
  const byName = new Map<string, { a: SessionTaskRow[]; b: SessionTaskRow[] }>();
  for (const [side, list] of [
    ['a', ta],
    ['b', tb],
  ] as const) {
    for (const t of list) {
      let g = byName.get(t.name);
      if (!g) {
        g = { a: [], b: [] };
        byName.set(t.name, g);
        names.push(t.name);
      }
      g[side].push(t);
    }
  }
  const rows: TaskComparison[] = [];
  for (const name of names) {
    const g = byName.get(name)!;
    const ordinalA = new Map(g.a.map((t, i) => [t, i]));
    const ordinalB = new Map(g.b.map((t, i) => [t, i]));
    for (const [x, y] of pairByName(g.a, g.b)) {
      const params = x && y ? (paramsKey(x) === paramsKey(y) ? 'same' : 'differ') : null;
      const code = x && y ? (x.functionHash === y.functionHash ? 'same' : 'differ') : null;
      const rc = x && y ? compareResults(a, b, x, y, tol) : null;
      const result = rc?.verdict ?? null;
      const ok =
        params === 'same' &&
        code === 'same' &&
        x?.state === y?.state &&
        (result === 'equal' || result === 'close' || result === 'none');
      const dA = duration(x);
      const dB = duration(y);
      rows.push({
        name,
        ordinal: x ? ordinalA.get(x)! : ordinalB.get(y!)!,
        status: !y ? 'only-a' : !x ? 'only-b' : ok ? 'same' : 'differs',
        taskIdA: x?.taskId ?? null,
        taskIdB: y?.taskId ?? null,
        stateA: x?.state ?? null,
        stateB: y?.state ?? null,
        paramsA: x ? paramsKey(x) : null,
        paramsB: y ? paramsKey(y) : null,
        params,
        code,
        result,
        resultDetail: rc?.detail ?? null,
        // Previews only where they explain a difference (a `same` row's values are equal).
        resultA: ok ? null : (rc?.previewA ?? null),
        resultB: ok ? null : (rc?.previewB ?? null),
        resultDiff: rc?.diff ?? null,
        durationMsA: dA,
        durationMsB: dB,
        deltaMs: dA !== null && dB !== null ? dB - dA : null,
      });
    }
  }
  const count = (f: (r: TaskComparison) => boolean): number => rows.filter(f).length;
  const matched = rows.filter((r) => r.taskIdA && r.taskIdB);
  const durA = matched.reduce((s, r) => s + (r.durationMsA ?? 0), 0);
  const durB = matched.reduce((s, r) => s + (r.durationMsB ?? 0), 0);
  return {
    a: totals(a, ta),
    b: totals(b, tb),
    tasks: rows,
    counts: {
      matched: matched.length,
      same: count((r) => r.status === 'same'),
      differs: count((r) => r.status === 'differs'),
      onlyInA: count((r) => r.status === 'only-a'),
      onlyInB: count((r) => r.status === 'only-b'),
      paramsDiffer: count((r) => r.params === 'differ'),
      codeDiffer: count((r) => r.code === 'differ'),
      resultsDiffer: count((r) => r.result === 'differ' || r.result === 'missing-a' || r.result === 'missing-b'),
      withinSamplingNoise: count((r) => r.result === 'differ' && r.resultDiff?.counts?.withinSamplingNoise === true),
    },
    matchedTiming: { durationMsA: durA, durationMsB: durB, deltaMs: durB - durA, ratio: durA > 0 ? durB / durA : null },
  };
}

/** A plain-text table of a comparison, for the CLI. */
export function formatComparison(c: SessionComparison): string {
  const head = ['task', '#', 'status', 'params', 'code', 'result', `${c.a.session} ms`, `${c.b.session} ms`, 'Δ ms'];
  const cell = (v: unknown): string => (v === null || v === undefined ? '-' : String(v));
  const body = c.tasks.map((r) =>
    [r.name, r.ordinal, r.status, r.params, r.code, r.result, r.durationMsA, r.durationMsB, r.deltaMs].map(cell),
  );
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const line = (row: string[]): string =>
    row
      .map((v, i) => v.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  const n = c.counts;
  return [
    `${c.a.session} (${c.a.tasks} tasks) vs ${c.b.session} (${c.b.tasks} tasks): ${n.matched} matched, ${n.same} same, ${n.differs} differ, ${n.onlyInA} only in ${c.a.session}, ${n.onlyInB} only in ${c.b.session}`,
    `matched task time: ${c.matchedTiming.durationMsA} ms vs ${c.matchedTiming.durationMsB} ms (Δ ${c.matchedTiming.deltaMs} ms)`,
    line(head),
    ...body.map(line),
  ].join('\n');
}
