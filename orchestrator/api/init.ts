/** `init()`, `shutdown()`, `isInitialized()`. */
import { availableParallelism } from 'node:os';
import { checkNameKeys, checkOptionalName } from '../core/names.ts';
import { Head } from '../head/head.ts';
import { createBackend } from '../head/backend-registry.ts';
import { checkBackendConfigs } from '../head/backend-configs.ts';
import { backendsToStart, readConfigFile, type ConfigFile } from '../head/config-file.ts';
import type { ModulePolicy } from '../head/module-backends.ts';
import { validateSessionName } from '../sessions/session-paths.ts';
import type { PlacementRule } from '../scheduler/placement-rules.ts';
import { EmbeddedRuntime } from './embedded-runtime.ts';
import { connectClient } from './client-runtime.ts';
import { installRuntime, maybeRuntime, type RuntimeContext } from './runtime.ts';
import { trackDriverRun, type DriverRun } from './driver-run.ts';
import type { SessionStopOptions } from '../head/session-recording.ts';

/** The run of the driver bound now (its output and end go to the head's Runs view). */
let driverRun: DriverRun | undefined;

/** A cluster a driver can attach to (LocalCluster from `orrery-compute/testing`). */
export interface AttachableCluster {
  readonly head: Head;
}

/** Options of `init()`. */
export interface InitOptions {
  /** 'auto' or 'ws://host:port' to connect to a running head (client mode). */
  address?: string;
  token?: string;
  /** An already running in-process cluster to attach to. */
  cluster?: AttachableCluster;
  numCpus?: number;
  numGpus?: number;
  resources?: Record<string, number>;
  labels?: Record<string, string>;
  namespace?: string;
  logToDriver?: boolean;
  ignoreReinitError?: boolean;
  infeasibleGraceMs?: number;
  placementRules?: PlacementRule[];
  config?: string;
  backends?: unknown[];
  session?: string;
  /** Bytes of object values the embedded head keeps in memory before spilling to disk (default: 30% of RAM). */
  objectStoreMemory?: number;
  /**
   * The most the session's paid jobs (IBM Quantum, Braket, SageMaker) may cost, in US dollars: a
   * job whose estimate would cross it fails before submission with BudgetExceededError.
   */
  budget?: { usd: number };
  /**
   * Client mode: how long the driver keeps trying to reach its head again when it disappears
   * (keeping its refs and pending get/wait calls), in ms; 0 gives up at once. Default 5 minutes.
   */
  reconnectTimeoutMs?: number;
}

const INIT_KEYS = new Set([
  'address',
  'token',
  'cluster',
  'numCpus',
  'numGpus',
  'resources',
  'labels',
  'namespace',
  'logToDriver',
  'ignoreReinitError',
  'infeasibleGraceMs',
  'placementRules',
  'config',
  'backends',
  'session',
  'objectStoreMemory',
  'budget',
  'reconnectTimeoutMs',
]);

/** Starts an embedded head with one local node (or attaches to a cluster) and binds the API to it. */
export async function init(opts: InitOptions = {}): Promise<RuntimeContext> {
  for (const k of Object.keys(opts)) {
    if (!INIT_KEYS.has(k))
      throw new TypeError(`init(): unknown option ${k}; allowed options are ${[...INIT_KEYS].join(', ')}`);
  }
  const existing = maybeRuntime();
  if (existing) {
    if (opts.ignoreReinitError) return existing.context();
    throw new Error('init() was already called; call shutdown() first, or pass ignoreReinitError: true');
  }
  checkOptionalName('init(): option namespace', opts.namespace);
  // An explicit in-process cluster wins over an address inherited from the environment (`orrery run`).
  const address = opts.address ?? (opts.cluster ? undefined : process.env.ORRERY_ADDRESS);
  if (address) return initClient(address, opts);
  checkNameKeys('init(): option resources', opts.resources);
  checkNameKeys('init(): option labels', opts.labels);
  if (opts.session !== undefined) validateSessionName(opts.session);
  const file: ConfigFile = opts.config
    ? readConfigFile(opts.config, 'init(): ')
    : { path: undefined, backends: [], savedBackends: [], placementRules: undefined, modules: ownCode() };
  // The script's own configs are its own code: they may load modules from anywhere but URLs.
  const own =
    opts.backends === undefined ? [] : checkBackendConfigs(opts.backends, 'init()', ownCode(), 'option backends');
  const backendConfigs = [...file.backends, ...own];
  const placementRules = opts.placementRules ?? file.placementRules;
  if (opts.numCpus !== undefined && (!Number.isFinite(opts.numCpus) || opts.numCpus < 0))
    throw new TypeError(`init(): option numCpus must be a number >= 0 (got ${opts.numCpus})`);
  if (opts.numGpus !== undefined && (!Number.isInteger(opts.numGpus) || opts.numGpus < 0))
    throw new TypeError(`init(): option numGpus must be an integer >= 0 (got ${opts.numGpus})`);
  if (
    opts.objectStoreMemory !== undefined &&
    (!Number.isFinite(opts.objectStoreMemory) || opts.objectStoreMemory <= 0)
  ) {
    throw new TypeError(
      `init(): option objectStoreMemory must be a number of bytes > 0 (got ${opts.objectStoreMemory})`,
    );
  }
  const budgetUsd = checkBudget(opts.budget);
  let head: Head;
  let stop: () => Promise<void>;
  if (opts.cluster) {
    head = opts.cluster.head;
    stop = async () => {};
    if (placementRules) head.setPlacementRules(placementRules);
    if (budgetUsd !== undefined) head.spend.setSessionBudget(budgetUsd);
  } else {
    head = new Head({
      infeasibleGraceMs: opts.infeasibleGraceMs,
      placementRules,
      objectStoreMemory: opts.objectStoreMemory,
      ...(budgetUsd !== undefined && { budget: { usd: budgetUsd } }),
    });
    stop = () => head.shutdown();
    const local = {
      name: 'local',
      kind: 'local',
      numCpus: opts.numCpus ?? availableParallelism(),
      numGpus: opts.numGpus,
      resources: opts.resources,
      labels: opts.labels,
      objectStoreMemory: opts.objectStoreMemory,
    };
    await head.addBackend(await createBackend(local));
  }
  let endSession: ((opts?: SessionStopOptions) => Promise<void>) | undefined;
  try {
    // Loaded only when recording: SQLite is a native module a plain driver (or worker) does not need.
    if (opts.session !== undefined)
      endSession = (await import('../head/session-recording.ts')).startSession(
        head,
        opts.session,
        { backends: backendConfigs, ...(budgetUsd !== undefined && { budgetUsd }) },
        placementRules,
      ).stop;
    // Backends the dashboard saved without starting stay saved.
    for (const c of backendsToStart(file)) await head.addBackend(await createBackend(c, file.modules));
    for (const c of own) await head.addBackend(await createBackend(c, ownCode()));
  } catch (err) {
    // The head logs backends that fail to shut down; the error that stopped init() is the one to see.
    await stop().catch(() => undefined);
    await endSession?.();
    throw err;
  }
  if (opts.logToDriver === false) head.logs.stopEcho();
  const jobId = head.startJob(opts.namespace);
  // An embedded head goes down with its driver, so there is nothing to cancel one by one.
  const stopJob = opts.cluster
    ? async () => head.endJob(jobId)
    : async () => {
        head.jobs.end(jobId);
        await stop();
      };
  const rt = new EmbeddedRuntime(head, jobId, async () => {
    try {
      await stopJob();
    } finally {
      // A backend that failed to shut down (BackendShutdownError) still leaves a complete session,
      // in which no task of this driver's is left unfinished: they ended with it.
      await endSession?.({ unfinished: 'the driver ended (shutdown() or its exit) before this task finished' });
    }
  });
  installRuntime(rt);
  driverRun = trackDriverRun(rt);
  return rt.context();
}

/** Options that configure a head; a client connects to a head that is already configured. */
const HEAD_SIDE_OPTIONS = [
  'cluster',
  'numCpus',
  'numGpus',
  'resources',
  'labels',
  'infeasibleGraceMs',
  'placementRules',
  'config',
  'session',
  'budget',
] as const;

/** The session budget's dollars, checked. */
function checkBudget(budget: unknown): number | undefined {
  if (budget === undefined) return undefined;
  const usd = (budget as { usd?: unknown } | null)?.usd;
  if (typeof budget !== 'object' || typeof usd !== 'number' || !Number.isFinite(usd) || usd < 0)
    throw new TypeError(
      `init(): option budget must be { usd: N }, N a number of US dollars >= 0 (got ${JSON.stringify(budget)})`,
    );
  return usd;
}

/** Client mode: connects to a head service (`orrery start`) over its WebSocket. */
async function initClient(address: string, opts: InitOptions): Promise<RuntimeContext> {
  const headSide = HEAD_SIDE_OPTIONS.filter((k) => opts[k] !== undefined);
  if (headSide.length > 0) {
    throw new TypeError(
      `init(): option${headSide.length > 1 ? 's' : ''} ${headSide.join(', ')} configure${headSide.length > 1 ? '' : 's'} a head, but this driver connects to the running head at ${address}; give them to \`orrery start\` (--config) instead, or drop address (and ORRERY_ADDRESS) for an embedded head`,
    );
  }
  // Checked here for a message before connecting; the head checks them again, with its own module policy.
  if (opts.backends !== undefined) checkBackendConfigs(opts.backends, 'init()', ownCode(), 'option backends');
  const r = opts.reconnectTimeoutMs;
  if (r !== undefined && (typeof r !== 'number' || !Number.isFinite(r) || r < 0))
    throw new TypeError(`init(): option reconnectTimeoutMs must be a number of ms >= 0 (got ${String(r)})`);
  const rt = await connectClient({
    address,
    token: opts.token,
    namespace: opts.namespace,
    logToDriver: opts.logToDriver,
    reconnectTimeoutMs: r,
  });
  // Backends the script needs join the running head unless it has one of that name already.
  if (opts.backends !== undefined) {
    try {
      await rt.call({ op: 'add-backends', configs: opts.backends });
    } catch (err) {
      await rt.shutdown();
      throw err;
    }
  }
  installRuntime(rt);
  driverRun = trackDriverRun(rt);
  return rt.context();
}

/** The driver's own code: module backends by package, relative path (from the working directory) or absolute path. */
function ownCode(): ModulePolicy {
  return { allow: 'any-path', baseDir: process.cwd() };
}

/** Ends the driver's job and, in embedded mode, the head and its nodes. */
export async function shutdown(): Promise<void> {
  const rt = maybeRuntime();
  if (!rt) return;
  installRuntime(undefined);
  driverRun?.end();
  driverRun = undefined;
  await rt.shutdown();
}

/** True between `init()` and `shutdown()`. */
export function isInitialized(): boolean {
  return maybeRuntime() !== undefined;
}
