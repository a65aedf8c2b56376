/** The head's record of one task (a function call, an actor creation or an actor call). */
import type { TaskSubmission } from '../protocol/messages.ts';
import type { Lease } from './lease-dispatcher.ts';

/** Task states, named as Ray's State API names them. */
export type TaskState =
  /** Waiting for argument objects. */
  | 'PENDING_ARGS_AVAIL'
  /** Ready, waiting for a node (or an actor) to run on. */
  | 'PENDING_NODE_ASSIGNMENT'
  /** Sent to a worker. */
  | 'RUNNING'
  /** Returned a value. */
  | 'FINISHED'
  /** Threw, was cancelled, could not be scheduled, or lost its worker with no retries left. */
  | 'FAILED';

/** Mutable bookkeeping of a task. */
export interface TaskRecord {
  readonly spec: TaskSubmission;
  readonly jobId: string;
  readonly parentId: string | undefined;
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
  readonly submittedAt: number;
  startedAt: number | undefined;
  endedAt: number | undefined;
  timer: NodeJS.Timeout | undefined;
  /** Execution time measured by the worker (excludes queueing and transport). */
  execMs: number | undefined;
  /** Facts the task recorded about itself (`recordTaskInfo`: remote job id, queue position, cost). */
  info?: Record<string, string | number | boolean>;
}
