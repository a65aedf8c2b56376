/**
 * The Tables tab's action bar for tasks picked with checkboxes: "Cancel N" (unfinished ones)
 * and "Retry N" (failed or cancelled ones that are not an actor's), each confirmed first.
 * Cancels go as `POST /api/tasks/cancel` in parts of CANCEL_PART ids (each task cancelled as
 * `orrery cancel` does); retries one request per task to the API `orrery retry` uses, a few at
 * a time; both with progress, the outcome in one line. The picked ids are a Set kept by the table.
 */
import type { App } from '../app.ts';
import type { TaskView } from '../api-types.ts';
import { confirmAction } from '../confirm-dialog.ts';
import { h } from '../dom.ts';
import { api } from '../head-client.ts';
import { ended, retriable, retryTask } from '../task-actions.ts';

/** Requests in flight at once: enough to be quick, few enough to leave the head room for drivers. */
const PARALLEL = 8;
/** Task ids per cancel request (the head takes at most 5,000). */
const CANCEL_PART = 5000;

/** Cancels `ids` in parts; `progress(done)` after each part. The errors, in order. */
async function cancelAll(ids: readonly string[], force: boolean, progress: (done: number) => void) {
  const errors: string[] = [];
  for (let i = 0; i < ids.length; i += CANCEL_PART) {
    const part = ids.slice(i, i + CANCEL_PART);
    try {
      const r = await api<{ unknown: string[] }>('tasks/cancel', { method: 'POST', body: { ids: part, force } });
      for (const id of r.unknown) errors.push(`${id}: not on this head`);
    } catch (err) {
      errors.push(`${part.length} tasks from ${part[0]}: ${(err as Error).message}`);
    }
    progress(Math.min(ids.length, i + CANCEL_PART));
  }
  return errors;
}

/** Runs `act` on every id, PARALLEL at a time; `progress(done)` after each. The errors, in order. */
async function each(ids: readonly string[], act: (id: string) => Promise<unknown>, progress: (done: number) => void) {
  const errors: string[] = [];
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < ids.length) {
      const id = ids[next++]!;
      try {
        await act(id);
      } catch (err) {
        errors.push(`${id}: ${(err as Error).message}`);
      }
      progress(++done);
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL, ids.length) }, worker));
  return errors;
}

/** The bar; `picked` is the table's set, `cleared` redraws the table's boxes after an action empties it. */
export class BulkActions {
  readonly element: HTMLElement;
  private readonly label = h('span', { 'data-testid': 'picked-count' });
  private readonly cancel = h(
    'button',
    { type: 'button', class: 'danger', 'data-testid': 'bulk-cancel', onclick: () => void this.run('cancel') },
    'Cancel',
  );
  private readonly retry = h(
    'button',
    { type: 'button', 'data-testid': 'bulk-retry', onclick: () => void this.run('retry') },
    'Retry',
  );
  private readonly clear = h(
    'button',
    { type: 'button', 'data-testid': 'bulk-clear', onclick: () => this.empty() },
    'Clear selection',
  );
  private readonly outcome = h('span', { class: 'action-outcome', role: 'status', 'data-testid': 'bulk-outcome' });
  private busy = false;

  constructor(
    private readonly app: App,
    private readonly picked: Set<string>,
    private readonly cleared: () => void,
  ) {
    this.element = h(
      'div',
      { class: 'bulk-actions toolbar', role: 'toolbar', 'aria-label': 'Actions on the selected tasks', hidden: true },
      this.label,
      this.cancel,
      this.retry,
      this.clear,
      this.outcome,
    );
  }

  /** The picked tasks the live run has, split by what can be done to them. */
  private targets(): { cancel: string[]; retry: string[]; known: number } {
    const cancel: string[] = [];
    const retry: string[] = [];
    let known = 0;
    for (const id of this.picked) {
      const t: TaskView | undefined = this.app.live.tasks.get(id);
      if (!t) continue;
      known++;
      if (!ended(t)) cancel.push(id);
      else if (retriable(t)) retry.push(id);
    }
    return { cancel, retry, known };
  }

  /** Redraws the counts (after a pick, or a state change on the feed). */
  update(): void {
    const replay = this.app.shown !== this.app.live;
    this.element.hidden = this.picked.size === 0 && !this.outcome.textContent;
    if (this.picked.size === 0) {
      this.label.textContent = '';
      this.cancel.hidden = this.retry.hidden = this.clear.hidden = true;
      return;
    }
    const t = this.targets();
    this.cancel.hidden = this.retry.hidden = this.clear.hidden = false;
    this.label.textContent = `${this.picked.size} selected`;
    this.cancel.textContent = `Cancel ${t.cancel.length}`;
    this.retry.textContent = `Retry ${t.retry.length}`;
    this.cancel.disabled = this.busy || replay || t.cancel.length === 0;
    this.retry.disabled = this.busy || replay || t.retry.length === 0;
    const why = replay ? 'a replayed session cannot be acted on: go back to live' : undefined;
    this.cancel.title =
      why ?? (t.cancel.length ? 'Cancel the unfinished ones (orrery cancel)' : 'None of them is unfinished');
    this.retry.title =
      why ?? (t.retry.length ? 'Submit the failed or cancelled ones again (orrery retry)' : 'None of them failed');
  }

  private empty(): void {
    this.picked.clear();
    this.outcome.textContent = '';
    this.cleared();
    this.update();
  }

  private async run(what: 'cancel' | 'retry'): Promise<void> {
    const ids = this.targets()[what];
    if (ids.length === 0) return;
    const force = h('input', { type: 'checkbox', 'data-testid': 'confirm-force' });
    const ok = await confirmAction(
      what === 'cancel'
        ? {
            title: `Cancel ${ids.length} task${ids.length === 1 ? '' : 's'}?`,
            message: `The ${ids.length} unfinished selected task(s) and the tasks they submitted stop; their results fail with TaskCancelledError.`,
            confirmLabel: `Cancel ${ids.length}`,
            extra: h('label', { class: 'confirm-choice' }, force, ' Force: kill their workers at once'),
          }
        : {
            title: `Retry ${ids.length} task${ids.length === 1 ? '' : 's'}?`,
            message: `The ${ids.length} failed or cancelled selected task(s) are submitted again, each as a new task.`,
            confirmLabel: `Retry ${ids.length}`,
          },
    );
    if (!ok) return;
    this.busy = true;
    this.update();
    this.outcome.className = 'action-outcome';
    const verb = what === 'cancel' ? 'Cancelling' : 'Retrying';
    const progress = (done: number) => {
      this.outcome.textContent = `${verb} ${done}/${ids.length}…`;
    };
    const errors =
      what === 'cancel'
        ? await cancelAll(ids, force.checked, progress)
        : await each(ids, (id) => retryTask(id, false), progress);
    this.busy = false;
    const doneCount = ids.length - errors.length;
    const past = what === 'cancel' ? `Cancelled${force.checked ? ' (forced)' : ''}` : 'Retried (as new tasks)';
    this.outcome.className = errors.length ? 'action-outcome error' : 'action-outcome ok';
    this.outcome.textContent = errors.length
      ? `${past} ${doneCount} of ${ids.length}; ${errors.length} failed, the first: ${errors[0]}`
      : `${past} ${doneCount} of ${ids.length}.`;
    this.picked.clear();
    this.cleared();
    this.update();
  }
}
