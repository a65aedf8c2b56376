/**
 * The tasks a client driver submitted in the last moments, kept to send again to the head it
 * reaches after losing one. A head killed within moments of a submission may not have received
 * it (it was still in the driver's socket) or may not have written it to its session yet (the
 * recorder writes every 50 ms; a head writes a submission before it dispatches the task, see
 * head/session-recording.ts): the resumed head then knows nothing of the task and the driver's
 * `get` would wait for it forever. The head takes a replayed task only when neither it nor the
 * session it resumes knows it (head-requests.ts), so a task the old head recorded, and therefore
 * may have run, is never submitted twice.
 */
import type { ShippedCode } from '../core/function-source.ts';
import { Fifo } from '../core/fifo.ts';
import type { TaskSubmission } from '../protocol/messages.ts';

/** How long a submission is kept: many times the recorder's 50 ms, under any load a head survives. */
export const REPLAY_WINDOW_MS = 10_000;
/** At most this many are kept (the oldest go first): a driver pipelining tasks fast keeps its memory bounded. */
export const REPLAY_MAX_TASKS = 50_000;

/** Submissions of plain tasks sent within the window, with the code they need. */
export class SubmissionReplay {
  private readonly recent = new Fifo<{ readonly at: number; readonly task: TaskSubmission }>();
  /** Code by hash: a submission after the first of its function was sent without it. */
  private readonly code = new Map<string, ShippedCode>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Notes a submission as it is sent. Actor calls are left out: their actor does not outlive its head. */
  sent(task: TaskSubmission): void {
    if (task.kind !== 'task') return;
    if (task.code) this.code.set(task.code.hash, task.code);
    this.recent.push({ at: this.now(), task });
    this.prune();
  }

  /**
   * The submissions to send again, oldest first: those within the window whose result the
   * driver still holds a ref to (a released one was wanted by nobody). Each carries its code
   * unless `sentCode` says the new head has it; the hashes sent are added to `sentCode`.
   */
  replays(holds: (taskId: string) => boolean, sentCode: Set<string>): TaskSubmission[] {
    this.prune();
    const out: TaskSubmission[] = [];
    for (const { task } of this.recent.drain()) {
      if (!holds(task.taskId)) continue;
      const hash = task.codeHash;
      const code = hash !== undefined && !sentCode.has(hash) ? this.code.get(hash) : undefined;
      if (code) sentCode.add(code.hash);
      out.push(code ? { ...task, code } : { ...task, code: undefined });
    }
    for (const task of out) this.recent.push({ at: this.now(), task });
    return out;
  }

  private prune(): void {
    const oldest = this.now() - REPLAY_WINDOW_MS;
    while (this.recent.length > REPLAY_MAX_TASKS || (this.recent.peek()?.at ?? Number.POSITIVE_INFINITY) < oldest)
      this.recent.shift();
  }
}
