/**
 * The dashboard shell: a tab bar of views, the live store fed by /api/events, the store that is
 * shown (live, or a session opened for replay), and the task panel (Esc closes it).
 */
import type { BackendView, PlacementRule } from './api-types.ts';
import { connectEvents } from './head-client.ts';
import { h, replace } from './dom.ts';
import { TaskStore } from './task-store.ts';

/** One tab of the dashboard. */
export interface View {
  readonly id: string;
  readonly title: string;
  readonly element: HTMLElement;
  /** Called when the tab becomes visible (load data, resize canvases). */
  show(): void;
}

/** Shared state the views use. */
export class App {
  readonly live = new TaskStore();
  private shownStore: TaskStore = this.live;
  backends: BackendView[] = [];
  rules: PlacementRule[] = [];
  private readonly views: View[] = [];
  private current: View | undefined;
  private readonly tabs = h('nav', { class: 'tabs', role: 'tablist', 'aria-label': 'Views' });
  private readonly main = h('main', { class: 'view-host' });
  private readonly banner = h('div', { class: 'banner', hidden: true });
  private readonly statusText = h('span', { class: 'conn', 'data-testid': 'connection' }, 'connecting');
  readonly panel = h('aside', { class: 'panel', hidden: true, tabindex: -1, 'aria-label': 'Details' });
  private readonly shownListeners = new Set<() => void>();
  private readonly backendListeners = new Set<() => void>();
  private panelReturn: HTMLElement | null = null;

  constructor(root: HTMLElement) {
    replace(
      root,
      h('header', { class: 'top' }, h('strong', {}, 'Orrery'), this.tabs, this.statusText),
      this.banner,
      h('div', { class: 'body' }, this.main, this.panel),
    );
    document.addEventListener('keydown', (e) => {
      if (e.key === 'Escape' && !this.panel.hidden) {
        e.preventDefault();
        this.closePanel();
      }
    });
    const events = connectEvents({
      snapshot: (e) => {
        this.live.reset(e.tasks, e.nodes);
        this.live.runs.reset(e.jobs ?? [], e.metrics ?? []);
        this.live.setNodeUsage(e.usageHistory ?? []);
        this.live.setUsage(e.clusterUsage ?? []);
        this.backends = e.backends;
        this.rules = e.rules;
        this.notifyShown();
        this.notifyBackends();
      },
      batch: (e) => {
        this.live.upsert(e.tasks);
        if (e.nodes) this.live.setNodes(e.nodes);
        if (e.logs) this.live.addLogs(e.logs);
        if (e.usage) this.live.addUsage(e.usage);
        if (e.nodeUsage) this.live.addNodeUsage(e.nodeUsage);
        if (e.jobs) this.live.runs.upsertJobs(e.jobs);
        if (e.metrics) this.live.runs.addMetrics(e.metrics);
        if (e.backends) {
          this.backends = e.backends;
          this.notifyBackends();
        }
        if (e.rules) this.rules = e.rules;
      },
      status: (text) => {
        this.statusText.textContent = text;
        if (text === 'live' && this.banner.dataset.reason === 'signed-out') this.setBanner(undefined);
      },
      signedOut: () => {
        this.statusText.textContent = 'not logged in';
        this.setBanner(
          'signed-out',
          h('strong', {}, 'This browser is not logged in to the Orrery head. '),
          'The address has no login code and the browser has no session cookie from an earlier login ',
          '(the page address alone is not enough, a login link works once, and a login ends when the head restarts). ',
          'To get a valid link, run ',
          h('code', {}, 'orrery dashboard --url'),
          ' in a terminal and open the link it prints, or open the link ',
          h('code', {}, 'orrery start'),
          ' printed if you have not used it yet; ',
          h('code', {}, 'orrery dashboard'),
          ' opens a logged-in window itself. This page connects when you log in in another tab. ',
          h('button', { type: 'button', onclick: () => events.retry() }, 'Try again'),
        );
      },
    });
  }

  /** Shows a note above the views (undefined hides it); `reason` says whose note it is. */
  private setBanner(reason: 'replay' | 'signed-out' | undefined, ...content: (string | Node)[]): void {
    this.banner.hidden = reason === undefined;
    this.banner.dataset.reason = reason ?? '';
    this.banner.setAttribute('data-testid', reason === undefined ? 'banner' : `banner-${reason}`);
    replace(this.banner, ...content);
  }

  /** Adds a tab. */
  addView(v: View): void {
    this.views.push(v);
    v.element.hidden = true;
    v.element.setAttribute('role', 'tabpanel');
    v.element.id = `view-${v.id}`;
    this.main.append(v.element);
    this.tabs.append(
      h(
        'button',
        {
          role: 'tab',
          id: `tab-${v.id}`,
          'aria-controls': v.element.id,
          'aria-selected': 'false',
          onclick: () => this.showView(v.id),
        },
        v.title,
      ),
    );
    this.tabs.onkeydown = (e) => {
      const i = this.views.indexOf(this.current!);
      if (e.key === 'ArrowRight' || e.key === 'ArrowLeft') {
        const next = this.views[(i + (e.key === 'ArrowRight' ? 1 : this.views.length - 1)) % this.views.length]!;
        this.showView(next.id);
        document.getElementById(`tab-${next.id}`)?.focus();
      }
    };
  }

  /** Switches to a tab (also from `#view` in the URL). */
  showView(id: string): void {
    const v = this.views.find((x) => x.id === id) ?? this.views[0]!;
    for (const x of this.views) {
      x.element.hidden = x !== v;
      const tab = document.getElementById(`tab-${x.id}`)!;
      tab.setAttribute('aria-selected', String(x === v));
      tab.tabIndex = x === v ? 0 : -1;
    }
    this.current = v;
    if (location.hash !== `#${v.id}`) history.replaceState(null, '', `${location.pathname}${location.search}#${v.id}`);
    v.show();
  }

  /** The store views draw: the live run, or a session opened for replay. */
  get shown(): TaskStore {
    return this.shownStore;
  }

  /** Shows a replay store (or the live one again with undefined). */
  setShown(store: TaskStore | undefined): void {
    this.shownStore = store ?? this.live;
    if (store)
      this.setBanner(
        'replay',
        `Replaying session ${store.replayOf} (read-only). `,
        h('button', { onclick: () => this.setShown(undefined) }, 'Back to live'),
      );
    else if (this.banner.dataset.reason === 'replay') this.setBanner(undefined);
    this.notifyShown();
  }

  /** Calls `fn` when the shown store is swapped or reset. */
  onShownChange(fn: () => void): void {
    this.shownListeners.add(fn);
  }

  private notifyShown(): void {
    for (const fn of this.shownListeners) fn();
  }

  /**
   * Calls `fn` when the backend list arrives or changes on the feed: the snapshot can come
   * after a view was first shown (a reload on its hash), so views that list backends listen.
   */
  onBackendsChange(fn: () => void): void {
    this.backendListeners.add(fn);
  }

  private notifyBackends(): void {
    for (const fn of this.backendListeners) fn();
  }

  /** Opens the side panel with this content; Esc or its close button closes it. */
  openPanel(title: string, ...content: Node[]): void {
    this.panelReturn ??= document.activeElement as HTMLElement | null;
    replace(
      this.panel,
      h(
        'div',
        { class: 'panel-head' },
        h('h2', {}, title),
        h('button', { class: 'close', 'aria-label': 'Close panel', onclick: () => this.closePanel() }, '×'),
      ),
      ...content,
    );
    this.panel.hidden = false;
    this.panel.focus();
  }

  closePanel(): void {
    this.panel.hidden = true;
    this.panel.replaceChildren();
    this.panelReturn?.focus();
    this.panelReturn = null;
  }
}
