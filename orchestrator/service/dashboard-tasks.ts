/**
 * Tasks as the dashboard shows them: the compact `TaskView` of the live feed and of session
 * listings, and the detail of one task (arguments, result, error, the rule that placed it,
 * its output), built from the head's records or from a session's rows.
 */
import { inspect } from 'node:util';
import type { ReadonlyTask } from '../control/task-record.ts';
import type { Head } from '../head/head.ts';
import type { TaskState, TaskView, TaskViewKind } from '../protocol/state-rows.ts';
import { redactSecrets } from '../core/secret-values.ts';
import { describeTaskArgs } from '../head/task-arguments.ts';
import { mappedBytes } from '../core/serialization.ts';
import { decodeResult } from '../sessions/result-values.ts';
import type { SessionReader, SessionTaskRow } from '../sessions/index.ts';
import type { PlacementRule } from '../scheduler/placement-rules.ts';
import type { KeptLine } from '../head/log-router.ts';
import {
  circuitOfRow,
  circuitOfTask,
  refsOfRow,
  refsOfTask,
  type ArgumentRef,
  type CircuitInput,
} from './dashboard-task-inputs.ts';

/** GET /api/tasks/:id and /api/sessions/:name/tasks/:id. */
export interface TaskDetail {
  readonly task: TaskView;
  /** A short text of the arguments (secret values redacted). */
  readonly args: string;
  /** `json` is there when the value is small plain data (numbers, strings, arrays, plain objects: measurement counts). */
  readonly result?: { readonly preview: string; readonly json?: unknown };
  readonly error?: { readonly name: string; readonly message: string };
  readonly placementRule?: { readonly index: number; readonly rule: PlacementRule };
  readonly logs: readonly string[];
  /** The logs with the attempt that printed each line (live tasks; absent for a session's). */
  readonly logEntries?: readonly KeptLine[];
  /** A circuit task's OpenQASM program, parameters, shots and device. */
  readonly circuit?: CircuitInput;
  /** Objects passed as arguments, with the task that made each (absent: none). */
  readonly argRefs?: readonly ArgumentRef[];
}

/** Results whose JSON is larger than this are shown as a preview only. */
const JSON_RESULT_CHARS = 64 * 1024;
const PREVIEW_CHARS = 2000;
const REF_KEY = '__orrery_ref__';

/** The view of a task the head holds (undefined members vanish in JSON). */
export function taskView(t: ReadonlyTask, head: Head): TaskView {
  const s = t.spec;
  const deps: string[] = [];
  for (const a of s.args) if ('ref' in a) deps.push(a.ref);
  return {
    id: s.taskId,
    name: s.name,
    kind: s.kind === 'task' ? (s.variant ?? 'function') : s.kind,
    state: t.state,
    nodeId: t.nodeId,
    backend: t.nodeId ? head.queries.backendOfNode(t.nodeId) || undefined : undefined,
    parentId: t.parentId,
    retryOf: t.retryOf,
    deps,
    actorId: s.actorId,
    ruleIndex: t.ruleIndex,
    attempt: t.attempt,
    submittedAt: t.submittedAt,
    startedAt: t.startedAt,
    endedAt: t.endedAt,
    errorName: t.errorName,
    info: t.info && redactSecrets(t.info).value,
    errorCause: t.errorCause,
    jobId: t.jobId || undefined,
  };
}

/** The view of a task recorded in a session (deps are not recorded there: empty). */
export function sessionTaskView(r: SessionTaskRow, info?: Readonly<Record<string, unknown>>): TaskView {
  const kind = r.kind === 'task' ? (r.variant ?? 'function') : r.kind;
  return {
    id: r.taskId,
    name: r.name,
    kind: kind as TaskViewKind,
    // A session records the states the head had: one of TaskState.
    state: r.state as TaskState,
    nodeId: r.nodeId ?? undefined,
    backend: r.backend ?? undefined,
    parentId: r.parentTaskId ?? undefined,
    deps: [],
    actorId: r.actorId ?? undefined,
    ruleIndex: r.ruleIndex ?? undefined,
    attempt: r.attempt,
    submittedAt: r.submittedAt,
    startedAt: r.startedAt ?? undefined,
    endedAt: r.endedAt ?? undefined,
    errorName: r.errorName ?? undefined,
    info: info && Object.keys(info).length > 0 ? (info as Record<string, string | number | boolean>) : undefined,
    jobId: r.jobId ?? undefined,
  };
}

/**
 * The detail of a task on the head. A result the head no longer holds (its refs were dropped,
 * or it stayed on a node) is read from the service's own session when `session` is given.
 */
export function taskDetail(
  head: Head,
  t: ReadonlyTask,
  rules: PlacementRule[] | undefined,
  session: () => SessionReader | undefined,
): TaskDetail {
  const id = t.spec.taskId;
  const out: { -readonly [K in keyof TaskDetail]: TaskDetail[K] } = {
    task: taskView(t, head),
    args: describeTaskArgs(t.spec, PREVIEW_CHARS).preview,
    logs: head.logs.lines(id),
    logEntries: head.logs.entries(id),
  };
  addInputs(out, circuitOfTask(t), refsOfTask(head, t, out.args));
  const r = head.queries.result(id);
  if (r?.ok)
    out.result = describeValue(r.payload.typed ?? 'v8', r.payload.shm ? mappedBytes(r.payload.shm) : r.payload.data);
  else if (r && !r.ok) out.error = { name: r.error.name, message: r.error.message };
  else if (t.state === 'FINISHED' || t.state === 'FAILED') {
    const reader = session();
    const stored = reader?.result(id);
    if (stored) out.result = describeValue(stored.contentType, stored.bytes);
    const row = stored ? undefined : reader?.task(id);
    if (row?.errorName) out.error = { name: row.errorName, message: row.errorMessage ?? '' };
  }
  if (t.ruleIndex !== undefined && rules?.[t.ruleIndex])
    out.placementRule = { index: t.ruleIndex, rule: rules[t.ruleIndex]! };
  return out;
}

/** The detail of a task recorded in a session; `rules` are the placement rules in force when it was submitted. */
export function sessionTaskDetail(
  reader: SessionReader,
  row: SessionTaskRow,
  rules: PlacementRule[] | undefined,
): TaskDetail {
  const lines = reader.logs({ taskId: row.taskId });
  const out: { -readonly [K in keyof TaskDetail]: TaskDetail[K] } = {
    task: sessionTaskView(row, reader.taskInfo(row.taskId)),
    args: row.argsPreview ?? '',
    logs: lines.map((l) => l.text),
  };
  // Sessions from schema version 4 know each line's attempt: a replay separates retries as the live panel does.
  if (lines.some((l) => l.attempt !== null))
    out.logEntries = lines.map((l) => ({
      attempt: l.attempt ?? 0,
      stream: l.stream === 'stderr' ? 'stderr' : 'stdout',
      text: l.text,
    }));
  addInputs(out, circuitOfRow(row), refsOfRow(reader, row));
  const stored = reader.result(row.taskId);
  if (stored) out.result = describeValue(stored.contentType, stored.bytes);
  if (row.errorName) out.error = { name: row.errorName, message: row.errorMessage ?? '' };
  if (row.ruleIndex !== null && rules?.[row.ruleIndex])
    out.placementRule = { index: row.ruleIndex, rule: rules[row.ruleIndex]! };
  return out;
}

function addInputs(
  out: { circuit?: CircuitInput; argRefs?: readonly ArgumentRef[] },
  circuit: CircuitInput | undefined,
  refs: ArgumentRef[],
): void {
  if (circuit) out.circuit = circuit;
  if (refs.length > 0) out.argRefs = refs;
}

/**
 * A preview of stored value bytes, and the value as JSON when it is small plain data. Values
 * are decoded without reviving refs inside them (they show as `{ __orrery_ref__: id }`), so
 * looking at a result never takes a reference.
 */
export function describeValue(contentType: string, bytes: Uint8Array): { preview: string; json?: unknown } {
  const value = decodeResult(contentType, bytes);
  if (value === undefined && contentType !== 'v8')
    return { preview: `<${contentType} value of ${bytes.byteLength} bytes>` };
  const text = inspect(value, { depth: 4, breakLength: 100, maxArrayLength: 50, maxStringLength: 500, compact: 3 });
  const preview = text.length <= PREVIEW_CHARS ? text : `${text.slice(0, PREVIEW_CHARS - 1)}…`;
  if (!isPlain(value)) return { preview };
  const json = JSON.stringify(value);
  return json !== undefined && json.length <= JSON_RESULT_CHARS ? { preview, json: value } : { preview };
}

function isPlain(v: unknown): boolean {
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return true;
  if (typeof v === 'number') return Number.isFinite(v);
  if (Array.isArray(v)) return v.every(isPlain);
  if (typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    return !(REF_KEY in (v as object)) && Object.values(v as object).every(isPlain);
  }
  return false;
}
