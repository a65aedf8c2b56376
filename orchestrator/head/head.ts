/**
 * The head: control store (tasks, actors, objects, nodes), scheduler, object directory and the
 * backends' nodes (assembled in assemble-head.ts). Drivers and running tasks talk to it through
 * `requests`; everything else in the process reads it through `queries` and `events`.
 */
import type { AgentSpec, AgentStream, Backend } from '../../backends/types.ts';
import { BackendShutdownError } from '../core/errors.ts';
import { newId } from '../core/ids.ts';
import type { ShmFolder } from '../core/shared-memory.ts';
import { validatePlacementRules } from '../scheduler/placement-rules.ts';
import type { SpendLedger } from '../control/spend-ledger.ts';
import type { TaskSubmission } from '../protocol/messages.ts';
import { assembleHead, type HeadParts } from './assemble-head.ts';
import { backendBudget } from './backend-budgets.ts';
import type { HeadEvents } from './head-events.ts';
import type { HeadOptions } from './head-options.ts';
import type { HeadQueries } from './head-queries.ts';
import type { HeadRequests } from './head-requests.ts';
import type { Jobs } from './jobs.ts';
import type { LogRouter } from './log-router.ts';
import type { UsageHistory } from './usage-history.ts';

export type { HeadOptions, TaskAdoption } from './head-options.ts';
export type { Caller } from './head-requests.ts';

/** How often the scheduler hears that time passed. */
const TICK_MS = 100;

/** The head of a cluster. */
export class Head {
  /** This head's identity, told to every agent (an agent that outlived another head drops that head's leases). */
  readonly headId = newId();
  /** Requests of drivers and running tasks: one dispatcher for the embedded driver, client drivers and workers. */
  readonly requests: HeadRequests;
  /** What the rest of the process may read: task records (read-only), State API rows, nodes. */
  readonly queries: HeadQueries;
  /** Task, node and log events for the session recorder and the dashboard. */
  readonly events: HeadEvents;
  /** Worker output, per task and echoed on the driver. */
  readonly logs: LogRouter;
  /** Usage samples per node (CPU, memory, GPUs, QPU slots), the last hour and a day of minute averages. */
  readonly usage: UsageHistory;
  private readonly parts: HeadParts;
  private ownJob: string | undefined;
  private readonly ticker: NodeJS.Timeout;
  private closed = false;

  constructor(opts: HeadOptions = {}) {
    this.parts = assembleHead(opts, this.headId);
    this.requests = this.parts.requests;
    this.queries = this.parts.queries;
    this.events = this.parts.events;
    this.logs = this.parts.logs;
    this.usage = this.parts.usage.history;
    this.ticker = setInterval(() => this.parts.tick(), TICK_MS);
    this.ticker.unref();
  }

  /** Replaces the placement rules (validated); they apply to tasks submitted afterwards. */
  setPlacementRules(rules: unknown): void {
    this.parts.tasks.setPlacementRules(validatePlacementRules(rules));
  }

  /** Starts a driver's job; without a namespace its named actors are private to it. `about`: its script and process, when known. */
  startJob(namespace?: string, about?: { script?: string; pid?: number }): string {
    return this.parts.jobs.start(namespace, about);
  }

  /** Drivers' runs: their rows (GET /api/jobs), the metrics they logged, and the exits of drivers the head started. */
  get jobs(): Pick<Jobs, 'rows' | 'metrics' | 'exited' | 'update' | 'end'> {
    return this.parts.jobs;
  }

  /** Ends a job: its pending tasks are cancelled and its non-detached actors die. */
  endJob(jobId: string): void {
    const { tasks, actors, placementGroups, objects } = this.parts;
    this.parts.jobs.end(jobId);
    for (const t of tasks.records()) {
      if (t.jobId === jobId && t.state !== 'FINISHED' && t.state !== 'FAILED' && t.spec.kind === 'task')
        tasks.cancel(t.spec.taskId, true, true);
    }
    actors.jobEnded(jobId);
    placementGroups.jobEnded(jobId);
    objects.jobEnded(jobId);
  }

  /**
   * The head's own job: work the head submits for nobody's driver (`orrery retry` through the
   * HTTP API). It never ends, so the results it holds live until the head shuts down.
   */
  ownJobId(): string {
    this.ownJob ??= this.parts.jobs.start('orrery-head', { hidden: true });
    return this.ownJob;
  }

  /** The namespace of a job. */
  namespaceOf(jobId: string): string {
    return this.parts.jobs.namespaceOf(jobId);
  }

  /** Whether this head knows the actor (it created or adopted it: head/actor-resume.ts). */
  knowsActor(actorId: string): boolean {
    return this.parts.actors.knows(actorId);
  }

  /**
   * Creates again, as a restart under its `maxRestarts`, an actor of the resumed session that
   * no agent reported: `spec` is its creation rebuilt from the session (a new task id, the same
   * actor id, so handles and names reach it), `numRestarts` what earlier heads used.
   */
  restartActor(spec: TaskSubmission, jobId: string, numRestarts: number, reason: string): void {
    this.requests.post({ op: 'submit', task: spec }, { jobId });
    const t = this.parts.tasks.task(spec.taskId);
    if (t) this.parts.actors.restartedAfterHeadLoss(t, numRestarts, reason);
  }

  /** An actor of the resumed session that is gone and may not come back: calls on it fail with ActorDiedError saying `reason`. */
  buryActor(spec: TaskSubmission, reason: string): void {
    this.parts.actors.lostWithHead(spec, reason);
  }

  /** Starts a backend and its initial nodes. */
  addBackend(backend: Backend): Promise<void> {
    const budget = backendBudget(backend);
    if (budget !== undefined) this.parts.spend.setBackendBudget(backend.name, budget);
    return this.parts.backends.add(backend);
  }

  /**
   * Budgets of paid jobs: `setSessionBudget` sets the session's (undefined removes it), `carry` adds
   * what a task of an earlier head of a resumed session cost (control/spend-ledger.ts).
   */
  get spend(): Pick<SpendLedger, 'setSessionBudget' | 'carry' | 'summary'> {
    return this.parts.spend;
  }

  /** The head's shared-memory folder (a driver in the head's process writes large puts there). */
  get shm(): ShmFolder | undefined {
    return this.parts.shm;
  }

  /** The backends, in the order they were added. */
  backendList(): { name: string; kind: string }[] {
    return [...this.parts.backends.values()].map((b) => ({ name: b.name, kind: b.kind }));
  }

  /** Stops backend `name` and removes it: its nodes leave (their tasks retry elsewhere). */
  removeBackend(name: string): Promise<void> {
    return this.parts.backends.remove(name);
  }

  /**
   * Accepts an agent stream (BackendHost.attach); resolves when the agent said hello and its
   * node joined. An agent that outlives heads may come back on a new stream: the node carries on.
   */
  attach(stream: AgentStream, spec: AgentSpec): Promise<void> {
    return this.parts.nodes.attach(stream, spec);
  }

  /** Stops every backend (independently: backend-shutdown.ts) and node; then rejects with BackendShutdownError if any backend threw or hung. */
  async shutdown(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const { nodes, backends, links, store, runtimeDir, shm, autoscaler } = this.parts;
    clearInterval(this.ticker);
    autoscaler.stop();
    await nodes.endAll();
    const failures = await backends.shutdownAll();
    links.close();
    nodes.close();
    store.close();
    runtimeDir.remove();
    shm?.close();
    for (const f of failures) this.parts.log(`orrery: backend ${f.backend} did not shut down cleanly: ${f.reason}`);
    if (failures.length > 0) throw new BackendShutdownError(failures);
  }
}
