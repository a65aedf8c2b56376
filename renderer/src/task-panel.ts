/**
 * The task panel: a task's state, node and backend, timings, retries, the placement rule that
 * placed it, arguments, result (through the result views), error and logs (live ones grow).
 */
import type { TaskDetail, TaskView } from './api-types.ts';
import type { App } from './app.ts';
import { api } from './head-client.ts';
import { clockTime, duration, h, STATE_COLOURS } from './dom.ts';
import { errorText } from './error-text.ts';
import { renderResult } from './result-render.ts';
import { copyButton, shortId } from './short-id.ts';
import { taskActions } from './task-actions.ts';
import { taskFacts, updateTaskFacts } from './task-facts.ts';
import { argumentsView, circuitView } from './task-inputs.ts';
import { fromDetail, joinStreamed, withAttemptHeaders } from './log-lines.ts';

function field(label: string, value: string | Node | undefined, testid?: string, after?: Node): HTMLElement | null {
  if (value === undefined || value === '') return null;
  const v = h('span', { class: 'v', 'data-testid': testid }, value);
  return h('div', { class: 'kv' }, h('span', { class: 'k' }, label), after ? h('span', {}, v, after) : v);
}

/** An id in full (the panel has room for it), with a copy button. */
function idField(label: string, id: string | undefined, testid?: string): HTMLElement | null {
  return id ? field(label, id, testid, copyButton(id)) : null;
}

function time(ms: number | undefined): string {
  return ms ? `${clockTime(ms)}.${String(ms % 1000).padStart(3, '0')}` : '';
}

/** Opens the panel for task `id` (of the live run, or of session `session`). */
export async function openTask(app: App, id: string, session?: string): Promise<void> {
  const known = (session ? app.shown : app.live).tasks.get(id);
  app.openPanel(known ? known.name : id, h('p', {}, 'Loading…'));
  // Lines streamed after this point are new to the detail fetched below.
  const streamedBefore = app.live.taskLogs.get(id)?.length ?? 0;
  let detail: TaskDetail;
  try {
    detail = await api<TaskDetail>(
      session
        ? `sessions/${encodeURIComponent(session)}/tasks/${encodeURIComponent(id)}`
        : `tasks/${encodeURIComponent(id)}`,
    );
  } catch (err) {
    if (!known) return app.openPanel(id, h('p', { class: 'error' }, `Cannot load task: ${(err as Error).message}`));
    detail = { task: known, args: undefined, logs: [] };
  }
  const t: TaskView = { ...detail.task, ...(known && !session ? known : {}) };
  const logBox = h(
    'pre',
    { class: 'logs', 'data-testid': 'task-logs', tabindex: 0, 'aria-label': 'Task logs' },
    withAttemptHeaders(fromDetail(detail.logEntries, detail.logs))
      .map((l) => l.text)
      .join('\n'),
  );
  const rule = detail.placementRule;
  const stateEl = h('span', { style: `color:${STATE_COLOURS[t.state] ?? ''}` }, t.state);
  const facts = taskFacts(t.info);
  const store = session ? app.shown : app.live;
  app.openPanel(
    t.name,
    h(
      'div',
      { class: 'task-detail', 'data-task-id': t.id },
      session ? null : taskActions(app, t, (other) => void openTask(app, other)),
      idField('id', t.id, 'task-id'),
      field('state', stateEl, 'task-state'),
      field('kind', t.kind),
      idField('node', t.nodeId, 'task-node'),
      field('backend', t.backend, 'task-backend'),
      field('attempt', `${t.attempt}${t.attempt > 0 ? ` (${t.attempt} retr${t.attempt === 1 ? 'y' : 'ies'})` : ''}`),
      field(
        'retry of',
        t.retryOf
          ? h(
              'button',
              { 'data-testid': 'task-retry-of', title: t.retryOf, onclick: () => void openTask(app, t.retryOf!) },
              shortId(t.retryOf),
            )
          : undefined,
      ),
      idField('actor', t.actorId),
      field('submitted', time(t.submittedAt)),
      field('started', time(t.startedAt)),
      field('ended', time(t.endedAt)),
      field('queued', t.startedAt ? duration(t.startedAt - t.submittedAt) : undefined),
      field('ran', t.startedAt && t.endedAt ? duration(t.endedAt - t.startedAt) : undefined),
      field(
        'placement rule',
        rule
          ? `#${rule.index + 1} ${JSON.stringify(rule.rule)}`
          : t.ruleIndex !== undefined && t.ruleIndex !== null
            ? `#${t.ruleIndex + 1}`
            : 'none (code options)',
        'task-rule',
      ),
      facts,
      detail.error ? errorText(detail.error.name, detail.error.message) : null,
      detail.circuit ? circuitView(detail.circuit) : null,
      h('h3', {}, 'Arguments'),
      argumentsView(
        detail.args,
        detail.argRefs,
        (ref) => store.tasks.get(ref)?.name,
        (ref) => void openTask(app, ref, session),
      ),
      detail.result ? h('h3', {}, 'Result') : null,
      detail.result ? renderResult(detail.result.json, detail.result.preview) : null,
      h('h3', {}, 'Logs ', h('button', { 'data-open-logs': t.id }, 'Follow in Logs tab')),
      logBox,
    ),
  );
  if (session) return;
  // Live lines arrive through the event stream; show those the detail did not have yet.
  const stop = app.live.onChange(() => {
    if (!logBox.isConnected) return stop();
    // The state follows the feed (an action in this panel changes it).
    const now = app.live.tasks.get(id)?.state;
    if (now && stateEl.textContent !== now) {
      stateEl.textContent = now;
      stateEl.style.color = STATE_COLOURS[now] ?? '';
    }
    const fresh = app.live.taskLines(id).slice(streamedBefore);
    if (fresh.length)
      logBox.textContent = withAttemptHeaders(joinStreamed(fromDetail(detail.logEntries, detail.logs), fresh))
        .map((l) => l.text)
        .join('\n');
    // Facts move while a job waits (queue position, status, cost): redraw them from the feed.
    updateTaskFacts(facts, app.live.tasks.get(id)?.info);
  });
}
