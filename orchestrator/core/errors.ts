/**
 * Every error Orrery raises to users. One class per condition, data in readonly fields,
 * `name` set, and a plain-object form (`ErrorInfo`) so errors cross process boundaries.
 */

/** A serializable description of an error, safe to send between processes. */
export interface ErrorInfo {
  readonly name: string;
  readonly message: string;
  readonly stack?: string;
  /** Names of the classes in the error's prototype chain, most derived first (for retryExceptions). */
  readonly chain?: readonly string[];
  /** Extra fields of Orrery errors (`taskName`, `exitCode`, ...). */
  readonly fields?: Readonly<Record<string, unknown>>;
}

/**
 * Base class of all Orrery errors: every error Orrery raises to users extends it (those of the
 * client transport, the service, the QASM front end and placement rules too), so
 * `err instanceof OrreryError` tells Orrery's errors from the task code's own.
 */
export class OrreryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** A task (or actor method) threw. Propagates to every task that depends on its result. */
export class TaskError extends OrreryError {
  constructor(
    readonly remoteName: string,
    readonly remoteMessage: string,
    readonly remoteStack: string,
    readonly taskName: string,
    readonly nodeId: string,
  ) {
    super(`task ${taskName} failed on node ${nodeId}: ${remoteName}: ${remoteMessage}\n${indent(remoteStack)}`);
  }
}

/** The worker process running a task died (killed, crashed, out of memory) and retries ran out. */
export class WorkerCrashedError extends OrreryError {
  constructor(
    readonly taskName: string,
    readonly detail: string,
  ) {
    super(
      `the worker running task ${taskName} died (${detail}); retries are exhausted. Raise maxRetries, or check the node's logs for why the worker was killed.`,
    );
  }
}

/** An actor is dead: its constructor threw, its process died without restarts left, or it was killed. */
export class ActorDiedError extends OrreryError {
  constructor(
    readonly actorId: string,
    readonly actorName: string,
    readonly reason: string,
  ) {
    super(`actor ${actorName} (${actorId}) is dead: ${reason}`);
  }
}

/** `get` did not see the object within `timeoutMs`. */
export class GetTimeoutError extends OrreryError {
  constructor(
    readonly timeoutMs: number,
    readonly pending: number,
  ) {
    super(
      `get timed out after ${timeoutMs} ms with ${pending} object(s) not ready; raise timeoutMs or use wait() to take what is ready.`,
    );
  }
}

/** The task was cancelled (or depends on a cancelled task). */
export class TaskCancelledError extends OrreryError {
  constructor(
    readonly taskId: string,
    readonly taskName: string,
  ) {
    super(`task ${taskName} (${taskId}) was cancelled`);
  }
}

/** The object was lost (its node died) and cannot be reconstructed. */
export class ObjectLostError extends OrreryError {
  constructor(
    readonly objectId: string,
    readonly reason: string,
  ) {
    super(`object ${objectId} was lost: ${reason}`);
  }
}

/** The process that owned the object died, so the object is gone. */
export class OwnerDiedError extends OrreryError {
  constructor(
    readonly objectId: string,
    readonly owner: string,
  ) {
    super(`object ${objectId} is gone: its owner ${owner} died`);
  }
}

/** No node and no elastic backend can ever satisfy the request. */
export class TaskUnschedulableError extends OrreryError {
  constructor(
    readonly taskName: string,
    readonly reason: string,
  ) {
    super(`task ${taskName} cannot be scheduled: ${reason}`);
  }
}

/** The placement group a task ran in (or waited for) was removed: the task was killed, or the group never became ready. */
export class PlacementGroupRemovedError extends OrreryError {
  constructor(
    readonly placementGroupId: string,
    readonly subject: string,
  ) {
    super(
      `${subject} failed: its placement group ${placementGroupId} was removed; remove a group only once the work inside it is done`,
    );
  }
}

/** A command task exited non-zero. */
export class CommandFailedError extends OrreryError {
  /** In a `command({ nodes })` gang: the rank that failed (its message starts with it and its node). */
  declare readonly rank?: number;
  /** In a gang: the node the failing rank ran on. */
  declare readonly nodeId?: string;
  constructor(
    readonly exitCode: number,
    readonly stderrTail: string,
    readonly argv: readonly string[],
  ) {
    super(`command ${argv.join(' ')} exited with code ${exitCode}${stderrTail ? `:\n${indent(stderrTail)}` : ''}`);
  }
}

/**
 * A task's runtime environment could not be set up on its node: no container runtime there, an
 * image that cannot be pulled or loaded, a Python environment (runtimeEnv.pip / .conda) that
 * does not build. Every task waiting for that setup fails with it; like a task's own exception it
 * is retried only when `retryExceptions` names it, since a retry fails the same way.
 */
export class RuntimeEnvSetupError extends OrreryError {
  constructor(
    /** The node, by host name (and Orrery node id where known). */
    readonly node: string,
    /** The `runtimeEnv` field at fault: `pip`, `conda`, `container.runtime`, `container.image`. */
    readonly field: string,
    message: string,
    /** The last lines of the installer's output, when one ran. */
    readonly outputTail = '',
  ) {
    super(message);
  }
}

/**
 * A `command({ nodes })` gang could not get its nodes: fewer distinct nodes than ranks can ever
 * exist on its backend (`infeasible`, at once), or they were not all free within its
 * `placementTimeoutMs`.
 */
export class GangPlacementError extends OrreryError {
  constructor(
    readonly gangName: string,
    readonly nodes: number,
    readonly backend: string,
    readonly infeasible: boolean,
    readonly reason: string,
  ) {
    super(
      `gang ${gangName} (${nodes} nodes${backend ? ` of backend ${backend}` : ''}) cannot start: ${reason}; ` +
        (infeasible
          ? 'add hosts to the backend (or raise maxNodes of an elastic one), or ask for fewer nodes'
          : 'free nodes (or raise placementTimeoutMs) and submit it again'),
    );
  }
}

/** A backend could not do what was asked (connection, credentials, remote service). */
export class BackendError extends OrreryError {
  constructor(
    readonly backend: string,
    message: string,
    readonly retryable: boolean,
  ) {
    super(`backend ${backend}: ${message}`);
  }
}

/** A task names a secret (`secret(name)`) that the head's OS keychain does not hold. Not retried: a retry would not find it either. */
export class SecretNotFoundError extends OrreryError {
  constructor(
    readonly taskName: string,
    readonly secretName: string,
  ) {
    super(
      `task ${taskName} needs secret ${secretName}, which the OS keychain of the head does not hold; store it with: orrery secrets set ${secretName} (then submit the task again)`,
    );
  }
}

/** The head could not read the OS keychain for a task's secret (no Secret Service, locked, binding missing). Not retried. */
export class SecretUnavailableError extends OrreryError {
  constructor(
    readonly taskName: string,
    readonly secretName: string,
    readonly detail: string,
  ) {
    super(`task ${taskName} needs secret ${secretName}, but the head could not read its OS keychain: ${detail}`);
  }
}

/**
 * A name a user chose (task, actor, namespace, backend, placement group, session, secret, label
 * key, custom resource) cannot be one: `__proto__`, `constructor` and `prototype` would reach an
 * object's prototype instead of a key of its own, and control characters garble logs and tables.
 */
export class InvalidNameError extends OrreryError {
  /** What was given, as JSON (control characters escaped). */
  readonly got: string;
  constructor(
    /** The field, as the user wrote it: `remote(f): option name`, `config file x.json: backends[1].name`. */
    readonly field: string,
    value: unknown,
  ) {
    const got = typeof value === 'string' ? JSON.stringify(value) : typeof value;
    super(
      `${field} must be a non-empty name without control characters, other than __proto__, constructor or prototype (got ${got})`,
    );
    this.got = got;
  }
}

/** A `module:` backend kind names code this source may not load (a URL, an absolute path, or any module through the API). */
export class ModuleBackendRefusedError extends OrreryError {
  constructor(
    readonly backend: string,
    readonly spec: string,
    readonly reason: string,
  ) {
    super(`backend ${backend}: module ${spec} is not allowed: ${reason}`);
  }
}

/** One backend that did not shut down cleanly, and why. */
export interface BackendShutdownFailure {
  readonly backend: string;
  readonly reason: string;
}

/** Backends threw or hung while shutting down; every other backend, and the head, still stopped. */
export class BackendShutdownError extends OrreryError {
  constructor(readonly failures: readonly BackendShutdownFailure[]) {
    super(
      `${failures.length} backend${failures.length === 1 ? '' : 's'} did not shut down cleanly: ${failures.map((f) => `backend ${f.backend}: ${f.reason}`).join('; ')}; ` +
        "everything else stopped (check those backends' hosts or services for processes or jobs left behind)",
    );
  }
}

/**
 * A folder where Orrery keeps private runtime files (sockets, spilled values, working folders)
 * is not safe to use: another user owns it, it is a symbolic link, or others may enter it.
 */
export class UnsafeRuntimeDirError extends OrreryError {
  constructor(
    readonly path: string,
    readonly problem: string,
    readonly remedy: string,
  ) {
    super(
      `${path} ${problem}; Orrery keeps its sockets, spilled values and working folders only in folders that are yours alone. ${remedy}`,
    );
  }
}

/**
 * Why a task cannot be resubmitted by `orrery retry` (POST /api/tasks/:id/retry):
 * - `unknown`: the head has no record of the task (and its session none it can rebuild it from);
 * - `not-ended`: it is pending, running or finished (only failed or cancelled tasks are retried);
 * - `actor-task`: it is an actor creation or an actor method call;
 * - `argument-gone`: an object it reads was freed;
 * - `code-gone`: the head does not keep its code or arguments (a task of an earlier head).
 */
export type TaskRetryRefusal = 'unknown' | 'not-ended' | 'actor-task' | 'argument-gone' | 'code-gone';

/** A task cannot be retried; the message says why and what to do instead. */
export class TaskRetryRefusedError extends OrreryError {
  constructor(
    readonly taskId: string,
    readonly refusal: TaskRetryRefusal,
    why: string,
  ) {
    super(`cannot retry task ${taskId}: ${why}`);
  }
}

/**
 * A paid job was refused before submission: its estimated cost would take the spend past a
 * budget (`init({ budget: { usd } })` for the session, `budgetUsd` in a backend's config).
 * `scope` is `'session'` or the backend's name. Not retried: the same job would cross it again.
 */
export class BudgetExceededError extends OrreryError {
  constructor(
    readonly scope: string,
    readonly budgetUsd: number,
    readonly spentUsd: number,
    readonly reservedUsd: number,
    readonly estimateUsd: number,
    readonly what: string,
  ) {
    super(
      `${what}: estimated $${usd(estimateUsd)} would cross the ${scope === 'session' ? 'session' : `backend ${scope}`} budget of $${usd(budgetUsd)}: $${usd(spentUsd)} spent so far${reservedUsd > 0 ? ` and $${usd(reservedUsd)} reserved by jobs in flight` : ''}. Raise the budget (${scope === 'session' ? 'init({ budget: { usd } })' : `budgetUsd of backend ${scope}`}), or use fewer shots or circuits.`,
    );
  }
}

/** Dollars with cents; under a cent, to 3 significant digits (per-shot prices are fractions of a cent). */
function usd(v: number): string {
  return v !== 0 && Math.abs(v) < 0.01 ? String(Number(v.toPrecision(3))) : v.toFixed(2);
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n');
}

/** The ErrorInfo of a cancelled task, built without capturing a stack (cancelling a million queued tasks must be cheap). */
export function cancelledInfo(taskId: string, taskName: string): ErrorInfo {
  const message = `task ${taskName} (${taskId}) was cancelled`;
  return {
    name: 'TaskCancelledError',
    message,
    stack: '',
    chain: ['TaskCancelledError', 'OrreryError', 'Error'],
    fields: { taskId, taskName },
  };
}

/** Turns anything thrown into an `ErrorInfo` (keeps Orrery errors' fields). */
export function toErrorInfo(err: unknown): ErrorInfo {
  if (err instanceof Error) {
    const chain: string[] = [];
    for (let p = Object.getPrototypeOf(err); p && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
      const n = (p.constructor as { name?: string } | undefined)?.name;
      if (n) chain.push(n);
    }
    const fields: Record<string, unknown> = {};
    if (err instanceof OrreryError) {
      for (const [k, v] of Object.entries(err)) if (k !== 'name' && k !== 'message' && k !== 'stack') fields[k] = v;
    }
    return { name: err.name, message: err.message, stack: err.stack ?? '', chain, fields };
  }
  return { name: 'Error', message: typeof err === 'string' ? err : safeString(err), stack: '', chain: ['Error'] };
}

function safeString(v: unknown): string {
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

type OrreryErrorClass = new (...args: never[]) => OrreryError;
const classes: Record<string, OrreryErrorClass> = {
  TaskError,
  WorkerCrashedError,
  ActorDiedError,
  GetTimeoutError,
  TaskCancelledError,
  ObjectLostError,
  OwnerDiedError,
  TaskUnschedulableError,
  CommandFailedError,
  RuntimeEnvSetupError,
  GangPlacementError,
  BackendError,
  PlacementGroupRemovedError,
  SecretNotFoundError,
  SecretUnavailableError,
  InvalidNameError,
  ModuleBackendRefusedError,
  BackendShutdownError,
  UnsafeRuntimeDirError,
  TaskRetryRefusedError,
  BudgetExceededError,
};

/**
 * True for the ErrorInfo of an Orrery error, read from the error's own class chain (so an error
 * class outside core, such as QasmError, counts too): a task that re-raises one, e.g. from a
 * nested `get`, passes it through instead of wrapping it in a TaskError.
 */
export function isOrreryError(info: ErrorInfo): boolean {
  return info.chain?.includes('OrreryError') ?? false;
}

/**
 * Rebuilds an error from its `ErrorInfo`: the same class, fields and message for the classes
 * above; another Orrery error (a class this process may not have loaded) as an OrreryError that
 * keeps its name and fields; anything else as a plain Error.
 */
export function fromErrorInfo(info: ErrorInfo): Error {
  const cls = Object.hasOwn(classes, info.name) ? classes[info.name] : isOrreryError(info) ? OrreryError : undefined;
  const err: Error = cls ? Object.create(cls.prototype) : new Error(info.message);
  Object.defineProperty(err, 'message', { value: info.message, writable: true, configurable: true });
  Object.defineProperty(err, 'name', { value: info.name, writable: true, configurable: true });
  // Defined, not assigned: a field named `__proto__` from the wire must not become the prototype.
  for (const [k, v] of Object.entries(info.fields ?? {}))
    Object.defineProperty(err, k, { value: v, writable: true, enumerable: true, configurable: true });
  Object.defineProperty(err, 'stack', { value: `${info.name}: ${info.message}`, writable: true, configurable: true });
  return err;
}
