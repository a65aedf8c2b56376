/**
 * `log(metrics, { step })`: a driver or a task records numbers of its run (an energy, a loss)
 * at a step, like W&B's `wandb.log` or Ray Train's `report`. The head keeps them per job, the
 * dashboard draws them as curves over steps (Runs tab), and the session records them.
 */
import type { LoggedMetric } from '../protocol/messages.ts';
import { currentRuntime, type CoreRuntime } from './runtime.ts';

/** Options of `log()`. */
export interface LogOptions {
  /** The step these values belong to (an iteration, an epoch); default: one more than the last step this process logged. */
  step?: number;
}

/** Longest metric name. */
const MAX_KEY_CHARS = 200;
/** The last step each runtime logged (a new `init()` starts again at 0). */
const lastStep = new WeakMap<CoreRuntime, number>();

/**
 * Logs metric values: `log({ energy: -1.13, step: 7 })` or `log({ energy }, { step: 7 })`
 * (a Map of names to numbers works too). Values must be finite numbers; a `step` member of the
 * metrics is the step, not a metric. Throws TypeError naming the offending metric.
 */
export function log(
  metrics: Readonly<Record<string, number>> | ReadonlyMap<string, number>,
  opts: LogOptions = {},
): void {
  const entries = metricEntries(metrics);
  if (typeof opts !== 'object' || opts === null)
    throw new TypeError('log(): options must be an object like { step: 3 }');
  for (const k of Object.keys(opts))
    if (k !== 'step') throw new TypeError(`log(): unknown option ${k}; the only option is step`);
  let step = opts.step;
  const inline = entries.find(([k]) => k === 'step');
  if (inline) {
    if (step !== undefined && step !== inline[1])
      throw new TypeError(`log(): step is given twice, as a metric (${inline[1]}) and as an option (${step})`);
    step = inline[1];
  }
  const values = entries.filter(([k]) => k !== 'step');
  if (values.length === 0)
    throw new TypeError('log(): give at least one metric besides step, e.g. log({ energy: -1.13 }, { step: 7 })');
  if (step !== undefined && (typeof step !== 'number' || !Number.isFinite(step)))
    throw new TypeError(`log(): step must be a finite number (got ${describe(step)})`);
  const rt = currentRuntime();
  const at = step ?? (lastStep.get(rt) ?? -1) + 1;
  lastStep.set(rt, at);
  const ts = Date.now();
  const points: LoggedMetric[] = values.map(([key, value]) => ({ key, value, step: at, ts }));
  rt.post({ op: 'log-metrics', points });
}

/** The [name, value] pairs of `metrics`, checked. */
function metricEntries(metrics: unknown): [string, number][] {
  let entries: [unknown, unknown][];
  if (metrics instanceof Map) entries = [...metrics.entries()];
  else if (typeof metrics === 'object' && metrics !== null && !Array.isArray(metrics))
    entries = Object.entries(metrics);
  else
    throw new TypeError(
      `log(): metrics must be an object of names to numbers, like { energy: -1.13 } (got ${describe(metrics)})`,
    );
  for (const [k, v] of entries) {
    if (typeof k !== 'string' || k === '' || k.length > MAX_KEY_CHARS || /\p{Cc}/u.test(k))
      throw new TypeError(
        `log(): metric name ${describe(k)} must be a non-empty string of at most ${MAX_KEY_CHARS} characters without control characters`,
      );
    if (typeof v !== 'number' || !Number.isFinite(v))
      throw new TypeError(`log(): metric ${JSON.stringify(k)} must be a finite number (got ${describe(v)})`);
  }
  return entries as [string, number][];
}

function describe(v: unknown): string {
  if (typeof v === 'string') return `the string ${JSON.stringify(v.slice(0, 40))}`;
  if (typeof v === 'number') return String(v);
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v;
}
