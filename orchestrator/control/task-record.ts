/** The head's record of one task (a function call, an actor creation or an actor call). */
import type { Timer } from '../core/clock.ts';
import type { TaskSubmission } from '../protocol/messages.ts';
import type { TaskState } from '../protocol/state-rows.ts';
import type { Lease } from './lease-dispatcher.ts';

/** Mutable bookkeeping of a task. */
export interface TaskRecord {
  readonly spec: TaskSubmission;
  readonly jobId: string;
  readonly parentId: string | undefined;
  /** The failed task this one resubmits (`orrery retry`, task-retry.ts). */
  readonly retryOf?: string;
  /** Submitted to an earlier head and adopted from its session: the spec lacks the arguments. */
  readonly adopted?: boolean;
  state: TaskState;
  attempt: number;
  retriesLeft: number;
  depsLeft: number;
  cancelled: boolean;
  lease: Lease | undefined;
  nodeId: string | undefined;
  children: string[] | undefined;
  ruleIndex: number | undefined;
  errorName: string | undefined;
  /** Why this attempt runs, when it is a retry: what became of the previous one (sessions record it). */
  retryReason?: { readonly name: string; readonly message: string };
  /** For a TaskError: the class name of what the task's own code threw (`ValueError`, `BadParams`). */
  errorCause?: string;
  readonly submittedAt: number;
  startedAt: number | undefined;
  endedAt: number | undefined;
  /** The running task's timeout (`timeoutMs`), or a cancelled task's grace period before its worker is killed. */
  timer: Timer | undefined;
  /** Execution time measured by the worker (excludes queueing and transport). */
  execMs: number | undefined;
  /** Facts the task recorded about itself (`recordTaskInfo`: remote job id, queue position, cost). */
  info?: Record<string, string | number | boolean>;
}

/**
 * What the head shows of a task outside the control layer (State API, dashboard, sessions): the
 * record itself, not a copy, typed so that nothing outside can change it or reach its lease.
 */
export type ReadonlyTask = Readonly<
  Pick<
    TaskRecord,
    | 'spec'
    | 'jobId'
    | 'parentId'
    | 'retryOf'
    | 'adopted'
    | 'state'
    | 'attempt'
    | 'nodeId'
    | 'ruleIndex'
    | 'errorName'
    | 'retryReason'
    | 'errorCause'
    | 'submittedAt'
    | 'startedAt'
    | 'endedAt'
    | 'execMs'
    | 'info'
  >
>;

/**
 * The record of a task submitted to an earlier head of a resumed session and taken over by this
 * one: RUNNING on `nodeId` (a task an agent still runs), or, without a node, waiting for one (an
 * actor's creation, ActorManager.adopt).
 */
export function adoptedRecord(
  spec: TaskSubmission,
  jobId: string,
  attempt: number,
  now: number,
  nodeId?: string,
): TaskRecord {
  return {
    spec,
    jobId,
    parentId: undefined,
    adopted: true,
    state: nodeId ? 'RUNNING' : 'PENDING_NODE_ASSIGNMENT',
    attempt,
    retriesLeft: 0,
    depsLeft: 0,
    cancelled: false,
    lease: undefined,
    nodeId,
    children: undefined,
    ruleIndex: undefined,
    errorName: undefined,
    submittedAt: now,
    startedAt: nodeId ? now : undefined,
    endedAt: undefined,
    timer: undefined,
    execMs: undefined,
  };
}
