/**
 * What happens in the head, for whoever records or shows it (the session recorder, the
 * dashboard's live feed). Listeners subscribe; with none, every event returns at once, so an
 * unobserved head pays no more than a call per task event.
 */
import type { ShippedCode } from '../core/function-source.ts';
import type { Payload } from '../core/serialization.ts';
import type { ActorChange, ActorEvents } from '../control/actor-manager.ts';
import type { ReadonlyTask } from '../control/task-record.ts';
import type { StoredFrom } from '../objects/object-store.ts';
import type { JobRow, MetricPoint, NodeUsageSample } from '../protocol/state-rows.ts';

/** A node joining or leaving. */
export interface NodeEvent {
  readonly nodeId: string;
  readonly backend: string;
  readonly event: 'join' | 'leave';
  readonly resources?: Readonly<Record<string, number>>;
  readonly labels?: Readonly<Record<string, string>>;
  readonly reason?: string;
}

/** A chunk of worker output. */
export interface LogEvent {
  readonly nodeId: string;
  readonly taskId: string | undefined;
  readonly stream: 'stdout' | 'stderr';
  readonly text: string;
  /** The attempt of the task that printed it (0 first; one more per retry within maxRetries). */
  readonly attempt?: number;
}

/** A subscriber; every member is optional. */
export interface HeadListener {
  taskSubmitted?(t: ReadonlyTask): void;
  /** State, node or attempt changed (RUNNING, FINISHED, FAILED, back to pending for a retry). */
  taskChanged?(t: ReadonlyTask): void;
  /** `from.nodeId` set: the value stayed on that node (pull it if needed); `result` is a stand-in. */
  taskResult?(t: ReadonlyTask, result: Payload, from?: StoredFrom): void;
  taskInfo?(t: ReadonlyTask, info: Readonly<Record<string, string | number | boolean>>): void;
  code?(code: ShippedCode): void;
  /** An actor was created, adopted by a resumed head, restarted or died (with why). */
  actor?(change: ActorChange): void;
  node?(e: NodeEvent): void;
  log?(e: LogEvent): void;
  /** A driver's run (job) started, changed or ended. */
  job?(row: JobRow): void;
  /** A job logged metric values (`log()`). */
  metrics?(points: readonly MetricPoint[]): void;
  /** One round of usage samples, one per live node (every 2 s; head/usage-monitor.ts). */
  usage?(samples: readonly NodeUsageSample[]): void;
}

/** The fan-out of head events to listeners. */
export class HeadEvents implements ActorEvents {
  private readonly listeners = new Set<HeadListener>();

  /** Adds a listener; returns its unsubscribe function. */
  subscribe(l: HeadListener): () => void {
    this.listeners.add(l);
    return () => void this.listeners.delete(l);
  }

  /** True while someone listens (callers skip building events nobody reads). */
  get active(): boolean {
    return this.listeners.size > 0;
  }

  // The task events come once or more per task: with nobody listening they return before iterating.
  submitted(t: ReadonlyTask): void {
    if (this.listeners.size === 0) return;
    for (const l of this.listeners) l.taskSubmitted?.(t);
  }

  changed(t: ReadonlyTask): void {
    if (this.listeners.size === 0) return;
    for (const l of this.listeners) l.taskChanged?.(t);
  }

  result(t: ReadonlyTask, result: Payload, from?: StoredFrom): void {
    if (this.listeners.size === 0) return;
    for (const l of this.listeners) l.taskResult?.(t, result, from);
  }

  info(t: ReadonlyTask, info: Readonly<Record<string, string | number | boolean>>): void {
    if (this.listeners.size === 0) return;
    for (const l of this.listeners) l.taskInfo?.(t, info);
  }

  code(code: ShippedCode): void {
    for (const l of this.listeners) l.code?.(code);
  }

  actor(change: ActorChange): void {
    for (const l of this.listeners) l.actor?.(change);
  }

  node(e: NodeEvent): void {
    for (const l of this.listeners) l.node?.(e);
  }

  log(e: LogEvent): void {
    for (const l of this.listeners) l.log?.(e);
  }

  job(row: JobRow): void {
    for (const l of this.listeners) l.job?.(row);
  }

  metrics(points: readonly MetricPoint[]): void {
    for (const l of this.listeners) l.metrics?.(points);
  }

  usage(samples: readonly NodeUsageSample[]): void {
    for (const l of this.listeners) l.usage?.(samples);
  }
}
