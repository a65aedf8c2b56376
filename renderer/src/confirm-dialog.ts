/**
 * An in-page confirmation for destructive actions (cancel, force cancel, kill): a modal
 * `<dialog>`, so focus stays inside it, Tab moves between its controls and Esc answers "no".
 * The confirm button is not focused first, so a stray Enter does not confirm.
 */
import { h } from './dom.ts';

/** What a confirmation asks. */
export interface ConfirmOptions {
  readonly title: string;
  /** What will happen, in one or two sentences. */
  readonly message: string;
  /** The confirm button's label (a verb: "Cancel task", "Kill actor"). */
  readonly confirmLabel: string;
  /** Extra controls (a "no restart" checkbox), read by the caller once confirmed. */
  readonly extra?: Node;
}

/** Shows the dialog; resolves true when confirmed, false on "Keep", Esc or a click outside. */
export function confirmAction(opts: ConfirmOptions): Promise<boolean> {
  return new Promise((resolve) => {
    let answer = false;
    const keep = h('button', { type: 'button', 'data-testid': 'confirm-no', onclick: () => dialog.close() }, 'Keep');
    const yes = h(
      'button',
      {
        type: 'button',
        class: 'danger',
        'data-testid': 'confirm-yes',
        onclick: () => {
          answer = true;
          dialog.close();
        },
      },
      opts.confirmLabel,
    );
    const dialog = h(
      'dialog',
      { class: 'confirm-dialog', 'data-testid': 'confirm-dialog', 'aria-labelledby': 'confirm-title' },
      h('h2', { id: 'confirm-title' }, opts.title),
      h('p', {}, opts.message),
      opts.extra ?? null,
      h('div', { class: 'form-buttons' }, keep, yes),
    );
    dialog.addEventListener('close', () => {
      dialog.remove();
      resolve(answer);
    });
    // Esc answers "no" here, and must not reach the page (where it would close the task panel too).
    dialog.addEventListener('keydown', (e) => {
      if (e.key !== 'Escape') return;
      e.preventDefault();
      e.stopPropagation();
      dialog.close();
    });
    // A click on the backdrop (outside the dialog's box) is a "no".
    dialog.addEventListener('click', (e) => {
      if (e.target === dialog) {
        const r = dialog.getBoundingClientRect();
        const me = e as MouseEvent;
        if (me.clientX < r.left || me.clientX > r.right || me.clientY < r.top || me.clientY > r.bottom) dialog.close();
      }
    });
    document.body.append(dialog);
    dialog.showModal();
    keep.focus();
  });
}
