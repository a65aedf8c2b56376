/**
 * The one place a head is put together. Every part gets what it works with as constructor
 * arguments; where two parts need each other (the task table and the actor table, the store
 * and lineage, the nodes and what their messages drive), one of them gets a port: callbacks
 * that reach a part built further down, called only once the head runs. Nothing is assigned
 * into a part after it was built.
 *
 * The data path through these parts: a request (head-requests.ts) submits a task to the
 * TaskManager, which resolves its arguments in the ObjectStore and queues it on the
 * LeaseDispatcher; the ClusterScheduler places a lease on a node; the TaskTransport sends the
 * run to the worker; its result comes back as a node message (node-messages.ts) that completes
 * the task and its object, which `get` then reads.
 */
import { join } from 'node:path';
import { systemClock } from '../core/clock.ts';
import type { ShippedCode } from '../core/function-source.ts';
import { ProcessDir } from '../core/runtime-dir.ts';
import { ShmFolder } from '../core/shared-memory.ts';
import { shmAddonFailed, shmReadMode } from '../core/shm-map.ts';
import { ActorManager } from '../control/actor-manager.ts';
import { LeaseDispatcher } from '../control/lease-dispatcher.ts';
import { PlacementGroupManager } from '../control/placement-group-manager.ts';
import { SpendLedger } from '../control/spend-ledger.ts';
import { TaskManager } from '../control/task-manager.ts';
import { LineageReconstruction } from '../objects/lineage.ts';
import { ObjectPlane } from '../objects/object-plane.ts';
import { ObjectPulls } from '../objects/object-pulls.ts';
import { ObjectStore } from '../objects/object-store.ts';
import { TransferRoutes } from '../objects/transfer-routes.ts';
import { ClusterScheduler } from '../scheduler/cluster-scheduler.ts';
import { validatePlacementRules } from '../scheduler/placement-rules.ts';
import { Autoscaler } from './autoscaler.ts';
import { ClusterNodes } from './cluster-nodes.ts';
import { HeadBackends } from './head-backends.ts';
import { HeadEvents } from './head-events.ts';
import type { HeadOptions } from './head-options.ts';
import { StateQueries } from './head-queries.ts';
import { HeadRequests } from './head-requests.ts';
import { Jobs } from './jobs.ts';
import { keychainSecrets } from './keychain-secrets.ts';
import { LogRouter } from './log-router.ts';
import { DRIVER_MODULES_REFUSED } from './module-backends.ts';
import { NodeMessages } from './node-messages.ts';
import { TaskTransport } from './task-transport.ts';
import { UsageMonitor } from './usage-monitor.ts';
import { WorkerLinks } from './worker-links.ts';

/** The parts of a head, wired. */
export interface HeadParts {
  readonly runtimeDir: ProcessDir;
  /** The head's shared-memory folder (undefined where the machine has none). */
  readonly shm: ShmFolder | undefined;
  readonly events: HeadEvents;
  readonly logs: LogRouter;
  readonly jobs: Jobs;
  readonly store: ObjectStore;
  readonly objects: ObjectPlane;
  readonly tasks: TaskManager;
  readonly actors: ActorManager;
  readonly placementGroups: PlacementGroupManager;
  readonly nodes: ClusterNodes;
  readonly links: WorkerLinks;
  readonly backends: HeadBackends;
  readonly autoscaler: Autoscaler;
  readonly queries: StateQueries;
  /** Spend of paid jobs against the session's and backends' budgets. */
  readonly spend: SpendLedger;
  /** Usage samples per node and their history (usage-monitor.ts). */
  readonly usage: UsageMonitor;
  readonly requests: HeadRequests;
  /** The head's own warnings. */
  log(line: string): void;
  /** Lets the scheduler act on time passing (infeasible grace periods, retries of placement). */
  tick(): void;
}

/** Builds the parts of a head identified by `headId`. */
export function assembleHead(opts: HeadOptions, headId: string): HeadParts {
  const rules = opts.placementRules ? validatePlacementRules(opts.placementRules) : undefined;
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  // Warnings about work that cannot run are noise once the head is shutting down.
  const warn = (line: string) => {
    if (!nodes.shuttingDown) log(line);
  };
  const clock = systemClock;
  const runtimeDir = ProcessDir.create('head');
  const shm = ShmFolder.create('head', log);
  const read = shm && shmAddonFailed() ? shmReadMode() : undefined;
  if (read)
    log(`orrery: shared-memory values are read into each process, not mapped (${read.reason}); one copy per reader`);
  const events = new HeadEvents();
  const logs = new LogRouter();
  const jobs = new Jobs({ job: (row) => events.job(row), metrics: (points) => events.metrics(points) });
  /** Code by hash, as submissions brought it, for the runs that need it. */
  const code = new Map<string, ShippedCode>();
  const scheduler = new ClusterScheduler({ infeasibleGraceMs: opts.infeasibleGraceMs ?? 5000 });

  const nodes = new ClusterNodes(
    headId,
    events,
    {
      joined: (n) =>
        dispatcher.apply(
          scheduler.handle({
            type: 'node-added',
            node: { nodeId: n.nodeId, backend: n.backend, total: n.total, labels: n.labels },
            now: clock.now(),
          }),
        ),
      message: (n, m, link) => messages.handle(n, m, link),
      died: (nodeId, why) => {
        transfers.nodeDied(nodeId);
        objects.nodeDied(nodeId, (id) => transfers.liveCopy(id));
        for (const t of dispatcher.nodeRemoved(nodeId)) {
          if (t.spec.kind === 'actor-create') actors.workerDied(t.spec.actorId!, why);
          else tasks.workerDied(t, why);
        }
        actors.nodeDied(nodeId, why);
      },
      retired: (nodeId, why) => {
        for (const t of dispatcher.nodeRemoved(nodeId)) tasks.workerDied(t, why);
      },
      resumed: (nodeId, taskIds, actorIds) => {
        // Actors first: a call the agent still runs counts as in flight on its adopted actor.
        for (const actorId of actorIds) adoptActor(nodeId, actorId);
        for (const taskId of taskIds) {
          const adopted = tasks.task(taskId) ? undefined : opts.adoption?.adoptable(taskId);
          if (!adopted) continue;
          const t = tasks.adopt(adopted.spec, adopted.jobId, nodeId, adopted.attempt);
          if (t.spec.kind === 'actor-call') actors.adoptedCall(t);
          log(`orrery: resumed task ${adopted.spec.name} (${taskId}) on node ${nodeId}`);
        }
      },
      busyNodes: () => dispatcher.busyNodes(),
    },
    log,
  );

  /**
   * An agent that outlived the previous head hosts `actorId`: adopted when the session this head
   * resumes recorded its creation and it is not dead there; otherwise its worker is ended.
   */
  const adoptActor = (nodeId: string, actorId: string) => {
    if (actors.knows(actorId)) return;
    const found = opts.adoption?.actor?.(actorId);
    if (!found) {
      log(`orrery: an agent on node ${nodeId} hosts actor ${actorId}, which this head does not resume; ending it`);
      return void nodes.send(nodeId, { type: 'kill-actor', actorId });
    }
    const t = tasks.adoptActorCreation(found.spec, found.jobId, found.attempt);
    actors.adopt(t, nodeId, found.numRestarts, found.created, tasks.pinnedClassFor(t, nodeId));
    log(`orrery: resumed actor ${found.spec.name} (${actorId}) on node ${nodeId}`);
  };

  const pulls = new ObjectPulls((nodeId, m) => nodes.send(nodeId, m));
  const transfers = new TransferRoutes(
    (nodeId) => nodes.isAlive(nodeId),
    (nodeId) => nodes.get(nodeId)?.sharesMemory === true,
  );
  const store = new ObjectStore(
    { memoryBytes: opts.objectStoreMemory, spillDir: opts.spillDir ?? join(runtimeDir.path, 'spill'), shm },
    {
      pull: (nodeId, id) => pulls.pull(nodeId, id),
      freeOnNode: (nodeId, ids) => {
        nodes.send(nodeId, { type: 'free-objects', ids });
        // Copies other agents fetched directly go with the value.
        for (const id of ids) for (const n of transfers.freed(id)) nodes.send(n, { type: 'free-objects', ids: [id] });
      },
      reconstruct: (id) => lineage.reconstruct(id),
    },
  );
  const objects = new ObjectPlane(store, pulls, { isAlive: (nodeId) => nodes.isAlive(nodeId) });

  const dispatcher = new LeaseDispatcher(
    scheduler,
    {
      start: (t, lease) => {
        const adopted = t.spec.kind === 'actor-create' ? actors.adoptedCreation(t) : undefined;
        if (adopted) return tasks.startAdopted(t, lease, adopted.created);
        tasks.start(
          t,
          lease,
          t.spec.kind === 'actor-create' ? { maxConcurrency: actors.maxConcurrencyOf(t.spec.actorId) } : undefined,
        );
      },
      unschedulable: (t, reason) =>
        t.spec.kind === 'actor-create' ? actors.unschedulable(t, reason) : tasks.unschedulable(t, reason),
      infeasible: (cls, missing) => {
        queries.noteInfeasible(cls);
        warn(
          `orrery: warning: a task needs ${JSON.stringify(cls.assigned)}${cls.template.backend ? ` on backend ${cls.template.backend}` : ''} but no node or backend offers ${missing}; it fails with TaskUnschedulableError unless a node that fits joins soon.`,
        );
      },
      leaseEnded: (lease) => void nodes.send(lease.nodeId, { type: 'lease-end', leaseId: lease.id }),
      placementGroup: (d) => placementGroups.decided(d),
    },
    clock,
  );
  const actors: ActorManager = new ActorManager(
    {
      fail: (t, error) => tasks.fail(t, error),
      start: (t, lease) => tasks.start(t, lease),
      classFor: (t) => tasks.classFor(t),
    },
    dispatcher,
    {
      namespaceOf: (jobId) => jobs.namespaceOf(jobId),
      killOnNode: (nodeId, actorId) => void nodes.send(nodeId, { type: 'kill-actor', actorId }),
    },
    events,
  );
  const transport = new TaskTransport(nodes, code, actors, dispatcher);
  const tasks: TaskManager = new TaskManager(
    store,
    dispatcher,
    {
      run: (lease, m) => transport.run(lease, m),
      cancelRunning: (t, force) => transport.cancel(t, force),
      backendOf: (nodeId) => nodes.backendOf(nodeId),
      locality: (t) => objects.preferredNode(t.spec),
      secrets: opts.secrets ?? keychainSecrets,
    },
    actors,
    events,
    clock,
    opts.keepFinishedTasks,
  );
  if (rules) tasks.setPlacementRules(rules);
  const lineage = new LineageReconstruction(store, tasks, log);
  const placementGroups = new PlacementGroupManager({ scheduler, dispatcher, tasks, actors, store, log: warn }, clock);
  const spend = new SpendLedger({ isRunning: (taskId) => tasks.task(taskId)?.state === 'RUNNING' });
  spend.setSessionBudget(opts.budget?.usd);
  const queries = new StateQueries({ tasks, actors, placementGroups, store, transfers, scheduler, nodes, spend });

  const links = new WorkerLinks(runtimeDir.socketPath('workers.sock'), (nodeId, link, m) => {
    const node = nodes.get(nodeId);
    if (node) messages.handle(node, m, link);
  });
  const backends = new HeadBackends({
    nodes,
    links,
    publishShapes: (b) => autoscaler.publishShapes(b),
    durable: opts.durable,
    driverModules: opts.driverModules ?? DRIVER_MODULES_REFUSED,
    shutdownTimeoutMs: opts.backendShutdownTimeoutMs,
    log,
  });
  const autoscaler = new Autoscaler({
    scheduler,
    backends: () => backends.values(),
    idleNodes: (backend) => nodes.idleNodes(backend),
    apply: (d) => dispatcher.apply(d),
  });
  const requests = new HeadRequests({
    code,
    events,
    tasks,
    actors,
    placementGroups,
    objects,
    store,
    dispatcher,
    queries,
    spend,
    namespaceOf: (jobId) => jobs.namespaceOf(jobId),
    jobs,
    recordedTask: opts.adoption?.recorded && ((taskId) => opts.adoption?.recorded?.(taskId)),
    recordedResult: opts.adoption?.result && ((taskId) => opts.adoption?.result?.(taskId)),
    addBackends: (configs) => backends.addFromDriver(configs),
    fetchesDirectly: (nodeId, id) => {
      const holder = store.heldOnlyBy(id);
      // Its own node's agent has it at hand; another node's, when the pair can reach each other.
      return holder !== undefined && (holder === nodeId || transfers.sources(nodeId, id, holder).length > 0);
    },
    log,
  });
  const usage = new UsageMonitor({
    liveNodes: () => queries.state('nodes', [], 100_000).filter((n) => n.state === 'ALIVE'),
    queuePositions: () => {
      const byNode = new Map<string, number[]>();
      for (const t of tasks.records()) {
        const p = t.state === 'RUNNING' && t.nodeId ? t.info?.queuePosition : undefined;
        if (typeof p === 'number') byNode.set(t.nodeId!, [...(byNode.get(t.nodeId!) ?? []), p]);
      }
      return byNode;
    },
    publish: (samples) => events.usage(samples),
  });
  const messages = new NodeMessages({
    tasks,
    transfers,
    actors,
    dispatcher,
    objects,
    requests,
    logs,
    events,
    log,
    usage: (nodeId, m) => usage.report(nodeId, m, clock.now()),
  });

  return {
    runtimeDir,
    shm,
    events,
    logs,
    jobs,
    store,
    objects,
    tasks,
    actors,
    placementGroups,
    nodes,
    links,
    backends,
    autoscaler,
    queries,
    spend,
    requests,
    usage,
    log,
    tick: () => {
      dispatcher.apply(scheduler.handle({ type: 'tick', now: clock.now() }));
      usage.tick(clock.now());
    },
  };
}
