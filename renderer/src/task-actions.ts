/**
 * Acting on the live run from the dashboard: cancel (plain or forced), retry and re-run a task,
 * cancel the run (job) it belongs to, kill its actor. Each calls the head's HTTP API that the
 * CLI's `orrery cancel`, `orrery retry` and `orrery kill` call (orchestrator/service/http-api.ts);
 * destructive ones confirm first (confirm-dialog.ts). Buttons follow the task's live state.
 */
import type { TaskView } from './api-types.ts';
import type { App } from './app.ts';
import { confirmAction } from './confirm-dialog.ts';
import { h } from './dom.ts';
import { api } from './head-client.ts';
import { shortId } from './short-id.ts';

/** A task that ended: FINISHED, or FAILED (a cancelled task fails with TaskCancelledError). */
export function ended(t: Pick<TaskView, 'state'>): boolean {
  return t.state === 'FINISHED' || t.state === 'FAILED';
}

/** Whether `orrery retry` takes this task: a failed (or cancelled) task that is not an actor's. */
export function retriable(t: Pick<TaskView, 'state' | 'kind'>): boolean {
  return t.state === 'FAILED' && !t.kind.startsWith('actor');
}

/** Whether Re-run (`orrery retry --rerun`) takes this task: any task that ended and is not an actor's. */
function rerunnable(t: Pick<TaskView, 'state' | 'kind'>): boolean {
  return ended(t) && !t.kind.startsWith('actor');
}

/** POST tasks/:id/cancel, as `orrery cancel [--force]`. */
export function cancelTask(id: string, force: boolean): Promise<{ taskId: string; state?: string }> {
  return api(`tasks/${encodeURIComponent(id)}/cancel${force ? '?force=1' : ''}`, { method: 'POST' });
}

/** POST tasks/:id/retry, as `orrery retry [--rerun]`: the new task's id. */
export function retryTask(id: string, rerun: boolean): Promise<{ taskId: string; retryOf: string }> {
  return api(`tasks/${encodeURIComponent(id)}/retry${rerun ? '?rerun=1' : ''}`, { method: 'POST' });
}

/** POST jobs/:jobId/cancel, as `orrery cancel --job`. */
function cancelJob(jobId: string, force: boolean): Promise<{ cancelled: string[]; ended: number }> {
  return api(`jobs/${encodeURIComponent(jobId)}/cancel${force ? '?force=1' : ''}`, { method: 'POST' });
}

/** A labelled checkbox for a confirmation's extra choice. */
function choice(label: string, checked: boolean, testid: string): { box: HTMLInputElement; row: HTMLElement } {
  const box = h('input', { type: 'checkbox', 'data-testid': testid, checked });
  return { box, row: h('label', { class: 'confirm-choice' }, box, ` ${label}`) };
}

/** Where an action's outcome is said: one line, replaced by the next action's. */
function outcomeLine(testid: string): HTMLElement {
  return h('div', { class: 'action-outcome', role: 'status', 'aria-live': 'polite', 'data-testid': testid });
}

function sayError(out: HTMLElement, what: string, err: unknown): void {
  out.className = 'action-outcome error';
  out.textContent = `${what} failed: ${(err as Error).message}`;
}

function sayOk(out: HTMLElement, ...parts: (string | Node)[]): void {
  out.className = 'action-outcome ok';
  out.replaceChildren(...parts);
}

/**
 * A "Cancel run" button for run (job) `jobId`, with its outcome beside it: confirms (with a
 * "force" choice), then cancels every unfinished task of the run. For the Runs view and the
 * task panel. (`_app` is taken so that callers need not change when the button starts to follow the run's state.)
 */
export function cancelRunButton(_app: App, jobId: string): HTMLElement {
  const out = outcomeLine('cancel-run-outcome');
  const button = h(
    'button',
    {
      type: 'button',
      class: 'danger',
      'data-testid': 'cancel-run',
      title: `Cancel every unfinished task of run ${jobId}`,
      onclick: async () => {
        const force = choice('Force: kill their workers at once', false, 'confirm-force');
        const ok = await confirmAction({
          title: 'Cancel this run?',
          message: `Every unfinished task of run ${shortId(jobId)} stops: pending ones never run, running ones are told to stop. Their results fail with TaskCancelledError.`,
          confirmLabel: 'Cancel run',
          extra: force.row,
        });
        if (!ok) return;
        button.disabled = true;
        try {
          const r = await cancelJob(jobId, force.box.checked);
          sayOk(
            out,
            `Cancelled ${r.cancelled.length} unfinished task${r.cancelled.length === 1 ? '' : 's'} of the run${force.box.checked ? ' (forced)' : ''}; ${r.ended} had already ended.`,
          );
        } catch (err) {
          sayError(out, 'Cancel run', err);
        } finally {
          button.disabled = false;
        }
      },
    },
    'Cancel run',
  );
  return h('span', { class: 'run-actions' }, button, out);
}

/**
 * The task panel's action bar for live task `task`: its buttons enable and disable as the
 * task's state changes on the feed; `open` shows another task (a retry's new one).
 */
export function taskActions(app: App, task: TaskView, open: (id: string) => void): HTMLElement {
  const id = task.id;
  const current = (): TaskView => app.live.tasks.get(id) ?? task;
  const out = outcomeLine('action-outcome');
  const button = (label: string, testid: string, cls: string, run: () => Promise<void>) =>
    h(
      'button',
      {
        type: 'button',
        class: cls,
        'data-testid': testid,
        onclick: async (e) => {
          const b = e.currentTarget as HTMLButtonElement;
          b.disabled = true;
          try {
            await run();
          } finally {
            refresh();
          }
        },
      },
      label,
    );
  const cancel = (force: boolean) => async () => {
    const t = current();
    const ok = await confirmAction({
      title: force ? 'Force cancel this task?' : 'Cancel this task?',
      message: force
        ? `${t.name} (${shortId(id)}) and the tasks it submitted stop now: their workers are killed at once.`
        : `${t.name} (${shortId(id)}) and the tasks it submitted stop: a pending one never runs, a running one is told to stop (its worker is killed after a grace period).`,
      confirmLabel: force ? 'Force cancel' : 'Cancel task',
    });
    if (!ok) return;
    try {
      const r = await cancelTask(id, force);
      const done = `Cancelled${force ? ' (forced)' : ''}; the task is now`;
      if (r.state === 'FAILED' || r.state === 'FINISHED') return sayOk(out, `${done} ${r.state}.`);
      // A forced cancel ends the task when its worker is gone: say so once the feed tells.
      sayOk(out, `Cancel sent${force ? ' (forced)' : ''}; the task is ${r.state ?? 'unknown'} until its worker stops…`);
      whenEnded = (t) => sayOk(out, `${done} ${t.state}.`);
    } catch (err) {
      sayError(out, force ? 'Force cancel' : 'Cancel', err);
    }
  };
  const retry = (rerun: boolean) => async () => {
    try {
      const r = await retryTask(id, rerun);
      sayOk(
        out,
        `${rerun ? 'Re-run' : 'Retried'} as new task `,
        h(
          'button',
          { class: 'link', 'data-testid': 'action-new-task', title: r.taskId, onclick: () => open(r.taskId) },
          shortId(r.taskId),
        ),
        '.',
      );
    } catch (err) {
      sayError(out, rerun ? 'Re-run' : 'Retry', err);
    }
  };
  const kill = async () => {
    const t = current();
    const noRestart = choice('No restart (as orrery kill)', true, 'confirm-no-restart');
    const ok = await confirmAction({
      title: 'Kill this actor?',
      message: `Actor ${shortId(t.actorId)} is killed; its pending and later calls fail with ActorDiedError unless it restarts.`,
      confirmLabel: 'Kill actor',
      extra: noRestart.row,
    });
    if (!ok) return;
    try {
      const q = noRestart.box.checked ? '' : '?restart=1';
      const r = await api<{ actorId: string; name: string }>(`actors/${encodeURIComponent(t.actorId!)}/kill${q}`, {
        method: 'POST',
      });
      sayOk(
        out,
        `Killed actor ${shortId(r.actorId)}${r.name ? ` (${r.name})` : ''}${noRestart.box.checked ? '' : '; it restarts if its maxRestarts allow'}.`,
      );
    } catch (err) {
      sayError(out, 'Kill actor', err);
    }
  };
  const buttons = {
    cancel: button('Cancel', 'action-cancel', 'danger', cancel(false)),
    force: button('Force cancel', 'action-force-cancel', 'danger', cancel(true)),
    retry: button('Retry', 'action-retry', '', retry(false)),
    rerun: button('Re-run', 'action-rerun', '', retry(true)),
    kill: button('Kill actor', 'action-kill-actor', 'danger', kill),
  };
  const explain: Record<keyof typeof buttons, (t: TaskView) => string | undefined> = {
    cancel: (t) => (ended(t) ? `It is ${t.state}: only an unfinished task can be cancelled` : undefined),
    force: (t) => (ended(t) ? `It is ${t.state}: only an unfinished task can be cancelled` : undefined),
    retry: (t) =>
      t.kind.startsWith('actor')
        ? 'An actor task is not retried alone: call the method again from a driver'
        : retriable(t)
          ? undefined
          : `It is ${t.state}: only a failed or cancelled task can be retried`,
    rerun: (t) =>
      t.kind.startsWith('actor')
        ? 'An actor task is not re-run alone'
        : rerunnable(t)
          ? undefined
          : `It is ${t.state}: only a task that ended can be run again`,
    kill: (t) => (t.actorId ? undefined : 'Not an actor task'),
  };
  const titles: Record<keyof typeof buttons, string> = {
    cancel: 'Cancel it and the tasks it submitted (orrery cancel)',
    force: 'Cancel it and kill its worker at once (orrery cancel --force)',
    retry: 'Submit it again as a new task (orrery retry)',
    rerun: 'Run it again as a new task, from its recorded code and arguments (orrery retry --rerun)',
    kill: 'Kill its actor (orrery kill)',
  };
  /** Said once the task has ended (after a cancel that the head answered before its worker stopped). */
  let whenEnded: ((t: TaskView) => void) | undefined;
  const refresh = () => {
    const t = current();
    if (whenEnded && ended(t)) {
      whenEnded(t);
      whenEnded = undefined;
    }
    for (const k of Object.keys(buttons) as (keyof typeof buttons)[]) {
      const why = explain[k](t);
      buttons[k].disabled = why !== undefined;
      buttons[k].title = why ?? titles[k];
    }
  };
  refresh();
  const bar = h(
    'div',
    { class: 'task-actions', role: 'toolbar', 'aria-label': 'Task actions', 'data-testid': 'task-actions' },
    buttons.cancel,
    buttons.force,
    buttons.retry,
    buttons.rerun,
    task.actorId ? buttons.kill : null,
    task.jobId ? cancelRunButton(app, task.jobId) : null,
  );
  const stop = app.live.onChange(() => {
    if (!bar.isConnected) return stop();
    refresh();
  });
  return h('div', { class: 'task-actions-box' }, bar, out);
}
