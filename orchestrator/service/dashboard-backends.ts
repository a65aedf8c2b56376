/**
 * Backends from the dashboard: list them with their configs, add, replace and remove them on
 * the running head (each edit is written into the config file), and check one end to end.
 * A config is checked field by field against its kind's schema first (so a form learns of
 * every missing field at once), then by the kind's own validator (createBackend), whose
 * message is mapped back to the field it names. A `module:` kind is refused unless the head
 * was started with --allow-module-backends, and is never imported to validate it: only its
 * form is checked (module-backends.ts), and the module runs when the backend starts.
 */
import { createBackend } from '../head/backend-registry.ts';
import { moduleTarget, type ModulePolicy } from '../head/module-backends.ts';
import { nameProblem } from '../core/names.ts';
import type { Head } from '../head/head.ts';
import { BACKEND_SCHEMAS, type SchemaField } from './backend-schemas.ts';
import type { ConfigFileWriter } from './dashboard-config-file.ts';
import { DashboardRequestError } from './dashboard-errors.ts';

/** A backend as the dashboard lists it. */
export interface BackendView {
  readonly name: string;
  readonly kind: string;
  /** The config as given (configs name keychain secrets; they never hold their values). */
  readonly config: Readonly<Record<string, unknown>>;
  /** Live nodes. */
  readonly nodes: number;
  /**
   * `running`: started on the head. `error`: a replacement config that did not start (fix it
   * with PUT, or DELETE it). `saved`: added with `?start=false` (its host may be offline): in the
   * config file (listed in `savedBackends`, so `orrery start` does not start it either), not
   * started; test it, then POST /api/backends/:name/start (or a PUT) starts it.
   */
  readonly state: 'running' | 'error' | 'saved';
  readonly error?: string;
}

/** Result of POST /api/backends/:name/test. */
export interface BackendTestResult {
  readonly ok: boolean;
  readonly lines: string[];
  readonly error?: string;
}

/** How long a backend's check may take before the test reports it as hanging. */
export const BACKEND_TEST_TIMEOUT_MS = 30_000;

/** The name of the backend every service has; it cannot be replaced or removed. */
const BUILTIN_LOCAL = 'local';

/** The API's policy without --allow-module-backends: a module would be code loaded into the head. */
export function apiModulesRefused(configPath: string): ModulePolicy {
  return {
    allow: 'none',
    why: `module backends cannot be added through the API: add the backend to ${configPath} by hand and restart the head, or start it with orrery start --allow-module-backends`,
  };
}

/** Where the backends the dashboard handles may load `module:` code from. */
export interface DashboardModules {
  /** Configs that come in through the API. */
  readonly api: ModulePolicy;
  /** Configs already in the config file (checked with `POST /api/backends/:name/test`). */
  readonly configFile: ModulePolicy;
}

/** The backends of a service, as the dashboard edits them. */
export class DashboardBackends {
  /** Configs by backend name, as given (the built-in local one included). */
  private readonly configs = new Map<string, Record<string, unknown>>();
  /** Backends whose replacement config failed to start, with the reason. */
  private readonly failed = new Map<string, string>();
  /** Backends saved without starting (POST ?start=false), until a PUT starts them or a DELETE removes them. */
  private readonly saved = new Set<string>();

  constructor(
    private readonly head: Head,
    initial: readonly Record<string, unknown>[],
    private readonly file: ConfigFileWriter,
    /** Called after every change (the live feed sends the new list). */
    private readonly changed: () => void,
    private readonly modules: DashboardModules,
    private readonly testTimeoutMs = BACKEND_TEST_TIMEOUT_MS,
    /** Names of `initial` saved without starting (the config file's `savedBackends`). */
    initialSaved: readonly string[] = [],
  ) {
    for (const c of initial) if (typeof c.name === 'string') this.configs.set(c.name, c);
    for (const name of initialSaved) if (this.configs.has(name)) this.saved.add(name);
  }

  /** Every backend: those on the head (drivers may have added some), then those that failed to start. */
  list(): BackendView[] {
    const nodes = new Map<string, number>();
    for (const n of this.head.queries.state('nodes', [], 1_000_000)) {
      if (n.state === 'ALIVE') nodes.set(n.backend, (nodes.get(n.backend) ?? 0) + 1);
    }
    const out: BackendView[] = this.head.backendList().map((b) => ({
      name: b.name,
      kind: b.kind,
      config: this.configs.get(b.name) ?? { name: b.name, kind: b.kind },
      nodes: nodes.get(b.name) ?? 0,
      state: 'running',
    }));
    for (const [name, error] of this.failed) {
      const config = this.configs.get(name) ?? { name };
      out.push({ name, kind: String(config.kind), config, nodes: 0, state: 'error', error });
    }
    for (const name of this.saved) {
      if (this.failed.has(name)) continue;
      const config = this.configs.get(name) ?? { name };
      out.push({ name, kind: String(config.kind), config, nodes: 0, state: 'saved' });
    }
    return out;
  }

  /** One backend, or a 404. */
  get(name: string): BackendView {
    const v = this.list().find((b) => b.name === name);
    if (!v) throw new DashboardRequestError(404, `no backend named ${name}; GET /api/backends lists them`);
    return v;
  }

  /**
   * POST /api/backends: validates, starts the backend on the head, writes it into the config
   * file. With `start: false` (`?start=false`) it is validated and written but not started, so a
   * backend whose host is offline can be kept and tested later.
   */
  async add(body: unknown, opts: { start?: boolean } = {}): Promise<BackendView> {
    const config = await validate(body, this.modules.api);
    const name = config.name as string;
    if (this.head.backendList().some((b) => b.name === name) || this.failed.has(name) || this.saved.has(name)) {
      throw new DashboardRequestError(
        409,
        `a backend named ${name} already exists; pick another name or replace it with PUT /api/backends/${name}`,
        { name: 'a backend with this name already exists' },
      );
    }
    const saved = opts.start === false;
    this.file.check({ op: 'put-backend', config, saved });
    if (saved) {
      this.configs.set(name, config);
      this.saved.add(name);
    } else await this.start(config, false);
    this.file.putBackend(config, saved);
    this.changed();
    return this.get(name);
  }

  /** PUT /api/backends/:name: stops the old backend (its nodes leave), starts the new config, writes it. */
  async replace(name: string, body: unknown): Promise<BackendView> {
    if (name === BUILTIN_LOCAL)
      throw new DashboardRequestError(
        400,
        'the built-in local backend cannot be replaced; add another backend of kind local instead',
      );
    const given = isRecord(body) && body.name === undefined ? { ...body, name } : body;
    const config = await validate(given, this.modules.api);
    if (config.name !== name)
      throw new DashboardRequestError(
        400,
        `the config names backend ${String(config.name)}, but the URL names ${name}; a backend cannot be renamed (DELETE it and POST the new one)`,
        { name: `must be ${name}` },
      );
    this.get(name);
    this.file.check({ op: 'put-backend', config });
    if (this.head.backendList().some((b) => b.name === name)) await this.head.removeBackend(name);
    this.configs.set(name, config);
    this.file.putBackend(config);
    this.changed();
    await this.start(config, true);
    this.changed();
    return this.get(name);
  }

  /**
   * POST /api/backends/:name/start: starts a backend saved without starting, and takes it off
   * the config file's `savedBackends` (the next `orrery start` starts it too). When it does not
   * start it stays saved, and the error says why.
   */
  async startSaved(name: string): Promise<BackendView> {
    const view = this.get(name);
    if (view.state !== 'saved')
      throw new DashboardRequestError(
        409,
        `backend ${name} is ${view.state === 'running' ? 'running already' : 'not saved: its last start failed; fix it with PUT'}; only a saved backend is started this way`,
      );
    const config = this.configs.get(name)!;
    this.file.check({ op: 'put-backend', config });
    await this.start(config, false);
    this.file.putBackend(config);
    this.changed();
    return this.get(name);
  }

  /** DELETE /api/backends/:name: stops it (its nodes leave; their tasks retry elsewhere) and drops it from the config file. */
  async remove(name: string): Promise<void> {
    if (name === BUILTIN_LOCAL)
      throw new DashboardRequestError(
        400,
        "the built-in local backend cannot be removed; it runs the head's own tasks",
      );
    this.get(name);
    this.file.check({ op: 'remove-backend', name });
    this.failed.delete(name);
    this.saved.delete(name);
    if (this.head.backendList().some((b) => b.name === name)) await this.head.removeBackend(name);
    this.configs.delete(name);
    this.file.removeBackend(name);
    this.changed();
  }

  /** POST /api/backends/:name/test: the backend's own check (as `orrery backends test`), with a time limit. */
  async test(name: string): Promise<BackendTestResult> {
    const view = this.get(name);
    const lines: string[] = [];
    try {
      const backend = await createBackend(view.config, this.modules.configFile);
      const check = backend.check
        ? backend.check()
        : Promise.resolve([`backend ${name} (kind ${backend.kind}) has no check of its own`]);
      let timer: NodeJS.Timeout | undefined;
      const limit = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new Error(
                `the check of backend ${name} did not finish within ${this.testTimeoutMs / 1000} s; is the host or service reachable?`,
              ),
            ),
          this.testTimeoutMs,
        );
      });
      try {
        for (const l of await Promise.race([check, limit])) lines.push(`✓ ${l}`);
      } finally {
        clearTimeout(timer);
      }
      for (const n of this.head.queries.state('nodes', [
        ['backend', '=', name],
        ['state', '=', 'ALIVE'],
      ])) {
        lines.push(`✓ node ${n.nodeId}: resources ${JSON.stringify(n.resources)}, labels ${JSON.stringify(n.labels)}`);
      }
      if (view.state === 'error') return { ok: false, lines, error: view.error };
      if (view.state === 'saved')
        lines.push(
          `backend ${name} is saved but not started: Start it (POST /api/backends/${name}/start) when its host is up`,
        );
      return { ok: true, lines };
    } catch (err) {
      return { ok: false, lines, error: (err as Error).message };
    }
  }

  /** Starts a validated config; on failure the head forgets it, and a replacement is listed as `error`. */
  private async start(config: Record<string, unknown>, replacing: boolean): Promise<void> {
    const name = config.name as string;
    try {
      await this.head.addBackend(await createBackend(config, this.modules.api));
      this.failed.delete(name);
      this.saved.delete(name);
      this.configs.set(name, config);
    } catch (err) {
      if (this.head.backendList().some((b) => b.name === name))
        await this.head.removeBackend(name).catch(() => undefined);
      const message = `backend ${name} did not start: ${(err as Error).message}`;
      if (replacing) this.failed.set(name, message);
      throw new DashboardRequestError(400, message);
    }
  }
}

/**
 * Checks a config against its kind's schema, then with the kind's validator; errors name the
 * fields. A `module:` kind is checked against `modules` and never imported here.
 */
export async function validate(body: unknown, modules: ModulePolicy): Promise<Record<string, unknown>> {
  if (!isRecord(body))
    throw new DashboardRequestError(400, 'the body must be a backend config object { name, kind, ... }');
  // Keys are the body's: no prototype, so a `__proto__` key is reported like any other.
  const fields: Record<string, string> = Object.create(null);
  if (typeof body.name !== 'string' || body.name === '') fields.name = 'a non-empty string';
  else if (!/^[\w.-]{1,64}$/.test(body.name) || nameProblem(body.name) !== undefined)
    fields.name = "1-64 letters, digits, '_', '.' or '-', other than __proto__, constructor or prototype";
  const schema =
    typeof body.kind === 'string' && Object.hasOwn(BACKEND_SCHEMAS, body.kind)
      ? (BACKEND_SCHEMAS as Record<string, { fields: readonly SchemaField[] }>)[body.kind]
      : undefined;
  const isModule = typeof body.kind === 'string' && body.kind.startsWith('module:');
  if (typeof body.kind !== 'string' || (!schema && !isModule)) {
    fields.kind = `one of ${Object.keys(BACKEND_SCHEMAS).join(', ')}${modules.allow === 'none' ? '' : " or 'module:<package or ./path relative to the config file>'"}`;
  } else if (isModule && fields.name === undefined) {
    try {
      moduleTarget((body.kind as string).slice('module:'.length), modules, body.name as string);
    } catch (err) {
      fields.kind = (err as Error).message;
    }
  }
  for (const f of schema?.fields ?? []) {
    const v = body[f.name];
    if (v === undefined || v === null || v === '') {
      if (f.required) fields[f.name] ??= 'required';
      continue;
    }
    const wrong = typeProblem(f, v);
    if (wrong) fields[f.name] ??= wrong;
  }
  if (schema)
    for (const k of Object.keys(body))
      if (k !== 'kind' && !schema.fields.some((f) => f.name === k))
        fields[k] = `not a field of kind ${String(body.kind)}`;
  if (Object.keys(fields).length > 0)
    throw new DashboardRequestError(
      400,
      `invalid backend config: ${Object.entries(fields)
        .map(([k, m]) => `${k}: ${m}`)
        .join('; ')}`,
      fields,
    );
  if (isModule) return body;
  try {
    // Constructing a built-in kind validates and starts nothing; the instance is dropped.
    await createBackend(body);
  } catch (err) {
    const message = (err as Error).message;
    const field = fieldOf(message, body, schema?.fields);
    throw new DashboardRequestError(400, message, field ? { [field]: message } : undefined);
  }
  return body;
}

/**
 * The config field a validator's message is about: `backend <name>: <field> must be ...`,
 * `... unknown key <field> ...`, `backend <name>: hosts[0]: ...`, or the first field it mentions.
 */
export function fieldOf(
  message: string,
  config: Record<string, unknown>,
  fields?: readonly SchemaField[],
): string | undefined {
  const known = new Set(['name', 'kind', ...Object.keys(config), ...(fields ?? []).map((f) => f.name)]);
  const prefix = `backend ${String(config.name)}: `;
  const rest = message.startsWith(prefix)
    ? message.slice(prefix.length)
    : message.replace(/^(?:[\w-]+ )?backend config: /, '');
  const unknown = /^unknown key (\S+)/.exec(rest);
  if (unknown) return unknown[1];
  const first = /^([A-Za-z_$][\w$]*)/.exec(rest)?.[1];
  if (first && known.has(first)) return first;
  for (const word of rest.match(/[A-Za-z_$][\w$]*/g) ?? [])
    if (known.has(word) && word !== 'name' && word !== 'kind') return word;
  return undefined;
}

function typeProblem(f: SchemaField, v: unknown): string | undefined {
  switch (f.type) {
    case 'string':
      return typeof v === 'string' ? undefined : 'must be a string';
    case 'number':
      return typeof v === 'number' && Number.isFinite(v) ? undefined : 'must be a number';
    case 'boolean':
      return typeof v === 'boolean' ? undefined : 'must be true or false';
    case 'string[]':
      return Array.isArray(v) && v.every((x) => typeof x === 'string') ? undefined : 'must be a list of strings';
    case 'object':
      // `spot` also takes true/false.
      return typeof v === 'object' || typeof v === 'boolean' ? undefined : 'must be an object';
  }
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}
