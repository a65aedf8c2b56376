/**
 * What a task panel shows of a task's inputs beyond the arguments' preview: the OpenQASM source
 * of a circuit task (the preview cuts strings at 80 characters), and the objects passed as
 * arguments with the task that made each one (a task's result has the task's id), so the panel
 * can link them. Read from the head's records or from a session's rows.
 */
import type { ReadonlyTask } from '../control/task-record.ts';
import type { Head } from '../head/head.ts';
import { deserializeValue, type Reviver } from '../core/serialization.ts';
import type { SessionReader, SessionTaskRow } from '../sessions/index.ts';

/** A circuit task's call: the program as the user wrote it and how it ran. */
export interface CircuitInput {
  readonly source: string;
  readonly params?: Readonly<Record<string, number>>;
  readonly shots?: number;
  readonly device?: string;
  readonly seed?: number;
}

/** An object passed as an argument; `taskId` and `name` when a task made it (else a `put` value). */
export interface ArgumentRef {
  readonly id: string;
  readonly taskId?: string;
  readonly name?: string;
}

/** Circuit sources larger than this are not decoded for the panel. */
const CIRCUIT_BYTES = 256 * 1024;
/** Refs listed per task (a fan-in of thousands shows the first ones). */
const REFS_SHOWN = 200;
const REF_IN_PREVIEW = /ObjectRef\(([0-9a-f]{8,64})\)/g;

const QUIET: Reviver = { ref: (id) => ({ ref: id }), actor: () => undefined, secret: () => undefined };

/** The circuit call of a circuit task the head holds; undefined for other tasks. */
export function circuitOfTask(t: ReadonlyTask): CircuitInput | undefined {
  const s = t.spec;
  const first = s.args[0];
  if (s.kind !== 'task' || s.variant !== 'circuit' || !first || 'ref' in first) return undefined;
  if (first.data.byteLength > CIRCUIT_BYTES) return undefined;
  try {
    return asCircuit(deserializeValue(first, QUIET));
  } catch {
    return undefined;
  }
}

/** The circuit call of a circuit task recorded in a session (from its stored parameters). */
export function circuitOfRow(row: SessionTaskRow): CircuitInput | undefined {
  if (row.variant !== 'circuit' || !row.paramsJson) return undefined;
  try {
    const params = JSON.parse(row.paramsJson) as unknown;
    return Array.isArray(params) ? asCircuit(params[0]) : undefined;
  } catch {
    return undefined;
  }
}

function asCircuit(v: unknown): CircuitInput | undefined {
  if (typeof v !== 'object' || v === null || typeof (v as { source?: unknown }).source !== 'string') return undefined;
  const c = v as Record<string, unknown>;
  const num = (x: unknown) => (typeof x === 'number' && Number.isFinite(x) ? x : undefined);
  return {
    source: c.source as string,
    params: isNumberRecord(c.params) ? c.params : undefined,
    shots: num(c.shots),
    device: typeof c.device === 'string' ? c.device : undefined,
    seed: num(c.seed),
  };
}

function isNumberRecord(v: unknown): v is Record<string, number> {
  return typeof v === 'object' && v !== null && Object.values(v).every((x) => typeof x === 'number');
}

/** The refs among a live task's arguments (top level, and nested ones named in its preview). */
export function refsOfTask(head: Head, t: ReadonlyTask, preview: string): ArgumentRef[] {
  const ids: string[] = [];
  for (const a of t.spec.args) if ('ref' in a) ids.push(a.ref);
  return resolve([...ids, ...idsIn(preview)], (id) => head.queries.task(id)?.spec.name);
}

/** The refs named in a session task's argument preview, with the session's task that made each. */
export function refsOfRow(reader: SessionReader, row: SessionTaskRow): ArgumentRef[] {
  return resolve(idsIn(row.argsPreview ?? ''), (id) => reader.task(id)?.name);
}

function idsIn(preview: string): string[] {
  return [...preview.matchAll(REF_IN_PREVIEW)].map((m) => m[1]!);
}

function resolve(ids: readonly string[], nameOf: (id: string) => string | undefined): ArgumentRef[] {
  const out: ArgumentRef[] = [];
  const seen = new Set<string>();
  for (const id of ids) {
    if (seen.has(id) || out.length >= REFS_SHOWN) continue;
    seen.add(id);
    const name = nameOf(id);
    out.push(name === undefined ? { id } : { id, taskId: id, name });
  }
  return out;
}
