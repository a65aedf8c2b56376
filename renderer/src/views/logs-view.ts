/**
 * Logs tab: worker output streamed live, for one task (with its earlier lines, grouped per
 * attempt) or one node (each line labelled with its task's name, `fit#3`; with the recent lines
 * the head kept, so a reload loses nothing, and in a replay the lines the session recorded). A
 * search box filters the lines and highlights the matches; Download saves the shown lines as a .txt file.
 */
import type { App, View } from '../app.ts';
import type { LogEntry, NodeLogLine } from '../api-types.ts';
import { h, replace } from '../dom.ts';
import { api } from '../head-client.ts';
import {
  type AttemptLine,
  filterLines,
  fromDetail,
  joinStreamed,
  overlap,
  type ShownLine,
  withAttemptHeaders,
} from '../log-lines.ts';
import { shortId } from '../short-id.ts';
import type { TaskStore } from '../task-store.ts';
import './logs.css';

const SHOWN_LINES = 5000;
/** Where the chosen node is remembered across reloads (per tab). */
const NODE_KEY = 'orrery.logs.node';

type Mode = {
  kind: 'node' | 'task';
  id: string;
  earlier: AttemptLine[];
  streamedBefore: number;
  /** A node's lines the head (or the replayed session) kept, labelled when drawn (the task may arrive later). */
  nodeEarlier?: NodeLogLine[];
};

/** The logs tab. */
export class LogsView implements View {
  readonly id = 'logs';
  readonly title = 'Logs';
  readonly element: HTMLElement;
  private readonly source = h('select', {
    'aria-label': 'Log source',
    'data-testid': 'log-source',
    onchange: () => void this.select(),
  });
  private readonly taskInput = h('input', {
    type: 'search',
    placeholder: 'task id or name#n',
    'aria-label': 'Task id',
    'data-testid': 'log-task',
    onchange: () => {
      const typed = this.taskInput.value.trim();
      void this.openTask(this.app.live.taskByLabel(typed) ?? typed);
    },
  });
  private readonly search = h('input', {
    type: 'search',
    placeholder: 'find in lines',
    'aria-label': 'Filter log lines',
    'data-testid': 'log-search',
    oninput: () => this.draw(),
  });
  private readonly matches = h('span', { class: 'log-matches', 'data-testid': 'log-matches', role: 'status' });
  private readonly download = h(
    'button',
    { type: 'button', 'data-testid': 'log-download', onclick: () => this.save(), disabled: true },
    'Download .txt',
  );
  private readonly heading = h('div', { class: 'log-heading', 'data-testid': 'log-heading' });
  private readonly out = h('pre', {
    class: 'logs big',
    tabindex: 0,
    'aria-label': 'Log lines',
    'aria-live': 'polite',
    'data-testid': 'log-lines',
  });
  /** The node list the source menu was built from (`id backend` lines), to rebuild only when it changed. */
  private nodesShown = '\0';
  private mode: Mode | undefined;
  /** What the box shows now (the lines and the search), to redraw only on a change. */
  private drawn = '';
  private shownText: string[] = [];

  constructor(private readonly app: App) {
    this.element = h(
      'section',
      { class: 'logs-view' },
      h(
        'div',
        { class: 'toolbar' },
        h('label', {}, 'node ', this.source),
        h('label', {}, 'or task ', this.taskInput),
        h('label', {}, 'find ', this.search),
        this.matches,
        this.download,
      ),
      this.heading,
      this.out,
    );
    // The node list arrives with the feed's snapshot, which can come after show() (a reload on #logs).
    app.live.onChange(() => {
      if (this.element.hidden) return;
      this.syncNodes();
      this.draw();
    });
    // A replay lists the nodes the session recorded and reads their lines from it.
    app.onShownChange(() => {
      if (this.mode?.kind === 'node') this.mode = undefined;
      this.nodesShown = '\0';
      if (!this.element.hidden) this.show();
    });
  }

  show(): void {
    this.syncNodes();
    this.draw();
  }

  /** Rebuilds the node menu when the live node list differs from the one it shows. */
  private syncNodes(): void {
    const replay = this.app.shown.replayOf !== undefined;
    const nodes = replay
      ? this.app.shown.recordedNodes.map((n) => ({ nodeId: n.nodeId, backend: n.backend ?? '?' }))
      : this.app.live.nodes;
    const key = nodes.map((n) => `${n.nodeId} ${n.backend}`).join('\n');
    if (key === this.nodesShown) return;
    this.nodesShown = key;
    const current = this.source.value;
    this.source.replaceChildren(
      h('option', { value: '' }, 'choose a node'),
      ...nodes.map((n) => h('option', { value: n.nodeId }, `${n.nodeId} (${n.backend})`)),
    );
    this.source.value = current;
    // After a reload: the node chosen before, once the snapshot listed it.
    const remembered = replay ? null : sessionStorage.getItem(NODE_KEY);
    if (!this.mode && remembered && nodes.some((n) => n.nodeId === remembered)) {
      this.source.value = remembered;
      void this.select();
    }
  }

  /** Shows the chosen node's lines: those the head (or the replayed session) kept, then new ones as they stream in. */
  private async select(): Promise<void> {
    const id = this.source.value;
    const store = this.app.shown;
    const replay = store.replayOf;
    if (replay === undefined) {
      if (id) sessionStorage.setItem(NODE_KEY, id);
      else sessionStorage.removeItem(NODE_KEY);
    }
    if (!id) {
      this.mode = undefined;
      return this.draw();
    }
    const streamedBefore = replay === undefined ? (this.app.live.nodeLogs.get(id)?.length ?? 0) : Infinity;
    const mode: Mode = { kind: 'node', id, earlier: [], streamedBefore };
    this.mode = mode;
    this.draw();
    const path =
      replay === undefined
        ? `node-logs/${encodeURIComponent(id)}`
        : `sessions/${encodeURIComponent(replay)}/node-logs/${encodeURIComponent(id)}`;
    try {
      mode.nodeEarlier = (await api<{ lines: NodeLogLine[] }>(path)).lines;
    } catch (err) {
      mode.earlier = [{ text: `(cannot load earlier lines: ${(err as Error).message})` }];
    }
    if (this.mode === mode) this.draw();
  }

  /** Shows task `id`'s lines: those the head kept, then new ones as they stream in. */
  async openTask(id: string): Promise<void> {
    if (!id) return;
    this.taskInput.value = id;
    const streamedBefore = this.app.live.taskLogs.get(id)?.length ?? 0;
    this.mode = { kind: 'task', id, earlier: [], streamedBefore };
    this.draw();
    try {
      const r = await api<{ lines: string[]; entries?: LogEntry[] }>(`logs/${encodeURIComponent(id)}`);
      if (this.mode?.id === id) this.mode.earlier = fromDetail(r.entries, r.lines);
    } catch (err) {
      if (this.mode?.id === id)
        this.mode.earlier = [{ text: `(cannot load earlier lines: ${(err as Error).message})` }];
    }
    this.draw();
  }

  /** The lines of the current source, attempt headers included. */
  private lines(m: Mode): ShownLine[] {
    if (m.kind === 'node') {
      const store = this.app.shown;
      const live = store.replayOf === undefined;
      // Live, a line of a task the page has not heard of yet arrives through the feed too: shown from there.
      const kept = (m.nodeEarlier ?? [])
        .filter((l) => !live || !l.taskId || store.tasks.has(l.taskId))
        .flatMap((l) => nodeLineTexts(l, store));
      const streamed = live
        ? (this.app.live.nodeLogs.get(m.id) ?? []).slice(m.streamedBefore).map((text) => ({ text }))
        : [];
      return [...m.earlier, ...kept.slice(0, kept.length - overlap(kept, streamed)), ...streamed];
    }
    return withAttemptHeaders(joinStreamed(m.earlier, this.app.live.taskLines(m.id).slice(m.streamedBefore)));
  }

  private draw(): void {
    const m = this.mode;
    if (!m) {
      this.heading.textContent = '';
      this.out.textContent = 'Choose a node, or type a task id, to follow its output.';
      this.matches.textContent = '';
      this.download.disabled = true;
      this.drawn = '';
      return;
    }
    replace(this.heading, this.headingText(m));
    const all = this.lines(m).slice(-SHOWN_LINES);
    const query = this.search.value;
    const shown = query ? filterLines(all, query) : all;
    const text = shown.map((l) => l.text);
    const key = `${m.kind}\0${m.id}\0${query}\0${text.join('\n')}`;
    if (key === this.drawn) return;
    this.drawn = key;
    this.shownText = text;
    this.download.disabled = text.length === 0;
    const content = all.filter((l) => l.header === undefined).length;
    this.matches.textContent = query
      ? `${shown.filter((l) => l.header === undefined).length} of ${content} lines match`
      : '';
    const atBottom = this.out.scrollTop + this.out.clientHeight >= this.out.scrollHeight - 20;
    if (shown.length === 0) this.out.textContent = query ? `(no line matches “${query}”)` : '(no output yet)';
    else renderLines(this.out, shown, query);
    if (atBottom) this.out.scrollTop = this.out.scrollHeight;
  }

  private headingText(m: Mode): string {
    if (m.kind === 'node') return `Output of node ${m.id}; each line starts with its task's name and number (name#n).`;
    const t = this.app.live.tasks.get(m.id);
    return t ? `Output of task ${this.app.live.taskLabel(m.id)} (${shortId(m.id)})` : `Output of task ${m.id}`;
  }

  /** Saves the shown lines (after the search filter) as a text file. */
  private save(): void {
    const m = this.mode;
    if (!m) return;
    const name = m.kind === 'task' ? (this.app.live.tasks.get(m.id)?.name ?? 'task') : 'node';
    const blob = new Blob([`${this.shownText.join('\n')}\n`], { type: 'text/plain' });
    const url = URL.createObjectURL(blob);
    const a = h('a', { href: url, download: `${safe(name)}-${m.id.slice(-8)}.log.txt`, hidden: true });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  }
}

/** A kept node line as the live stream shows it: the task's name#n first, `[err]` on stderr. */
function nodeLineTexts(l: NodeLogLine, store: TaskStore): ShownLine[] {
  return l.text
    .replace(/\n$/, '')
    .split('\n')
    .map((line) => ({
      text: `${l.taskId ? `${store.taskLabel(l.taskId)} ` : ''}${l.stream === 'stderr' ? `[err] ${line}` : line}`,
    }));
}

/** Draws lines into the box: attempt headers as such, matches of `query` marked. */
function renderLines(box: HTMLElement, lines: readonly ShownLine[], query: string): void {
  const frag = document.createDocumentFragment();
  const q = query.toLowerCase();
  lines.forEach((l, i) => {
    if (i > 0) frag.append('\n');
    if (l.header !== undefined) {
      frag.append(h('span', { class: 'attempt-header', 'data-attempt': l.header }, l.text));
      return;
    }
    if (!q) {
      frag.append(l.text);
      return;
    }
    const lower = l.text.toLowerCase();
    let at = 0;
    for (let k = lower.indexOf(q); k >= 0; k = lower.indexOf(q, k + q.length)) {
      frag.append(l.text.slice(at, k), h('mark', {}, l.text.slice(k, k + q.length)));
      at = k + q.length;
    }
    frag.append(l.text.slice(at));
  });
  box.replaceChildren(frag);
}

function safe(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 60) || 'log';
}
