/**
 * A task's error as its author needs it: line breaks kept, the frames of the user's own code
 * shown, and internal frames (Orrery's package, orchestrator and backends, Node's internals,
 * other installed packages under node_modules) folded behind a "show internal frames" toggle.
 */
import { h } from './dom.ts';

/** A stack frame line (`    at fn (file:line:col)`). */
const FRAME = /^\s*at\s/;

/** Frames of Orrery itself, of Node, or of installed packages (node_modules): not of the user's code. */
const INTERNAL = /node_modules[\\/]|[\\/]orchestrator[\\/]|[\\/]backends[\\/]|node:internal|\(node:|^\s*at\s+node:/;

/**
 * A remote function's own frames read `at fn (eval at loadCode (…/orchestrator/core/…), <anonymous>:4:34)`:
 * the code is the user's, evaluated by Orrery, so `eval at` marks a user frame.
 */
const USER_EVAL = /\(eval at /;

/** Where such a frame points: the line and column in the function's shipped source. */
const EVAL_LOCATION = /\(eval at .*?\), <anonymous>:(\d+):(\d+)\)/;

/** A user frame as its author reads it: `at check (remote function, line 4:34)` instead of Orrery's loader. */
export function tidyFrame(line: string): string {
  return line.replace(EVAL_LOCATION, '(remote function, line $1:$2)');
}

/** Whether a line of a stack is one of Orrery's or Node's internal frames. */
export function isInternalFrame(line: string): boolean {
  return FRAME.test(line) && !USER_EVAL.test(line) && INTERNAL.test(line);
}

/**
 * The lines without the cause's message said again: a TaskError reads `TaskError: task f failed
 * on node n: Error: msg` and then the cause's stack, indented, which starts with `Error: msg`
 * (every line of it) once more. Indented lines before the first frame that repeat a line above
 * (or the end of the first line) are dropped.
 */
export function withoutRepeatedMessage(lines: readonly string[]): string[] {
  const first = lines[0] ?? '';
  const seen = new Set<string>([first.trim()]);
  for (let i = first.indexOf(': '); i >= 0; i = first.indexOf(': ', i + 2)) seen.add(first.slice(i + 2).trim());
  const out: string[] = [first];
  let inStack = false;
  for (const l of lines.slice(1)) {
    inStack ||= FRAME.test(l);
    const t = l.trim();
    if (!inStack && /^\s/.test(l) && t !== '' && seen.has(t)) continue;
    if (!inStack && !/^\s/.test(l)) seen.add(t);
    out.push(l);
  }
  return out;
}

/** The error box: `Name: message` with its lines, user frames, and internal frames behind a toggle. */
export function errorText(name: string, message: string): HTMLElement {
  const text = message.startsWith(`${name}:`) ? message : `${name}: ${message}`;
  const lines = withoutRepeatedMessage(text.split(/\r?\n/));
  const shown: string[] = [];
  const internal: string[] = [];
  for (const l of lines) (isInternalFrame(l) ? internal : shown).push(tidyFrame(l));
  const box = h('div', { class: 'error-text', role: 'alert', 'data-testid': 'task-error' });
  box.append(h('div', { 'data-testid': 'task-error-main' }, shown.join('\n')));
  if (internal.length > 0) {
    const frames = h(
      'div',
      { class: 'internal-frames', hidden: true, 'data-testid': 'task-error-internal' },
      internal.join('\n'),
    );
    const label = (open: boolean) =>
      `${open ? 'hide' : 'show'} ${internal.length} internal frame${internal.length === 1 ? '' : 's'}`;
    const toggle = h(
      'button',
      {
        type: 'button',
        'aria-expanded': 'false',
        onclick: () => {
          frames.hidden = !frames.hidden;
          toggle.textContent = label(!frames.hidden);
          toggle.setAttribute('aria-expanded', String(!frames.hidden));
        },
      },
      label(false),
    );
    box.append(toggle, frames);
  }
  return box;
}
