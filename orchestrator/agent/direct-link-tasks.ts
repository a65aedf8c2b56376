/**
 * What a worker must not lose when its direct link to the head closes because the head died:
 * the tasks that head gave it over the link and that it has not finished, and the results it
 * sent over the link in the last moments (they may have died in the socket with the head). Both
 * go to the worker's agent, which tells the next head: it adopts those tasks instead of running
 * them again, and takes each result once (a result the dead head had taken is of a task the
 * session shows finished, which nobody adopts). An agent's head link (detachable-head.ts) keeps
 * the results it relays the same way.
 */
import type { Message, RunMessage } from '../protocol/messages.ts';

/** How long a result sent over the link may still have been in flight when the head died. */
const RESEND_WINDOW_MS = 5000;
/** At most this many result bytes are kept for a resend (large values stay on the node anyway). */
const RESEND_MAX_BYTES = 64 * 1024 * 1024;

type Ended = Extract<Message, { type: 'done' | 'failed' }>;

export class DirectLinkTasks {
  /** Task id -> its lease id, or `actor:<id>`. */
  private readonly inHand = new Map<string, string>();
  private recent: { readonly at: number; readonly m: Ended; readonly bytes: number }[] = [];
  private recentBytes = 0;

  /** A run arrived over the link. */
  took(m: RunMessage): void {
    this.inHand.set(m.taskId, m.kind === 'task' ? m.leaseId : `actor:${m.actorId}`);
  }

  /** A message is about to go out over the link. */
  sending(m: Message): void {
    if (m.type !== 'done' && m.type !== 'failed') return;
    this.inHand.delete(m.taskId);
    const now = performance.now();
    const bytes = m.type === 'done' ? m.result.data.byteLength : 0;
    this.recent.push({ at: now, m, bytes });
    this.recentBytes += bytes;
    let drop = 0;
    while (
      drop < this.recent.length &&
      (now - this.recent[drop]!.at > RESEND_WINDOW_MS || this.recentBytes > RESEND_MAX_BYTES)
    )
      this.recentBytes -= this.recent[drop++]!.bytes;
    if (drop > 0) this.recent = this.recent.slice(drop);
  }

  /** The link closed: what the agent must hear, once (undefined when there is nothing). */
  lost(workerId: string): Message | undefined {
    const tasks = [...this.inHand].map(([taskId, holder]) => ({ taskId, holder }));
    const results = this.recent.map((r) => r.m);
    this.inHand.clear();
    this.recent = [];
    this.recentBytes = 0;
    return tasks.length + results.length > 0 ? { type: 'tasks-in-hand', workerId, tasks, results } : undefined;
  }
}
