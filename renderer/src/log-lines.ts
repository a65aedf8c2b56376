/**
 * A task's log lines grouped per attempt: a task retried within maxRetries runs again under the
 * same id, so its output of every attempt lands in one list. Each attempt gets a header line
 * ("── attempt 2 of task (retry 1) ──") when more than one attempt printed, or when the first
 * that printed was a retry. Lines of the head's detail and lines streamed since join here.
 */
import type { LogEntry } from './api-types.ts';

/** A line of a task as the dashboard holds it: its text (stderr marked `[err] `) and attempt. */
export interface AttemptLine {
  readonly text: string;
  /** Undefined where the attempt is not known (a session's lines): no headers then. */
  readonly attempt?: number;
}

/** A line to show: text, or the header of an attempt. */
export interface ShownLine {
  readonly text: string;
  /** Set on header lines: the attempt (0-based) the lines below it belong to. */
  readonly header?: number;
}

/** The header shown above an attempt's lines. */
export function attemptHeader(attempt: number): string {
  return `── attempt ${attempt + 1}${attempt > 0 ? ` (retry ${attempt})` : ''} ──`;
}

/** The head's kept lines (with attempts when it sent them) as AttemptLines. */
export function fromDetail(entries: readonly LogEntry[] | undefined, plain: readonly string[]): AttemptLine[] {
  if (!entries) return plain.map((text) => ({ text }));
  return entries.map((e) => ({ text: e.stream === 'stderr' ? `[err] ${e.text}` : e.text, attempt: e.attempt }));
}

/** Lines with a header before each attempt's group (see the module comment for when). */
export function withAttemptHeaders(lines: readonly AttemptLine[]): ShownLine[] {
  const attempts = new Set<number>();
  for (const l of lines) if (l.attempt !== undefined) attempts.add(l.attempt);
  const first = lines.find((l) => l.attempt !== undefined)?.attempt;
  if (attempts.size === 0 || (attempts.size === 1 && first === 0)) return lines.map((l) => ({ text: l.text }));
  const out: ShownLine[] = [];
  let current: number | undefined;
  for (const l of lines) {
    if (l.attempt !== undefined && l.attempt !== current) {
      current = l.attempt;
      out.push({ text: attemptHeader(current), header: current });
    }
    out.push({ text: l.text });
  }
  return out;
}

/**
 * How many lines at the end of `kept` (what the head had when it answered a fetch) are the first
 * lines of `streamed` (what the feed brought after the fetch began): a line can reach the head,
 * then the feed, while the answer is on its way, and would otherwise show twice.
 */
export function overlap(kept: readonly { text: string }[], streamed: readonly { text: string }[]): number {
  for (let k = Math.min(kept.length, streamed.length, 500); k > 0; k--) {
    let same = true;
    for (let i = 0; i < k && same; i++) same = kept[kept.length - k + i]!.text === streamed[i]!.text;
    if (same) return k;
  }
  return 0;
}

/** A task's lines from the head's answer, then those streamed since the fetch began, each once. */
export function joinStreamed(earlier: readonly AttemptLine[], streamed: readonly AttemptLine[]): AttemptLine[] {
  return [...earlier.slice(0, earlier.length - overlap(earlier, streamed)), ...streamed];
}

/** Lines containing `query` (any case), with each attempt header kept above its matches. */
export function filterLines(lines: readonly ShownLine[], query: string): ShownLine[] {
  const q = query.toLowerCase();
  const out: ShownLine[] = [];
  let header: ShownLine | undefined;
  for (const l of lines) {
    if (l.header !== undefined) header = l;
    else if (l.text.toLowerCase().includes(q)) {
      if (header) out.push(header);
      header = undefined;
      out.push(l);
    }
  }
  return out;
}
