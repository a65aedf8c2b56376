/**
 * The head: control store (tasks, actors, objects, nodes), scheduler, object directory and the
 * backends' nodes, wired together. Drivers and running tasks talk to it through `serve`.
 */
import { fileURLToPath } from 'node:url';
import { extname, join } from 'node:path';
import type { AgentSpec, AgentStream, Backend, BackendHost } from '../../backends/types.ts';
import { BackendShutdownError, toErrorInfo } from '../core/errors.ts';
import { amountsOf, addResources, type ResourceSet } from '../core/resources.ts';
import type { ShippedCode } from '../core/function-source.ts';
import { newId } from '../core/ids.ts';
import { Channel } from '../protocol/channel.ts';
import type { ClientRequest, Message, RunMessage } from '../protocol/messages.ts';
import { ObjectStore } from '../objects/object-store.ts';
import { ObjectPlane } from '../objects/object-plane.ts';
import { ProcessDir } from '../core/runtime-dir.ts';
import { memoryKilled } from '../control/memory-kills.ts';
import { ClusterScheduler } from '../scheduler/cluster-scheduler.ts';
import { validatePlacementRules, type PlacementRule } from '../scheduler/placement-rules.ts';
import { LeaseDispatcher } from '../control/lease-dispatcher.ts';
import { TaskManager } from '../control/task-manager.ts';
import type { SecretSource } from '../control/task-secrets.ts';
import { keychainSecrets } from './keychain-secrets.ts';
import { ActorManager } from '../control/actor-manager.ts';
import { PlacementGroupManager } from '../control/placement-group-manager.ts';
import { PROTOCOL_VERSION } from '../protocol/version.ts';
import { endAgents, NodeLink } from './node-link.ts';
import { filterRows, mapRows, nodeRow, summarize, taskRow } from './state-api.ts';
import { LogRouter } from './log-router.ts';
import { WorkerLinks } from './worker-links.ts';
import { Autoscaler } from './autoscaler.ts';
import { startLocalAgent } from './local-agent.ts';
import { waitForObjects } from './wait-for-objects.ts';
import { createBackend } from './backend-registry.ts';
import { checkBackendConfigs } from './backend-configs.ts';
import { shutDownBackends } from './backend-shutdown.ts';
import { DRIVER_MODULES_REFUSED, type ModulePolicy } from './module-backends.ts';
import { HeadEvents } from './head-events.ts';
import type { Lease, SchedulingClass } from '../control/lease-dispatcher.ts';
import type { TaskRecord } from '../control/task-record.ts';

const AGENT_ENTRY = fileURLToPath(new URL(`../agent/agent-main${extname(fileURLToPath(import.meta.url))}`, import.meta.url));
const HELLO_TIMEOUT_MS = 60_000;
/** Leases whose last task is remembered for late output. */
const LAST_TASKS_KEPT = 4096;

/** Head settings. */
export interface HeadOptions {
  /** How long a request no node can satisfy waits for one to join (ms). */
  readonly infeasibleGraceMs?: number;
  readonly placementRules?: readonly PlacementRule[];
  /** Where the head's own warnings go (default: stderr). */
  readonly log?: (line: string) => void;
  /** A service head: agents outlive it for `graceS` seconds so a restarted head reattaches (see BackendHost.durable). */
  readonly durable?: { readonly graceS: number; readonly runDir: string; readonly reattach: boolean };
  /** Bytes of object values the head keeps in memory before spilling to disk (default: 30% of RAM). */
  readonly objectStoreMemory?: number;
  /** Where spilled values go (default: `spill` in the head's private process folder, see core/runtime-dir.ts). */
  readonly spillDir?: string;
  /** Finished task records kept once their results are freed (default 100,000; see TaskManager.retire). */
  readonly keepFinishedTasks?: number;
  /** Where the secrets tasks name with `secret(name)` are read when they are dispatched (default: the OS keychain). */
  readonly secrets?: SecretSource;
  /** Whether backends a client driver adds may be `module:` ones, and from where (default: refused). */
  readonly driverModules?: ModulePolicy;
  /** How long one backend's shutdown may take before it is reported and given up (default 30 s). */
  readonly backendShutdownTimeoutMs?: number;
}


/** Who is asking: a driver (job) or a running task. */
export interface Caller {
  readonly jobId: string;
  readonly taskId?: string;
  /** The calling worker process (`<nodeId>/<workerId>`), for reference counting; drivers leave it out. */
  readonly holder?: string;
  /** The node the calling worker runs on. */
  readonly nodeId?: string;
}

/** The head of a cluster. */
export class Head {
  readonly store: ObjectStore;
  /** Object requests, reference counts, pulls from nodes, lineage and locality. */
  readonly objects: ObjectPlane;
  readonly scheduler: ClusterScheduler;
  readonly dispatcher: LeaseDispatcher;
  readonly tasks: TaskManager;
  readonly actors: ActorManager;
  readonly placementGroups: PlacementGroupManager;
  readonly logs: LogRouter;
  /** Task, node and log events for the session recorder and the dashboard. */
  readonly events: HeadEvents;
  private readonly nodes = new Map<string, NodeLink>();
  private readonly code = new Map<string, ShippedCode>();
  private readonly jobs = new Map<string, { namespace: string }>();
  private readonly backends = new Map<string, Backend>();
  private readonly links: WorkerLinks;
  /** This head's private folder: the worker socket and spilled values (removed at shutdown). */
  private readonly runtimeDir: ProcessDir;
  private readonly autoscaler: Autoscaler;
  /** When each live node last had no lease (absent while busy). */
  private readonly idleSince = new Map<string, number>();
  private readonly ticker: NodeJS.Timeout;
  /** This head's identity, told to every agent (an agent that outlived another head drops that head's leases). */
  readonly headId = newId();
  private readonly log: (line: string) => void;
  private closed = false;

  private readonly durable: HeadOptions['durable'];
  private readonly driverModules: ModulePolicy;
  private readonly backendShutdownTimeoutMs: number | undefined;
  /** The last task each recent lease finished, for output that arrives after the lease ended (bounded). */
  private readonly lastTaskOfLease = new Map<string, TaskRecord>();
  /** Classes the scheduler reported infeasible (pruned when read), for `infeasibleDemand`. */
  private readonly infeasibleClasses = new Set<SchedulingClass>();

  constructor(opts: HeadOptions = {}) {
    this.durable = opts.durable;
    this.driverModules = opts.driverModules ?? DRIVER_MODULES_REFUSED;
    this.backendShutdownTimeoutMs = opts.backendShutdownTimeoutMs;
    this.runtimeDir = ProcessDir.create('head');
    this.store = new ObjectStore({ memoryBytes: opts.objectStoreMemory, spillDir: opts.spillDir ?? join(this.runtimeDir.path, 'spill') });
    const rules = opts.placementRules ? validatePlacementRules(opts.placementRules) : undefined;
    this.log = opts.log ?? ((line) => process.stderr.write(`${line}\n`));
    this.logs = new LogRouter();
    this.scheduler = new ClusterScheduler({ infeasibleGraceMs: opts.infeasibleGraceMs ?? 5000 });
    this.dispatcher = new LeaseDispatcher(this.scheduler, {
      start: (t, lease) =>
        this.tasks.start(t, lease, t.spec.kind === 'actor-create' ? { maxConcurrency: this.actors.maxConcurrencyOf(t.spec.actorId) } : undefined),
      unschedulable: (t, reason) => {
        if (t.spec.kind === 'actor-create') this.actors.unschedulable(t, reason);
        else this.tasks.unschedulable(t, reason);
      },
      infeasible: (cls, missing) => {
        this.infeasibleClasses.add(cls);
        if (!this.closed)
          this.log(`orrery: warning: a task needs ${JSON.stringify(cls.assigned)}${cls.template.backend ? ` on backend ${cls.template.backend}` : ''} but no node or backend offers ${missing}; it fails with TaskUnschedulableError unless a node that fits joins soon.`);
      },
      leaseEnded: (lease) => this.nodes.get(lease.nodeId)?.send({ type: 'lease-end', leaseId: lease.id }),
      now: () => Date.now(),
    });
    this.tasks = new TaskManager(this.store, this.dispatcher, {
      run: (lease, m) => this.sendRun(lease, m),
      cancelRunning: (t, force) => this.cancelRunning(t, force),
      backendOf: (nodeId) => this.nodes.get(nodeId)?.backend ?? '',
      now: () => Date.now(),
      secrets: opts.secrets ?? keychainSecrets,
    }, opts.keepFinishedTasks);
    this.actors = new ActorManager(this.tasks, this.dispatcher, {
      namespaceOf: (jobId) => this.jobs.get(jobId)?.namespace ?? `anonymous-${jobId}`,
      killOnNode: (nodeId, actorId) => this.nodes.get(nodeId)?.send({ type: 'kill-actor', actorId }),
    });
    this.tasks.actors = this.actors;
    this.placementGroups = new PlacementGroupManager({
      scheduler: this.scheduler, dispatcher: this.dispatcher, tasks: this.tasks, actors: this.actors, store: this.store, log: (line) => !this.closed && this.log(line),
    });
    this.objects = new ObjectPlane(this.store, this.tasks, {
      send: (nodeId, m) => {
        const n = this.nodes.get(nodeId);
        if (!n?.alive) return false;
        n.send(m);
        return true;
      },
      isAlive: (nodeId) => this.nodes.get(nodeId)?.alive === true,
      log: (line) => this.log(line),
    });
    this.events = new HeadEvents((e) => (this.tasks.events = e));
    this.links = new WorkerLinks(this.runtimeDir.socketPath('workers.sock'), (nodeId, link, m) => {
      const node = this.nodes.get(nodeId);
      if (node) this.fromNode(node, m, link);
    });
    if (rules) this.tasks.setPlacementRules(rules);
    this.autoscaler = new Autoscaler({
      scheduler: this.scheduler,
      backends: () => this.backends.values(),
      idleNodes: (backend) => this.idleNodes(backend),
      apply: (d) => this.dispatcher.apply(d),
    });
    this.ticker = setInterval(() => this.dispatcher.apply(this.scheduler.handle({ type: 'tick', now: Date.now() })), 100);
    this.ticker.unref();
  }

  /** Replaces the placement rules (validated); they apply to tasks submitted afterwards. */
  setPlacementRules(rules: unknown): void {
    this.tasks.setPlacementRules(validatePlacementRules(rules));
  }

  /** Starts a driver's job; without a namespace its named actors are private to it. */
  startJob(namespace?: string): string {
    const jobId = newId();
    this.jobs.set(jobId, { namespace: namespace ?? `anonymous-${jobId}` });
    return jobId;
  }

  /** Ends a job: its pending tasks are cancelled and its non-detached actors die. */
  endJob(jobId: string): void {
    for (const t of this.tasks.tasks.values()) {
      if (t.jobId === jobId && t.state !== 'FINISHED' && t.state !== 'FAILED' && t.spec.kind === 'task') this.tasks.cancel(t.spec.taskId, true, true);
    }
    this.actors.jobEnded(jobId);
    this.placementGroups.jobEnded(jobId);
    this.objects.jobEnded(jobId);
  }

  /** The namespace of a job. */
  namespaceOf(jobId: string): string {
    return this.jobs.get(jobId)?.namespace ?? `anonymous-${jobId}`;
  }

  /** Adds the backends whose names are new (a client driver's `init({ backends })`); resolves with the names added. */
  private async addBackendsOnce(configs: readonly unknown[]): Promise<string[]> {
    const added: string[] = [];
    for (const c of checkBackendConfigs(configs, 'add-backends', this.driverModules)) {
      if (this.backends.has(c.name as string)) continue;
      const backend = await createBackend(c, this.driverModules);
      await this.addBackend(backend);
      added.push(backend.name);
    }
    if (added.length > 0) this.log(`orrery: a driver added backend${added.length > 1 ? 's' : ''} ${added.join(', ')}`);
    return added;
  }

  /** Starts a backend and its initial nodes. */
  async addBackend(backend: Backend): Promise<void> {
    if (this.backends.has(backend.name)) throw new Error(`a backend named "${backend.name}" already exists; backend names must be unique`);
    this.backends.set(backend.name, backend);
    this.autoscaler.publishShapes(backend);
    await backend.start(this.backendHost(backend.name));
  }

  /** The backends, in the order they were added. */
  backendList(): { name: string; kind: string }[] {
    return [...this.backends.values()].map((b) => ({ name: b.name, kind: b.kind }));
  }

  /** Stops backend `name` and removes it: its nodes leave (their tasks retry elsewhere). */
  async removeBackend(name: string): Promise<void> {
    const backend = this.backends.get(name);
    if (!backend) throw new Error(`no backend named "${name}" on this head; see GET /api/backends`);
    this.backends.delete(name);
    const leaving = [...this.nodes.values()].filter((n) => n.backend === name && n.alive);
    for (const n of leaving) {
      n.retiring = true;
      this.nodeDied(n, `backend ${name} was removed`, false);
    }
    await endAgents(leaving);
    await backend.shutdown();
  }

  private backendHost(backend: string): BackendHost {
    const host: BackendHost = {
      agentEntry: AGENT_ENTRY,
      agentExecArgv: agentExecArgv(),
      workerSocket: this.links.path,
      attach: (stream, spec) => this.attach(stream, spec),
      log: (line) => this.log(line),
      retire: (nodeId) => this.retire(nodeId),
      startLocalAgent: (spec, env, key) => startLocalAgent({ ...host, workerLinkSecret: this.links.secret }, backend, spec, env, key),
      durable: this.durable,
    };
    return host;
  }

  /**
   * Accepts an agent stream; resolves when the agent said hello and its node joined. An agent
   * that outlives heads (`spec.listen`) may come back on a new stream: the node carries on.
   */
  attach(stream: AgentStream, spec: AgentSpec): Promise<void> {
    const channel = new Channel(stream.input, stream.output, `node ${spec.nodeId}`);
    channel.send({ type: 'head-hello', headId: this.headId });
    return new Promise<void>((resolve, reject) => {
      let node: NodeLink | undefined;
      const timer = setTimeout(() => {
        stream.kill();
        reject(new Error(`node ${spec.nodeId} of backend ${spec.backend} did not say hello within ${HELLO_TIMEOUT_MS / 1000} s; check that its agent can start`));
      }, HELLO_TIMEOUT_MS);
      channel.listen(
        (m) => {
          if (node) return this.fromNode(node, m);
          if (m.type !== 'hello' || m.version !== PROTOCOL_VERSION) {
            channel.close(m.type === 'hello' ? `agent speaks protocol ${m.version}, head speaks ${PROTOCOL_VERSION}` : `first message was ${m.type}, not hello`);
            return;
          }
          clearTimeout(timer);
          const known = this.nodes.get(m.nodeId);
          if (known?.alive) {
            node = known;
            known.reattach(channel, stream);
            this.log(`orrery: node ${known.nodeId} (${known.backend}) is back`);
          } else {
            node = new NodeLink(m.nodeId, spec.backend, channel, stream, m.resources, m.labels, m.pid, spec.listen ? (spec.graceS ?? 1800) : undefined);
            this.nodes.set(node.nodeId, node);
            this.events.node({ nodeId: node.nodeId, backend: node.backend, event: 'join', resources: node.resources, labels: node.labels });
            this.dispatcher.apply(this.scheduler.handle({ type: 'node-added', node: { nodeId: node.nodeId, backend: node.backend, total: node.total, labels: node.labels }, now: Date.now() }));
          }
          for (const taskId of m.resumed?.running ?? []) if (!this.tasks.tasks.has(taskId)) this.adoptTask?.(taskId, node.nodeId);
          resolve();
        },
        (reason) => {
          clearTimeout(timer);
          if (!node) {
            stream.kill();
            reject(new Error(`node ${spec.nodeId} of backend ${spec.backend} went away before it joined${reason ? `: ${reason}` : ''}`));
            return;
          }
          if (node.channel === channel) this.linkLost(node, reason ?? 'its agent exited');
        },
      );
    });
  }

  /**
   * Set by a head resuming a session: an agent reports a task this head never submitted (it ran
   * for the head before); the hook may adopt it (TaskManager.adopt) so its result is collected.
   */
  adoptTask: ((taskId: string, nodeId: string) => void) | undefined;

  /** A node's stream ended: an agent that outlives heads gets its grace period, others are dead. */
  private linkLost(node: NodeLink, reason: string): void {
    if (node.graceS === undefined || this.closed || node.retiring || !node.alive) return this.nodeDied(node, reason);
    if (node.detached) return;
    this.log(`orrery: lost the link to node ${node.nodeId} (${node.backend}): ${reason}; its tasks keep running there, waiting up to ${node.graceS} s for it to come back`);
    const timer = setTimeout(() => {
      node.detached = undefined;
      this.nodeDied(node, `${reason}; it did not come back within ${node.graceS} s`);
    }, node.graceS * 1000);
    timer.unref();
    node.detached = { outbox: [], timer };
  }

  /** Live nodes of a backend and how long each has been without leases. */
  private idleNodes(backend: string): { nodeId: string; idleMs: number }[] {
    const busy = this.dispatcher.busyNodes();
    const now = Date.now();
    const out: { nodeId: string; idleMs: number }[] = [];
    for (const n of this.nodes.values()) {
      if (!n.alive || n.retiring || n.backend !== backend) continue;
      if (busy.has(n.nodeId)) {
        this.idleSince.delete(n.nodeId);
        out.push({ nodeId: n.nodeId, idleMs: 0 });
        continue;
      }
      if (!this.idleSince.has(n.nodeId)) this.idleSince.set(n.nodeId, now);
      out.push({ nodeId: n.nodeId, idleMs: now - this.idleSince.get(n.nodeId)! });
    }
    return out;
  }

  /** Scale-down: no new work goes to the node; its end is not a failure. */
  private retire(nodeId: string): void {
    const node = this.nodes.get(nodeId);
    if (!node || !node.alive) return;
    node.retiring = true;
    node.alive = false;
    node.deathReason = 'retired (idle)';
    this.idleSince.delete(nodeId);
    for (const t of this.dispatcher.nodeRemoved(nodeId)) this.tasks.workerDied(t, `node ${nodeId} was retired`);
  }

  /** A node is gone: its work fails over. `endAgent` false: its backend is ending it (after the agent had time to clean up). */
  private nodeDied(node: NodeLink, reason: string, endAgent = true): void {
    if (!node.alive) return;
    node.alive = false;
    node.deathReason = reason;
    this.idleSince.delete(node.nodeId);
    this.events.node({ nodeId: node.nodeId, backend: node.backend, event: 'leave', reason });
    if (!this.closed) this.log(`orrery: node ${node.nodeId} (${node.backend}) is dead: ${reason}`);
    if (endAgent) node.stream.kill();
    this.objects.nodeDied(node.nodeId);
    const why = `node ${node.nodeId} died: ${reason}`;
    for (const t of this.dispatcher.nodeRemoved(node.nodeId)) {
      if (t.spec.kind === 'actor-create') this.actors.workerDied(t.spec.actorId!, why);
      else this.tasks.workerDied(t, why);
    }
    this.actors.nodeDied(node.nodeId, why);
  }

  /** Sends a run straight to the lease's worker when it has a direct link, else through the agent. */
  private sendRun(lease: Lease, m: RunMessage): void {
    const node = this.nodes.get(lease.nodeId);
    if (!node) return;
    const link = lease.link && !lease.link.isClosed ? lease.link : undefined;
    const sent = link ? lease.sentCode : node.sentCode;
    let code: ShippedCode | undefined;
    if (m.codeHash && !sent.has(m.codeHash)) {
      code = this.code.get(m.codeHash);
      sent.add(m.codeHash);
    }
    const msg: RunMessage = code ? { ...m, code } : m;
    if (link) link.send(msg);
    else node.send(msg);
  }

  private cancelRunning(t: TaskRecord, force: boolean): void {
    const node = t.nodeId ? this.nodes.get(t.nodeId) : undefined;
    if (!node) return;
    const lease = t.lease ?? this.actors.leaseOf(t.spec.actorId);
    const actorId = t.spec.kind === 'task' ? undefined : this.actors.realId(t.spec.actorId);
    const link = !force && lease?.link && !lease.link.isClosed ? lease.link : undefined;
    const msg: Message = { type: 'cancel', taskId: t.spec.taskId, force, leaseId: lease?.id, actorId };
    if (force && lease) lease.killRequested = true;
    if (link) link.send(msg);
    else node.send(msg);
  }

  private fromNode(node: NodeLink, m: Message, link?: Channel): void {
    switch (m.type) {
      case 'done':
      case 'failed': {
        const done = this.tasks.tasks.get(m.taskId);
        const lease = done?.lease;
        if (lease) this.rememberLastTask(lease.id, done!);
        if (lease && m.workerId && lease.workerId !== m.workerId) {
          lease.workerId = m.workerId;
          lease.link = link;
          lease.sentCode.clear();
        }
        if (m.type === 'done') return this.tasks.done(m.taskId, m.attempt, m.result, m.execMs, { nodeId: m.stored ? node.nodeId : undefined, sizeBytes: m.sizeBytes, nestedRefs: m.nestedRefs });
        return this.tasks.failed(m.taskId, m.attempt, m.error, m.cancelled === true, m.execMs);
      }
      case 'worker-died': {
        this.objects.workerDied(node.nodeId, m.workerId);
        if (m.actorId) this.actors.workerDied(m.actorId, m.reason);
        const lease = m.leaseId ? this.dispatcher.lease(m.leaseId) : undefined;
        if (lease && !m.actorId) {
          lease.workerId = undefined;
          lease.link = undefined;
          const killed = lease.killRequested;
          lease.killRequested = false;
          for (const t of [...lease.inflight]) {
            if (killed) this.tasks.requeue(t);
            else if (m.memory) memoryKilled(this.tasks, t, m.memory, this.log);
            else this.tasks.workerDied(t, m.reason);
          }
        }
        return;
      }
      case 'log': {
        const lease = m.leaseId ? this.dispatcher.lease(m.leaseId) : this.actors.leaseOf(m.actorId);
        // Output can arrive after the result, once the lease went back: it belongs to the lease's last task.
        const t: TaskRecord | undefined = m.taskId ? this.tasks.tasks.get(m.taskId) : (lease?.inflight.values().next().value ?? (m.leaseId ? this.lastTaskOfLease.get(m.leaseId) : undefined));
        if (this.events.active) this.events.log({ nodeId: node.nodeId, taskId: t?.spec.taskId, stream: m.stream, text: m.text });
        return this.logs.append(node.nodeId, { taskId: t?.spec.taskId, name: t?.spec.name ?? this.actors.classNameOf(m.actorId), stream: m.stream, text: m.text });
      }
      case 'request':
        return this.fromTask(m, link ?? node.channel, node.nodeId);
      case 'object':
        return this.objects.arrived(node.nodeId, m.objectId, m.payload);
      default:
        (link ?? node.channel).close(`unexpected ${m.type} message from an agent`);
    }
  }

  private fromTask(m: Extract<Message, { type: 'request' }>, replyTo: Channel, nodeId: string): void {
    const caller: Caller = {
      jobId: this.tasks.tasks.get(m.callerTaskId)?.jobId ?? '', taskId: m.callerTaskId || undefined, holder: `${nodeId}/${m.workerId ?? ''}`, nodeId,
    };
    const reply = (ok: boolean, value: unknown) => {
      if (m.requestId === 0) {
        if (!ok) this.log(`orrery: request ${m.req.op} from task ${m.callerTaskId} failed: ${(value as { message?: string }).message}`);
        return;
      }
      replyTo.send(ok ? { type: 'reply', requestId: m.requestId, workerId: m.workerId, ok, value } : { type: 'reply', requestId: m.requestId, workerId: m.workerId, ok, error: toErrorInfo(value) });
    };
    try {
      const r = this.serve(m.req, caller);
      if (r instanceof Promise) r.then((v) => reply(true, v), (e) => reply(false, e));
      else reply(true, r);
    } catch (err) {
      reply(false, err);
    }
  }

  /** Handles a driver's or a task's request. Synchronous where it can be (submit, put). */
  serve(req: ClientRequest, caller: Caller): unknown {
    switch (req.op) {
      case 'submit':
        if (req.task.code) {
          this.code.set(req.task.code.hash, req.task.code);
          this.events.code(req.task.code);
        }
        this.tasks.submit(this.placementGroups.admit(req.task, caller.taskId), caller.jobId, caller.taskId);
        this.objects.submitted(req.task.taskId, req.task.kind, caller);
        return undefined;
      case 'put':
        return this.objects.put(req, caller);
      case 'refs':
        return this.objects.refs(req, caller);
      case 'get':
        return waitForObjects(this.store, (blocked) => this.blockCaller(caller, blocked), req.ids, req.ids.length, req.timeoutMs).then(async (ready) =>
          ready.length < req.ids.length ? { timedOut: req.ids.length - ready.length } : this.objects.results(req.ids, caller),
        );
      case 'wait':
        return waitForObjects(this.store, (blocked) => this.blockCaller(caller, blocked), req.ids, req.numReturns, req.timeoutMs);
      case 'cancel':
        return this.tasks.cancel(req.id, req.force, req.recursive);
      case 'get-actor':
        return this.actors.lookup(req.name, req.namespace ?? this.namespaceOf(caller.jobId));
      case 'kill-actor':
        return this.actors.kill(req.actorId, req.noRestart);
      case 'state':
        return this.state(req.query, req.filters, req.limit);
      case 'add-backends':
        return this.addBackendsOnce(req.configs);
      case 'task-info':
        return this.tasks.recordInfo(req.taskId, req.info);
      case 'pg-create':
      case 'pg-remove':
        return this.placementGroups.serve(req, caller.jobId);
    }
  }

  /** A task waiting in get/wait gives its CPUs back meanwhile. */
  private blockCaller(caller: Caller, blocked: boolean): void {
    const task = caller.taskId ? this.tasks.tasks.get(caller.taskId) : undefined;
    if (task) this.dispatcher.setBlocked(task, blocked);
  }

  private state(query: string, filters: Parameters<typeof filterRows>[1], limit?: number): unknown {
    switch (query) {
      case 'tasks':
        return filterRows(mapRows(this.tasks.tasks.values(), taskRow), filters, limit);
      case 'actors':
        return filterRows(this.actors.rows(), filters, limit);
      case 'objects':
        return filterRows(this.store.rows(), filters, limit);
      case 'nodes':
        return filterRows(mapRows(this.nodes.values(), (n) => nodeRow(n, this.scheduler.available(n.nodeId))), filters, limit);
      case 'summary':
        return summarize(this.tasks.tasks.values(), this.tasks.retired.values());
      case 'cluster-resources':
        return amountsOf(this.sumOver((n) => n.total));
      case 'available-resources':
        return amountsOf(this.sumOver((n) => this.scheduler.available(n.nodeId) ?? {}));
      case 'placement-groups':
        return filterRows(this.placementGroups.rows(), filters, limit);
      default:
        throw new TypeError(`unknown state query ${query}`);
    }
  }

  private sumOver(f: (n: NodeLink) => ResourceSet): ResourceSet {
    let sum: ResourceSet = {};
    for (const n of this.nodes.values()) if (n.alive) sum = addResources(sum, f(n));
    return sum;
  }

  private rememberLastTask(leaseId: string, t: TaskRecord): void {
    this.lastTaskOfLease.set(leaseId, t);
    if (this.lastTaskOfLease.size > LAST_TASKS_KEPT) this.lastTaskOfLease.delete(this.lastTaskOfLease.keys().next().value!);
  }

  /** Queued work that no node or backend can ever run (`orrery status`, like `ray status`'s infeasible requests). */
  infeasibleDemand(): { resources: Record<string, number>; backend: string | undefined; missing: string; count: number }[] {
    const out: { resources: Record<string, number>; backend: string | undefined; missing: string; count: number }[] = [];
    for (const cls of this.infeasibleClasses) {
      if (cls.infeasible === undefined || cls.waiting.length === 0) {
        this.infeasibleClasses.delete(cls);
        continue;
      }
      out.push({ resources: amountsOf(cls.template.resources), backend: cls.template.backend, missing: cls.infeasible, count: cls.waiting.length });
    }
    return out;
  }

  /** The backend a node belongs to ('' for an unknown node). */
  backendOfNode(nodeId: string): string {
    return this.nodes.get(nodeId)?.backend ?? '';
  }

  /** Live nodes' ids, in join order. */
  nodeIds(): string[] {
    return [...this.nodes.values()].filter((n) => n.alive).map((n) => n.nodeId);
  }

  /** Stops every backend (independently: backend-shutdown.ts) and node; then rejects with BackendShutdownError if any backend threw or hung. */
  async shutdown(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.ticker);
    this.autoscaler.stop();
    await endAgents([...this.nodes.values()].filter((n) => n.alive));
    const failures = await shutDownBackends(this.backends.values(), this.backendShutdownTimeoutMs);
    this.links.close();
    for (const n of this.nodes.values()) n.alive = false;
    this.store.close();
    this.runtimeDir.remove();
    for (const f of failures) this.log(`orrery: backend ${f.backend} did not shut down cleanly: ${f.reason}`);
    if (failures.length > 0) throw new BackendShutdownError(failures);
  }
}

/**
 * Node flags for agents and workers: the driver's loader flags (tsx) carry over; flags that print
 * to stdout (the agent's protocol stream) or bind ports (--inspect) do not.
 */
function agentExecArgv(): string[] {
  return process.execArgv.filter((a) => !/^--(inspect|trace|prof|cpu-prof|heap-prof|debug|print|eval|test)/.test(a));
}
