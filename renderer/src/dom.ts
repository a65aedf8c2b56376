/** A tiny element builder: `h('button', { class: 'x', onclick }, 'Save')`. */

/** Attributes and event handlers of {@link h}: `on*` keys become listeners, others attributes. */
export type Attrs = Record<string, string | number | boolean | undefined | ((e: Event) => void)>;

/** Child nodes of {@link h}: strings become text; null and false are skipped. */
export type Child = Node | string | number | null | undefined | false;

/** Creates an element with attributes, listeners and children. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    if (typeof v === 'function') el.addEventListener(k.slice(2), v as EventListener);
    else if (k === 'value' && 'value' in el) (el as HTMLInputElement).value = String(v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, ...children);
  return el;
}

/** Appends children (see {@link Child}). */
export function append(el: Element, ...children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.append(typeof c === 'string' || typeof c === 'number' ? String(c) : c);
  }
}

/** Replaces an element's children. */
export function replace(el: Element, ...children: Child[]): void {
  el.replaceChildren();
  append(el, ...children);
}

/** Colour per task state, shared by graph, tables and legends. */
export const STATE_COLOURS: Record<string, string> = {
  PENDING_ARGS_AVAIL: '#9aa5b1',
  PENDING_NODE_ASSIGNMENT: '#e0b341',
  RUNNING: '#3b82f6',
  FINISHED: '#22a06b',
  FAILED: '#d64545',
};

/** A stable colour for a backend name. */
export function backendColour(name: string | undefined): string {
  if (!name) return '#888';
  let hash = 0;
  for (let i = 0; i < name.length; i++) hash = (hash * 31 + name.charCodeAt(i)) | 0;
  return `hsl(${Math.abs(hash) % 360} 55% 45%)`;
}

/** Milliseconds as a short duration. */
export function duration(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return '';
  return ms < 1000
    ? `${Math.round(ms)} ms`
    : ms < 60_000
      ? `${(ms / 1000).toFixed(2)} s`
      : `${(ms / 60_000).toFixed(1)} min`;
}

/** A time as the tables show it: local date and time to the second. */
export function formatTime(ms: number | null | undefined): string {
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms <= 0) return '–';
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${clockTime(ms)}`;
}

/**
 * A local time of day, `14:03:22`. Built by hand: the first `toLocaleTimeString` on a page loads
 * the locale's data (about 20 ms, on the dashboard's load path).
 */
export function clockTime(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** Sets an element's text, changing its text node in place (no new node while counts stream in). */
export function setText(el: Element, text: string): void {
  const node = el.firstChild;
  if (node instanceof Text && !node.nextSibling) {
    if (node.data !== text) node.data = text;
  } else el.textContent = text;
}
