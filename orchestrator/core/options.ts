/**
 * Validation of task and actor options at the boundary: every error names the option, what was
 * given and what is allowed. Inside the runtime, normalized options are trusted.
 */
import { unitsOf, type ResourceSet } from './resources.ts';
import { checkNameKeys, checkOptionalName } from './names.ts';
import { isSelectorValue, parseLabelSelector } from './label-selector.ts';
import type { PlacementGroupStrategy, SchedulingStrategy } from './scheduling-strategy.ts';
import { checkRuntimeEnv, type RuntimeEnv } from './runtime-env.ts';
import { resolvePythonEnv, type PythonEnvSpec } from './python-env.ts';

/** Options of a remote function (`remote(options, fn)`, `.options()`). */
export interface TaskOptions {
  name?: string;
  numCpus?: number;
  numGpus?: number;
  memory?: number;
  resources?: Record<string, number>;
  accelerator?: string;
  labelSelector?: Record<string, string>;
  backend?: string;
  maxRetries?: number;
  retryExceptions?: boolean | string[];
  schedulingStrategy?: 'DEFAULT' | 'SPREAD' | { nodeId: string; soft: boolean } | PlacementGroupSchedulingStrategy;
  runtimeEnv?: RuntimeEnv;
  timeoutMs?: number;
}

/**
 * Run inside a placement group: `placementGroup` is the group (or its id); `bundleIndex` picks a
 * bundle (-1 or absent: any bundle with room); `captureChildTasks` puts the tasks and actors this
 * work submits into the same group unless they choose a strategy of their own.
 */
export interface PlacementGroupSchedulingStrategy {
  placementGroup: { readonly id: string; readonly bundleSpecs?: readonly unknown[] } | string;
  bundleIndex?: number;
  captureChildTasks?: boolean;
}

/** Options of an actor class (`remote(options, Class)`, `.options()`). */
export interface ActorOptions {
  name?: string;
  namespace?: string;
  lifetime?: 'detached';
  getIfExists?: boolean;
  maxRestarts?: number;
  maxTaskRetries?: number;
  maxConcurrency?: number;
  numCpus?: number;
  numGpus?: number;
  memory?: number;
  resources?: Record<string, number>;
  accelerator?: string;
  backend?: string;
  labelSelector?: Record<string, string>;
  schedulingStrategy?: TaskOptions['schedulingStrategy'];
  /** The actor's runtime environment (env, shipped workingDir); its method calls run in it too. */
  runtimeEnv?: RuntimeEnv;
}

/** Task options after validation; shared by every call of one RemoteFunction. */
export interface NormalizedTaskOptions {
  readonly name?: string;
  /** Resources needed to place the work (fixed-point units). */
  readonly resources: ResourceSet;
  /** Resources held while it runs (actors: 0 CPUs unless numCpus was given). */
  readonly holdResources?: ResourceSet;
  readonly strategy: SchedulingStrategy;
  readonly labelSelector?: Readonly<Record<string, string>>;
  readonly backend?: string;
  readonly maxRetries: number;
  /** false: never retry exceptions; true: retry all; list: retry errors with one of these class names. */
  readonly retryExceptions: boolean | readonly string[];
  readonly timeoutMs?: number;
  readonly runtimeEnv?: RuntimeEnv;
  /** runtimeEnv.pip or .conda resolved on the driver's machine (core/python-env.ts). */
  readonly pythonEnv?: PythonEnvSpec;
}

/** Actor options after validation. */
export interface NormalizedActorOptions {
  readonly name?: string;
  readonly namespace?: string;
  readonly detached: boolean;
  readonly getIfExists: boolean;
  readonly maxRestarts: number;
  readonly maxTaskRetries: number;
  readonly maxConcurrency: number;
}

const TASK_KEYS = new Set([
  'name',
  'numCpus',
  'numGpus',
  'memory',
  'resources',
  'accelerator',
  'labelSelector',
  'backend',
  'maxRetries',
  'retryExceptions',
  'schedulingStrategy',
  'runtimeEnv',
  'timeoutMs',
]);
const ACTOR_KEYS = new Set([
  'name',
  'namespace',
  'lifetime',
  'getIfExists',
  'maxRestarts',
  'maxTaskRetries',
  'maxConcurrency',
  'numCpus',
  'numGpus',
  'memory',
  'resources',
  'accelerator',
  'backend',
  'labelSelector',
  'schedulingStrategy',
  'runtimeEnv',
]);

function fail(where: string, option: string, got: unknown, allowed: string): never {
  throw new TypeError(`${where}: option ${option} must be ${allowed} (got ${show(got)})`);
}

function show(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'function') return 'a function';
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

function checkKeys(where: string, o: object, allowed: Set<string>): void {
  for (const k of Object.keys(o)) {
    if (!allowed.has(k))
      throw new TypeError(`${where}: unknown option ${k}; allowed options are ${[...allowed].join(', ')}`);
  }
}

function nonNegative(where: string, name: string, v: unknown, step = 1e-4): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) fail(where, name, v, 'a finite number >= 0');
  if (Math.abs(Math.round(v / step) * step - v) > 1e-9) fail(where, name, v, `a multiple of ${step}`);
  return v;
}

function retryCount(where: string, name: string, v: unknown, dflt: number): number {
  if (v === undefined) return dflt;
  if (!Number.isInteger(v) || (v as number) < -1) fail(where, name, v, 'an integer >= 0, or -1 for infinite');
  return v === -1 ? Infinity : (v as number);
}

function stringRecord(where: string, name: string, v: unknown): Record<string, string> | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'object' || v === null || Array.isArray(v) || Object.values(v).some((x) => typeof x !== 'string')) {
    fail(where, name, v, 'an object of string values');
  }
  return v as Record<string, string>;
}

function resourcesOf(
  where: string,
  o: TaskOptions | ActorOptions,
  defaultCpus: number,
): { units: ResourceSet; cpusGiven: boolean } {
  const cpus = nonNegative(where, 'numCpus', o.numCpus, 1e-4);
  const gpus = nonNegative(where, 'numGpus', o.numGpus, 1e-4);
  if (gpus !== undefined && gpus > 1 && !Number.isInteger(gpus))
    fail(where, 'numGpus', gpus, 'a fraction <= 1 or a whole number');
  const memory = nonNegative(where, 'memory', o.memory, 1);
  const amounts: Record<string, number> = { CPU: cpus ?? defaultCpus };
  if (gpus) amounts.GPU = gpus;
  if (memory) amounts.memory = memory;
  if (o.resources !== undefined) {
    if (typeof o.resources !== 'object' || o.resources === null || Array.isArray(o.resources))
      fail(where, 'resources', o.resources, 'an object of resource name -> amount');
    checkNameKeys(`${where}: option resources`, o.resources);
    for (const [k, v] of Object.entries(o.resources)) {
      if (k === 'CPU' || k === 'GPU' || k === 'memory') {
        throw new TypeError(
          `${where}: option resources must not contain ${k}; use ${k === 'CPU' ? 'numCpus' : k === 'GPU' ? 'numGpus' : 'memory'} instead`,
        );
      }
      amounts[k] = nonNegative(where, `resources.${k}`, v) ?? 0;
    }
  }
  return { units: unitsOf(amounts), cpusGiven: cpus !== undefined };
}

function strategyOf(where: string, s: unknown): SchedulingStrategy {
  if (s === undefined || s === 'DEFAULT') return 'DEFAULT';
  if (s === 'SPREAD') return 'SPREAD';
  if (
    typeof s === 'object' &&
    s !== null &&
    typeof (s as { nodeId?: unknown }).nodeId === 'string' &&
    typeof (s as { soft?: unknown }).soft === 'boolean'
  ) {
    const { nodeId, soft } = s as { nodeId: string; soft: boolean };
    return { nodeId, soft };
  }
  if (typeof s === 'object' && s !== null && 'placementGroup' in s)
    return placementGroupStrategyOf(where, s as PlacementGroupSchedulingStrategy);
  return fail(
    where,
    'schedulingStrategy',
    s,
    "'DEFAULT', 'SPREAD', { nodeId: string, soft: boolean } or { placementGroup, bundleIndex?, captureChildTasks? }",
  );
}

function placementGroupStrategyOf(where: string, s: PlacementGroupSchedulingStrategy): PlacementGroupStrategy {
  checkKeys(`${where} schedulingStrategy`, s, new Set(['placementGroup', 'bundleIndex', 'captureChildTasks']));
  const pg = s.placementGroup;
  const id = typeof pg === 'string' ? pg : typeof pg === 'object' && pg !== null ? pg.id : undefined;
  if (typeof id !== 'string' || id === '')
    fail(where, 'schedulingStrategy.placementGroup', pg, 'a PlacementGroup returned by placementGroup(), or its id');
  const count = typeof pg === 'object' && Array.isArray(pg.bundleSpecs) ? pg.bundleSpecs.length : undefined;
  const index = s.bundleIndex ?? -1;
  if (!Number.isInteger(index) || index < -1 || (count !== undefined && index >= count)) {
    fail(
      where,
      'schedulingStrategy.bundleIndex',
      s.bundleIndex,
      count === undefined ? 'an integer >= -1 (-1: any bundle)' : `an integer from -1 (any bundle) to ${count - 1}`,
    );
  }
  if (s.captureChildTasks !== undefined && typeof s.captureChildTasks !== 'boolean')
    fail(where, 'schedulingStrategy.captureChildTasks', s.captureChildTasks, 'a boolean');
  return { placementGroup: id, bundleIndex: index, captureChildTasks: s.captureChildTasks ?? false };
}

function labelsOf(where: string, o: TaskOptions | ActorOptions): Record<string, string> | undefined {
  const sel = stringRecord(where, 'labelSelector', o.labelSelector);
  checkNameKeys(`${where}: option labelSelector`, sel);
  // The scheduler's own parser, so whatever passes here can be placed (label-selector.ts).
  if (sel !== undefined) {
    try {
      parseLabelSelector(sel);
    } catch (err) {
      throw new TypeError(`${where}: option ${(err as Error).message}`);
    }
  }
  if (o.accelerator === undefined) return sel;
  if (typeof o.accelerator !== 'string' || !isSelectorValue(o.accelerator))
    fail(where, 'accelerator', o.accelerator, "a GPU model name such as 'A100'");
  return { ...sel, accelerator: o.accelerator };
}

function optionalString(where: string, name: string, v: unknown): string | undefined {
  if (v !== undefined && (typeof v !== 'string' || v === '')) fail(where, name, v, 'a non-empty string');
  return v as string | undefined;
}

/** A name option (task, actor, namespace, backend): a non-empty string that is a valid name. */
function optionalName(where: string, option: string, v: unknown): string | undefined {
  return checkOptionalName(`${where}: option ${option}`, optionalString(where, option, v));
}

/** Validates TaskOptions (for `remote(fn)`); throws a TypeError naming the option. */
export function normalizeTaskOptions(o: TaskOptions, where: string): NormalizedTaskOptions {
  if (typeof o !== 'object' || o === null) throw new TypeError(`${where}: options must be an object`);
  checkKeys(where, o, TASK_KEYS);
  const { units } = resourcesOf(where, o, 1);
  const re = o.retryExceptions;
  if (re !== undefined && typeof re !== 'boolean' && !(Array.isArray(re) && re.every((x) => typeof x === 'string'))) {
    fail(where, 'retryExceptions', re, 'true, false, or a list of error class names');
  }
  const timeoutMs = nonNegative(where, 'timeoutMs', o.timeoutMs, 1);
  const env = checkRuntimeEnv(where, o.runtimeEnv);
  return {
    name: optionalName(where, 'name', o.name),
    resources: units,
    strategy: strategyOf(where, o.schedulingStrategy),
    labelSelector: labelsOf(where, o),
    backend: optionalName(where, 'backend', o.backend),
    maxRetries: retryCount(where, 'maxRetries', o.maxRetries, 3),
    retryExceptions: re ?? false,
    timeoutMs: timeoutMs || undefined,
    runtimeEnv: env,
    ...pythonEnvOf(where, env),
  };
}

/** An actor's runtimeEnv: env and workingDir; a Python environment is set up per task, not for an actor's lifetime. */
function actorRuntimeEnv(where: string, v: unknown): RuntimeEnv | undefined {
  const env = checkRuntimeEnv(where, v);
  if (env?.pip !== undefined || env?.conda !== undefined)
    throw new TypeError(
      `${where}: runtimeEnv.pip and runtimeEnv.conda apply to tasks and command tasks, not actors; give the actor's environment to the tasks that need it, or run python from a command task`,
    );
  return env;
}

function pythonEnvOf(where: string, env: RuntimeEnv | undefined): { pythonEnv?: PythonEnvSpec } {
  const pythonEnv = resolvePythonEnv(where, env);
  return pythonEnv ? { pythonEnv } : {};
}

/** Validates ActorOptions; returns the placement options and the actor's own. */
export function normalizeActorOptions(
  o: ActorOptions,
  where: string,
  hasAsyncMethods: boolean,
): { task: NormalizedTaskOptions; actor: NormalizedActorOptions } {
  if (typeof o !== 'object' || o === null) throw new TypeError(`${where}: options must be an object`);
  checkKeys(where, o, ACTOR_KEYS);
  const { units, cpusGiven } = resourcesOf(where, o, 1);
  const maxRestarts = retryCount(where, 'maxRestarts', o.maxRestarts, 0);
  const maxTaskRetries = retryCount(where, 'maxTaskRetries', o.maxTaskRetries, 0);
  if (maxTaskRetries > 0 && maxRestarts === 0)
    fail(where, 'maxTaskRetries', o.maxTaskRetries, '0 unless maxRestarts > 0');
  if (o.lifetime !== undefined && o.lifetime !== 'detached')
    fail(where, 'lifetime', o.lifetime, "'detached' or undefined");
  if (o.getIfExists !== undefined && typeof o.getIfExists !== 'boolean')
    fail(where, 'getIfExists', o.getIfExists, 'a boolean');
  const name = optionalName(where, 'name', o.name);
  if (o.getIfExists && !name) throw new TypeError(`${where}: option getIfExists needs option name`);
  const maxConcurrency = o.maxConcurrency ?? (hasAsyncMethods ? 1000 : 1);
  if (!Number.isInteger(maxConcurrency) || maxConcurrency < 1)
    fail(where, 'maxConcurrency', o.maxConcurrency, 'an integer >= 1');
  const hold = cpusGiven ? units : { ...units, CPU: 0 };
  return {
    task: {
      name,
      resources: units,
      holdResources: hold,
      strategy: strategyOf(where, o.schedulingStrategy),
      labelSelector: labelsOf(where, o),
      backend: optionalName(where, 'backend', o.backend),
      maxRetries: 0,
      retryExceptions: false,
      runtimeEnv: actorRuntimeEnv(where, o.runtimeEnv),
    },
    actor: {
      name,
      namespace: optionalName(where, 'namespace', o.namespace),
      detached: o.lifetime === 'detached',
      getIfExists: o.getIfExists ?? false,
      maxRestarts,
      maxTaskRetries,
      maxConcurrency,
    },
  };
}
