/**
 * The dashboard's live feed, WebSocket `/api/events`: a snapshot on connect, then a batch at
 * most every 100 ms with what changed. It costs the head nothing while no dashboard is open
 * (it subscribes to head events only while a socket is connected), and little while one is:
 * a task event only stores the record in a Map keyed by task id (so a task that changed ten
 * times in 100 ms is sent once, in its latest state), and each batch is serialized once for
 * every socket.
 */
import { WebSocketServer, type WebSocket } from 'ws';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { ReadonlyTask } from '../control/task-record.ts';
import type { Head } from '../head/head.ts';
import type { JobRow, MetricPoint, NodeRow, NodeUsageSample, TaskView } from '../protocol/state-rows.ts';
import type { PlacementRule } from '../scheduler/placement-rules.ts';
import { WS_PROTOCOL } from '../protocol/driver-socket.ts';
import { refuseUpgrade } from './upgrade-refusal.ts';
import { taskView } from './dashboard-tasks.ts';
import type { BackendView } from './dashboard-backends.ts';
import { usedAmounts } from './status-view.ts';

/** Path of the feed. */
export const EVENTS_PATH = '/api/events';
/** Longest wait between a change and the batch that carries it. */
export const BATCH_INTERVAL_MS = 100;
/** Tasks in a snapshot: the most recent ones. */
export const SNAPSHOT_TASKS = 100_000;
/** Cluster usage is sampled this often, for the head's whole life (sent in the next batch). */
const USAGE_SAMPLE_MS = 1000;
/** Node rows are compared once per this many batches (once a second). */
const USAGE_EVERY = Math.round(USAGE_SAMPLE_MS / BATCH_INTERVAL_MS);
/** Log chunks per batch; the rest are counted in one note, so a chatty task cannot flood the page. */
const LOGS_PER_BATCH = 2000;
/** A socket that has this much unsent data cannot keep up; it is closed (the page reconnects and gets a snapshot). */
const MAX_BUFFERED_BYTES = 64 * 1024 * 1024;

/** A chunk of worker output in a batch. */
export interface FeedLog {
  readonly taskId?: string;
  readonly nodeId: string;
  readonly stream: 'stdout' | 'stderr';
  readonly text: string;
  /** The attempt of the task that printed it (absent for node output). */
  readonly attempt?: number;
}

/** Cluster usage, sent once a second: resources in use and in total, and tasks waiting to run. */
export interface FeedUsage {
  readonly t: number;
  readonly used: Record<string, number>;
  readonly total: Record<string, number>;
  readonly pending: number;
}

/** First message on a socket. */
/**
 * A task as the feed sends it, smaller than a TaskView on each of 100,000 tasks: its `jobId` is
 * given as `j`, an index into the message's `jobIds` (a run's id once per message; it was an
 * eighth of a snapshot's bytes), and the commonest values are left out: `kind` `function`,
 * `attempt` 0 and empty `deps` (another sixth). The page puts them back (head-client.ts).
 */
export type FeedTask = Omit<TaskView, 'jobId' | 'kind' | 'attempt' | 'deps'> &
  Partial<Pick<TaskView, 'kind' | 'attempt' | 'deps'>> & { j?: number };

export interface SnapshotMessage {
  readonly type: 'snapshot';
  readonly tasks: FeedTask[];
  /** The job ids the tasks' `j` index. */
  readonly jobIds: string[];
  readonly nodes: NodeRow[];
  readonly backends: BackendView[];
  readonly rules: PlacementRule[];
  /** Usage samples per node of the last hour (head/usage-history.ts), so a reload draws the chart at once. */
  readonly usageHistory?: NodeUsageSample[];
  /** The cluster-wide `usage` samples of the last hour that were sent while a dashboard was open, for the same reason. */
  readonly clusterUsage?: FeedUsage[];
  /** Drivers' runs the head knows (running and recently ended). */
  readonly jobs?: JobRow[];
  /** The metric points the head holds of those runs. */
  readonly metrics?: MetricPoint[];
}

/** Usage history sent in a snapshot. */
const SNAPSHOT_USAGE_MS = 3_600_000;
/** Usage samples in a snapshot at most (about 3.6 MB of JSON): a big cluster's hour is thinned to fit. */
const SNAPSHOT_USAGE_SAMPLES = 20_000;
/** Cluster-wide samples kept for snapshots: an hour at one a second. */
const CLUSTER_USAGE_KEPT = 3600;

/** What changed since the last batch; absent members did not change. */
export interface BatchMessage {
  readonly type: 'batch';
  readonly tasks: FeedTask[];
  /** The job ids the tasks' `j` index. */
  readonly jobIds: string[];
  readonly nodes?: NodeRow[];
  readonly logs?: FeedLog[];
  readonly usage?: FeedUsage;
  /** The backends, after one was added, replaced or removed. */
  readonly backends?: BackendView[];
  /** The placement rules, after they were replaced. */
  readonly rules?: PlacementRule[];
  /** Usage samples per node taken since the last batch (every 2 s). */
  readonly nodeUsage?: NodeUsageSample[];
  /** Runs that started, changed or ended, in their latest state. */
  readonly jobs?: JobRow[];
  /** Metric points logged since the last batch. */
  readonly metrics?: MetricPoint[];
}

/** Where the feed reads what the head does not hold itself. */
export interface FeedSources {
  backends(): BackendView[];
  rules(): PlacementRule[];
}

/** Serves `/api/events`. */
export class EventsFeed {
  private readonly wss = new WebSocketServer({
    noServer: true,
    maxPayload: 64 * 1024,
    // A client that offers subprotocols fails the handshake unless one is chosen: the token one when it is all it offered.
    handleProtocols: (protocols) =>
      protocols.has(WS_PROTOCOL) ? WS_PROTOCOL : (protocols.values().next().value ?? false),
  });
  private readonly sockets = new Set<WebSocket>();
  private unsubscribe: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private changed = new Map<string, ReadonlyTask>();
  private logs: FeedLog[] = [];
  private logsDropped = 0;
  private nodeUsage: NodeUsageSample[] = [];
  /**
   * The last hour of cluster usage, sampled whether or not a page is open (so a page opened
   * later draws the hour), kept across reconnects, not cleared by stop().
   */
  private readonly clusterUsage: FeedUsage[] = [];
  private readonly sampler = setInterval(() => this.sampleUsage(), USAGE_SAMPLE_MS).unref();
  /** Time of the last sample a batch carried. */
  private usageSentAt = 0;
  private jobsChanged = new Map<string, JobRow>();
  private metrics: MetricPoint[] = [];
  private nodesChanged = false;
  private backendsChanged = false;
  private rulesChanged = false;
  private lastNodes = '';
  private ticks = 0;
  private closing = false;

  constructor(
    private readonly head: Head,
    private readonly sources: FeedSources,
  ) {}

  /** Open sockets. */
  get size(): number {
    return this.sockets.size;
  }

  /** Accepts an upgrade to `/api/events` that passed the access checks (service-upgrades.ts). */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (this.closing) return refuseUpgrade(socket, 503, 'the head is shutting down');
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws));
  }

  /** The next batch carries the backends (one was added, replaced or removed). */
  backendsUpdated(): void {
    this.backendsChanged = true;
  }

  /** The next batch carries the placement rules. */
  rulesUpdated(): void {
    this.rulesChanged = true;
  }

  /** Closes every socket and stops listening to the head. */
  close(): void {
    this.closing = true;
    clearInterval(this.sampler);
    for (const ws of this.sockets) ws.close(1001, 'the head is shutting down');
    this.stop();
    this.wss.close();
  }

  private accept(ws: WebSocket): void {
    if (this.sockets.size === 0) this.start();
    this.sockets.add(ws);
    ws.on('error', () => ws.terminate());
    ws.on('close', () => {
      this.sockets.delete(ws);
      if (this.sockets.size === 0) this.stop();
    });
    // The page only listens; anything it sends is ignored.
    ws.on('message', () => {});
    const nodes = this.nodes();
    this.lastNodes = JSON.stringify(nodes);
    const recent = this.recentTasks();
    const snapshot: SnapshotMessage = {
      type: 'snapshot',
      tasks: recent.tasks,
      jobIds: recent.jobIds,
      nodes,
      backends: this.sources.backends(),
      rules: this.sources.rules(),
      usageHistory: this.head.usage.thinned(Date.now() - SNAPSHOT_USAGE_MS, SNAPSHOT_USAGE_SAMPLES),
      clusterUsage: this.clusterUsage.filter((u) => u.t >= Date.now() - SNAPSHOT_USAGE_MS),
      jobs: this.head.jobs.rows(),
      metrics: this.head.jobs.metrics.points(),
    };
    ws.send(JSON.stringify(snapshot));
  }

  private start(): void {
    const remember = (t: ReadonlyTask) => void this.changed.set(t.spec.taskId, t);
    this.unsubscribe = this.head.events.subscribe({
      taskSubmitted: remember,
      taskChanged: remember,
      taskInfo: remember,
      node: () => void (this.nodesChanged = true),
      job: (row) => void this.jobsChanged.set(row.jobId, row),
      metrics: (points) => {
        for (const p of points) this.metrics.push(p);
      },
      log: (e) => {
        if (this.logs.length < LOGS_PER_BATCH)
          this.logs.push({ taskId: e.taskId, nodeId: e.nodeId, stream: e.stream, text: e.text, attempt: e.attempt });
        else this.logsDropped++;
      },
      usage: (samples) => void this.nodeUsage.push(...samples),
    });
    this.ticks = 0;
    this.timer = setInterval(() => this.flush(), BATCH_INTERVAL_MS);
    this.timer.unref();
  }

  private stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.changed = new Map();
    this.logs = [];
    this.logsDropped = 0;
    this.nodeUsage = [];
    this.jobsChanged = new Map();
    this.metrics = [];
  }

  private flush(): void {
    this.ticks++;
    const feed = new FeedTasks();
    for (const t of this.changed.values()) feed.add(taskView(t, this.head));
    this.changed = new Map();
    const batch: { -readonly [K in keyof BatchMessage]: BatchMessage[K] } = {
      type: 'batch',
      tasks: feed.tasks,
      jobIds: feed.jobIds,
    };
    if (this.logsDropped > 0) {
      this.logs.push({
        nodeId: '',
        stream: 'stderr',
        text: `[orrery: ${this.logsDropped} more output chunks in this interval are not shown; see the task's logs]`,
      });
      this.logsDropped = 0;
    }
    if (this.logs.length > 0) {
      batch.logs = this.logs;
      this.logs = [];
    }
    const usageTick = this.ticks % USAGE_EVERY === 0;
    if (this.nodesChanged || usageTick) {
      // Node rows carry `available`, which moves with every lease: compared once a second, sent when different.
      const nodes = this.nodes();
      const text = JSON.stringify(nodes);
      if (text !== this.lastNodes) batch.nodes = nodes;
      this.lastNodes = text;
      this.nodesChanged = false;
    }
    const usage = this.clusterUsage.at(-1);
    if (usage && usage.t > this.usageSentAt) {
      batch.usage = usage;
      this.usageSentAt = usage.t;
    }
    if (this.nodeUsage.length > 0) {
      batch.nodeUsage = this.nodeUsage;
      this.nodeUsage = [];
    }
    if (this.jobsChanged.size > 0) {
      batch.jobs = [...this.jobsChanged.values()];
      this.jobsChanged = new Map();
    }
    if (this.metrics.length > 0) {
      batch.metrics = this.metrics;
      this.metrics = [];
    }
    if (this.backendsChanged) batch.backends = this.sources.backends();
    if (this.rulesChanged) batch.rules = this.sources.rules();
    this.backendsChanged = this.rulesChanged = false;
    if (feed.tasks.length === 0 && Object.keys(batch).length === 3) return;
    const text = JSON.stringify(batch);
    for (const ws of this.sockets) {
      if (ws.bufferedAmount > MAX_BUFFERED_BYTES)
        ws.close(1013, 'the dashboard cannot keep up with the head; reconnect for a fresh snapshot');
      else ws.send(text);
    }
  }

  private recentTasks(): FeedTasks {
    let skip = Math.max(0, this.head.queries.taskCount() - SNAPSHOT_TASKS);
    const feed = new FeedTasks();
    for (const t of this.head.queries.tasks()) {
      if (skip > 0) {
        skip--;
        continue;
      }
      feed.add(taskView(t, this.head));
    }
    return feed;
  }

  private nodes(): NodeRow[] {
    return this.head.queries.state('nodes', [], 100_000);
  }

  private sampleUsage(): void {
    this.clusterUsage.push(this.usage());
    if (this.clusterUsage.length > CLUSTER_USAGE_KEPT * 1.1)
      this.clusterUsage.splice(0, this.clusterUsage.length - CLUSTER_USAGE_KEPT);
  }

  private usage(): FeedUsage {
    const total = this.head.queries.state('cluster-resources');
    const available = this.head.queries.state('available-resources');
    const used = usedAmounts(total, available);
    let pending = 0;
    for (const t of this.head.queries.tasks())
      if (t.state === 'PENDING_NODE_ASSIGNMENT' || t.state === 'PENDING_ARGS_AVAIL') pending++;
    return { t: Date.now(), used, total, pending };
  }
}

/** The tasks of one feed message as FeedTasks: job ids as indexes into `jobIds`, common values left out. */
class FeedTasks {
  readonly tasks: FeedTask[] = [];
  readonly jobIds: string[] = [];
  private readonly index = new Map<string, number>();

  add(view: TaskView): void {
    const t = view as { -readonly [K in keyof TaskView]?: TaskView[K] } & { j?: number };
    const { jobId } = view;
    if (jobId !== undefined) {
      let j = this.index.get(jobId);
      if (j === undefined) this.index.set(jobId, (j = this.jobIds.push(jobId) - 1));
      t.j = j;
      t.jobId = undefined;
    }
    // Set to undefined rather than deleted: JSON leaves them out, and the objects keep one shape.
    if (view.kind === 'function') t.kind = undefined;
    if (view.attempt === 0) t.attempt = undefined;
    if (view.deps.length === 0) t.deps = undefined;
    this.tasks.push(t as FeedTask);
  }
}
