/**
 * The add/edit form of a backend, made from its kind's config schema: one input per field
 * (numbers, booleans, JSON for objects and lists), checked before sending, with the head's
 * per-field errors shown next to each field. A secret field takes the secret's name and,
 * optionally, its value, which goes to the keychain (POST /api/secrets), never into the config.
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

/** Builds the form; `done` runs after a successful save. */
export function backendForm(schemas: BackendSchemas, existing: BackendView | undefined, done: () => void): HTMLElement {
  const kinds = Object.keys(schemas).sort();
  const kind = h(
    'select',
    { name: 'kind', 'aria-label': 'Backend kind', disabled: !!existing },
    ...kinds.map((k) => h('option', { value: k }, k)),
  );
  kind.value = existing?.kind ?? kinds[0] ?? '';
  const fieldsBox = h('div', { class: 'fields' });
  const formError = h('div', { class: 'error', role: 'alert' });
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
  kind.addEventListener('change', build);
  build();
  const form = h(
    'form',
    { class: 'backend-form', 'aria-label': existing ? `Edit backend ${existing.name}` : 'Add backend' },
    h('label', {}, 'kind ', kind),
    fieldsBox,
    formError,
    h('button', { type: 'submit' }, existing ? 'Save backend' : 'Add backend'),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    void submit();
  });
  const submit = async () => {
    formError.textContent = '';
    const config: Record<string, unknown> = { kind: kind.value };
    let bad = false;
    for (const i of inputs) {
      i.error.textContent = '';
      const r = readValue(i);
      if ('error' in r) {
        i.error.textContent = r.error;
        bad = true;
      } else if (r.value !== undefined) config[i.field.name] = r.value;
    }
    if (bad) return;
    try {
      for (const i of inputs) {
        if (i.secretValue?.value)
          await api('secrets', {
            method: 'POST',
            body: { name: String(config[i.field.name]), value: i.secretValue.value },
          });
      }
      if (existing) await api(`backends/${encodeURIComponent(existing.name)}`, { method: 'PUT', body: config });
      else await api('backends', { method: 'POST', body: config });
      done();
    } catch (err) {
      if (err instanceof HeadRequestError && err.body.fields) {
        for (const [name, msg] of Object.entries(err.body.fields)) {
          const i = inputs.find((x) => x.field.name === name || name.endsWith(`.${x.field.name}`));
          if (i) i.error.textContent = msg;
          else formError.textContent += `${name}: ${msg} `;
        }
      }
      if (!formError.textContent) formError.textContent = (err as Error).message;
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
