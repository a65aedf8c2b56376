/**
 * The add/edit form of a backend, made from its kind's config schema: one input per field
 * (numbers, booleans, JSON for objects and lists), checked before sending, with the head's
 * per-field errors shown next to each field. A secret field takes the secret's name and,
 * optionally, its value, which goes to the keychain (POST /api/secrets), never into the config.
 * The form has one message area, at its top, replaced on each submit and scrolled into view; a
 * new backend that does not start (its host offline) can be saved without starting.
 */
import type { BackendSchemas, BackendView, SchemaField } from '../api-types.ts';
import { h, replace } from '../dom.ts';
import { api, HeadRequestError } from '../head-client.ts';

interface FieldInput {
  readonly field: SchemaField;
  readonly input: HTMLInputElement | HTMLTextAreaElement;
  readonly secretValue?: HTMLInputElement;
  readonly error: HTMLElement;
}

const NAME_FIELD: SchemaField = {
  name: 'name',
  type: 'string',
  required: true,
  description: 'Unique name of this backend (placement rules refer to it)',
};

/** Kinds offered first, simplest first: a new backend defaults to the first of these the head offers. */
const SIMPLE_KINDS = ['local', 'ssh'];

/** The kinds in the menu: the simple ones first, then the rest by name. */
export function kindOrder(kinds: readonly string[]): string[] {
  const simple = SIMPLE_KINDS.filter((k) => kinds.includes(k));
  return [...simple, ...kinds.filter((k) => !simple.includes(k)).sort()];
}

/**
 * What the user reads of the head's refusal: its sentence, without the parts addressed to API
 * callers (clauses that name a route such as `PUT /api/backends/x`).
 */
export function userMessage(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  const kept = text.split(/;\s+/).filter((part) => !/\/api\/|\b(GET|POST|PUT|DELETE) \//.test(part));
  return (kept.length > 0 ? kept.join('; ') : text).replace(/\s*\(HTTP \d{3}\)$/, '');
}

/** Builds the form; `done` runs after a successful save with what to tell the user. */
export function backendForm(
  schemas: BackendSchemas,
  existing: BackendView | undefined,
  done: (message: string) => void,
): HTMLElement {
  const kinds = kindOrder(Object.keys(schemas));
  const kind = h(
    'select',
    { name: 'kind', 'aria-label': 'Backend kind', disabled: !!existing },
    ...kinds.map((k) => h('option', { value: k }, k)),
  );
  kind.value = existing?.kind ?? kinds[0] ?? '';
  const fieldsBox = h('div', { class: 'fields' });
  const message = h('div', { class: 'form-message', role: 'alert', 'data-testid': 'form-message' });
  const saveUnstarted = h(
    'button',
    {
      type: 'button',
      hidden: true,
      'data-testid': 'save-without-starting',
      title: 'Write it into the config file without connecting; test it later, then Edit and Save to start it',
      onclick: () => void submit(false),
    },
    'Save without starting',
  );
  const say = (kind: 'error' | 'ok' | 'busy', text: string) => {
    message.className = `form-message ${kind === 'busy' ? '' : kind}`;
    message.textContent = text;
    if (text) message.scrollIntoView({ block: 'nearest' });
  };
  let inputs: FieldInput[] = [];
  const build = () => {
    const schema = schemas[kind.value]?.fields ?? [];
    const fields = schema.some((f) => f.name === 'name') ? schema : [NAME_FIELD, ...schema];
    inputs = fields.filter((f) => f.name !== 'kind').map((f) => fieldInput(f, existing?.config[f.name]));
    replace(
      fieldsBox,
      ...inputs.map((i) =>
        h(
          'div',
          { class: 'field', 'data-field': i.field.name },
          h(
            'label',
            { for: `bf-${i.field.name}` },
            i.field.name,
            i.field.required ? h('span', { class: 'req', title: 'required' }, ' *') : null,
          ),
          i.input,
          i.secretValue
            ? h('label', { class: 'secret-label' }, 'secret value (stored in the keychain)', i.secretValue)
            : null,
          h('small', {}, i.field.description),
          i.error,
        ),
      ),
    );
    if (existing) (inputs.find((i) => i.field.name === 'name')!.input as HTMLInputElement).readOnly = true;
  };
  kind.addEventListener('change', () => {
    saveUnstarted.hidden = true;
    say('busy', '');
    build();
  });
  build();
  const form = h(
    'form',
    { class: 'backend-form', 'aria-label': existing ? `Edit backend ${existing.name}` : 'Add backend' },
    message,
    h('label', {}, 'kind ', kind),
    fieldsBox,
    h(
      'div',
      { class: 'form-buttons' },
      h('button', { type: 'submit', class: 'primary' }, existing ? 'Save backend' : 'Add backend'),
      saveUnstarted,
    ),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    void submit();
  });
  const submit = async (start = true) => {
    say('busy', '');
    saveUnstarted.hidden = true;
    const config: Record<string, unknown> = { kind: kind.value };
    const bad: string[] = [];
    for (const i of inputs) {
      i.error.textContent = '';
      const r = readValue(i);
      if ('error' in r) {
        i.error.textContent = r.error;
        bad.push(i.field.name);
      } else if (r.value !== undefined) config[i.field.name] = r.value;
    }
    if (bad.length > 0) return say('error', `Not saved: fix ${fieldList(bad)} marked below.`);
    say('busy', start ? 'Starting the backend…' : 'Saving…');
    try {
      for (const i of inputs) {
        if (i.secretValue?.value)
          await api('secrets', {
            method: 'POST',
            body: { name: String(config[i.field.name]), value: i.secretValue.value },
          });
      }
      if (existing) await api(`backends/${encodeURIComponent(existing.name)}`, { method: 'PUT', body: config });
      else await api(start ? 'backends' : 'backends?start=false', { method: 'POST', body: config });
      done(
        existing
          ? `Saved ${existing.name}.`
          : start
            ? `Backend ${String(config.name)} added and started.`
            : `Backend ${String(config.name)} saved without starting: Test it, then Start it when its host is up.`,
      );
    } catch (err) {
      const fields = err instanceof HeadRequestError ? err.body.fields : undefined;
      if (fields && Object.keys(fields).length > 0) {
        // Each field's message goes next to its field; the message area names them once.
        const marked: string[] = [];
        const other: string[] = [];
        for (const [name, msg] of Object.entries(fields)) {
          const i = inputs.find((x) => x.field.name === name || name.endsWith(`.${x.field.name}`));
          if (i) {
            i.error.textContent = userMessage(msg);
            marked.push(i.field.name);
          } else other.push(`${name}: ${userMessage(msg)}`);
        }
        say(
          'error',
          [marked.length > 0 ? `Not saved: fix ${fieldList(marked)} marked below.` : 'Not saved.', ...other].join('\n'),
        );
        return;
      }
      // A replacement is written before it starts (dashboard-backends.ts): it stays listed as `error`.
      if (existing && /did not start/.test(userMessage(err)))
        return say('error', `Saved, but ${userMessage(err)}. Fix it and save again, or remove it.`);
      say('error', `Not saved: ${userMessage(err)}`);
      // A backend that did not start (a host offline, a service down) can still be kept to test later.
      if (!existing && start) saveUnstarted.hidden = false;
    }
  };
  return form;
}

function fieldInput(f: SchemaField, current: unknown): FieldInput {
  const id = `bf-${f.name}`;
  const error = h('span', { class: 'field-error', role: 'alert', 'data-error-for': f.name });
  const structured = !['string', 'number', 'integer', 'boolean'].includes(f.type);
  let input: HTMLInputElement | HTMLTextAreaElement;
  if (f.type === 'boolean') input = h('input', { id, type: 'checkbox', name: f.name, checked: current === true });
  else if (structured)
    input = h(
      'textarea',
      {
        id,
        name: f.name,
        rows: 3,
        placeholder: f.type === 'string[]' ? 'one per line, or a JSON list' : '{ "key": "value" }',
      },
      current === undefined
        ? ''
        : f.type === 'string[]' && Array.isArray(current)
          ? current.join('\n')
          : JSON.stringify(current),
    );
  else
    input = h('input', {
      id,
      name: f.name,
      type: f.type === 'string' ? 'text' : 'number',
      value: current === undefined ? '' : String(current),
    });
  const secretValue = f.secret
    ? h('input', { type: 'password', name: `${f.name}-value`, autocomplete: 'off' })
    : undefined;
  return { field: f, input, secretValue, error };
}

function readValue(i: FieldInput): { value: unknown } | { error: string } {
  const { field: f, input } = i;
  if (f.type === 'boolean') return { value: (input as HTMLInputElement).checked || undefined };
  const raw = input.value.trim();
  if (raw === '') return f.required ? { error: `${f.name} is required` } : { value: undefined };
  if (f.type === 'number' || f.type === 'integer') {
    const n = Number(raw);
    if (!Number.isFinite(n) || (f.type === 'integer' && !Number.isInteger(n)))
      return { error: `${f.name} must be ${f.type === 'integer' ? 'an integer' : 'a number'}` };
    return { value: n };
  }
  if (f.type === 'string') return { value: raw };
  // A list of strings may be typed as `a, b` or one per line instead of JSON.
  if (f.type === 'string[]' && !raw.startsWith('['))
    return {
      value: raw
        .split(/[,\n]/)
        .map((x) => x.trim())
        .filter(Boolean),
    };
  try {
    return { value: JSON.parse(raw) };
  } catch {
    return { error: `${f.name} must be JSON (${f.type})` };
  }
}

/** `the name field`, `the name and hosts fields`. */
function fieldList(names: readonly string[]): string {
  const list = names.length === 1 ? names[0] : `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;
  return `the ${list} field${names.length === 1 ? '' : 's'}`;
}
