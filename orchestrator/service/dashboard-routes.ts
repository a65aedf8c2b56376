/**
 * The dashboard's API on the head service (see dashboard-api.md): tasks, backends and their
 * schemas, secrets, placement rules, sessions, examples, and the live feed. http-api.ts has
 * checked the Host, the credential and the Origin (head-access.ts) before any of these routes runs.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { deleteSecret, isSecretName, SECRET_NAME_RULE, storeSecret } from '../core/keychain.ts';
import type { Head } from '../head/head.ts';
import type { PlacementRule } from '../scheduler/placement-rules.ts';
import type { JobsReply } from '../protocol/state-rows.ts';
import { SessionStore, type SessionReader, type SessionRecorder } from '../sessions/index.ts';
import { BACKEND_SCHEMAS } from './backend-schemas.ts';
import { BACKEND_TEST_TIMEOUT_MS, DashboardBackends, type DashboardModules } from './dashboard-backends.ts';
import { ConfigFileWriter } from './dashboard-config-file.ts';
import { DashboardRequestError } from './dashboard-errors.ts';
import { EventsFeed } from './dashboard-events.ts';
import { DashboardExamples } from './dashboard-examples.ts';
import { DashboardMonitoring } from './dashboard-monitoring.ts';
import { DashboardRules } from './dashboard-rules.ts';
import { DashboardSessions } from './dashboard-sessions.ts';
import { taskDetail } from './dashboard-tasks.ts';
import { cancelTasks } from './job-cancel.ts';

/** Largest JSON body the dashboard API reads. */
const MAX_BODY_BYTES = 1024 * 1024;

/** What the dashboard needs from its service. */
export interface DashboardOptions {
  readonly head: Head;
  /** The session the service records into. */
  readonly session: string;
  readonly recorder: SessionRecorder | undefined;
  /** The config file edits are written to. */
  readonly configPath: string;
  /** Configs of the backends the service started with, the built-in local one included. */
  readonly backends: readonly Record<string, unknown>[];
  /** Names of `backends` saved without starting (not started; POST /api/backends/:name/start starts one). */
  readonly savedBackends?: readonly string[];
  /** Where backends from the API, and those of the config file, may load `module:` code from. */
  readonly modules: DashboardModules;
  readonly placementRules: readonly PlacementRule[] | undefined;
  /** The driver address and token examples connect with (known once the server listens). */
  driverEnv(): { address: string; token: string };
}

/** The dashboard's side of a head service. */
export class Dashboard {
  readonly feed: EventsFeed;
  readonly backends: DashboardBackends;
  readonly rules: DashboardRules;
  readonly sessions: DashboardSessions;
  readonly examples: DashboardExamples;
  readonly monitoring: DashboardMonitoring;
  private readonly store = new SessionStore();

  constructor(private readonly opts: DashboardOptions) {
    const file = new ConfigFileWriter(opts.configPath);
    this.backends = new DashboardBackends(
      opts.head,
      opts.backends,
      file,
      () => this.feed.backendsUpdated(),
      opts.modules,
      BACKEND_TEST_TIMEOUT_MS,
      opts.savedBackends,
    );
    this.rules = new DashboardRules(
      opts.head,
      opts.placementRules,
      file,
      () => opts.recorder,
      () => this.feed.rulesUpdated(),
    );
    this.feed = new EventsFeed(opts.head, { backends: () => this.backends.list(), rules: () => this.rules.get() });
    this.sessions = new DashboardSessions(this.store);
    this.examples = new DashboardExamples(opts.driverEnv, (pid, code, signal) =>
      opts.head.jobs.exited(pid, code, signal),
    );
    this.monitoring = new DashboardMonitoring(opts.head);
  }

  /** Serves a dashboard route; false when `parts` (the path after /api/) is not one. */
  handle(req: IncomingMessage, res: ServerResponse, parts: readonly string[], url: URL): boolean {
    const handler = this.route(req.method ?? 'GET', parts, url, req, res);
    if (!handler) return false;
    handler.then(
      (reply) => {
        if (reply === undefined) return;
        if (reply.status === 204) {
          res.writeHead(204);
          res.end();
        } else sendJson(res, reply.status, reply.body);
      },
      (err: unknown) => {
        if (res.headersSent) return void res.destroy();
        if (err instanceof DashboardRequestError)
          sendJson(res, err.status, err.fields ? { error: err.message, fields: err.fields } : { error: err.message });
        else sendJson(res, 400, { error: (err as Error).message });
      },
    );
    return true;
  }

  /** Closes the live feed and stops running examples. */
  close(): void {
    this.feed.close();
    this.examples.close();
  }

  /** The handler of a route, or undefined for a path that is not the dashboard's. Resolves with the reply (undefined: already sent). */
  private route(
    method: string,
    parts: readonly string[],
    url: URL,
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<{ status: number; body?: unknown } | undefined> | undefined {
    const [first, second, third, fourth] = parts;
    const n = parts.length;
    const on =
      (m: string, f: () => unknown, status = 200) =>
      async () => {
        if (method !== m && !(m === 'GET' && method === 'HEAD'))
          throw new DashboardRequestError(405, `${url.pathname} takes ${m}, not ${method}`);
        const body = await f();
        return body === NO_REPLY ? undefined : { status, body };
      };
    const ways = (table: Record<string, () => Promise<{ status: number; body?: unknown } | undefined>>) => {
      const h = table[method] ?? table[method === 'HEAD' ? 'GET' : ''];
      return h
        ? h()
        : Promise.reject(
            new DashboardRequestError(405, `${url.pathname} takes ${Object.keys(table).join(' or ')}, not ${method}`),
          );
    };
    const body = () => readJson(req);
    switch (first) {
      case 'tasks':
        if (n === 2 && second === 'cancel') return on('POST', async () => cancelTasks(this.opts.head, await body()))();
        if (n === 2) return on('GET', () => this.task(second!))();
        return undefined;
      case 'backend-schemas':
        return n === 1 ? on('GET', () => BACKEND_SCHEMAS)() : undefined;
      case 'backends':
        if (n === 1)
          return ways({
            GET: on('GET', () => this.backends.list()),
            POST: on('POST', async () => this.backends.add(await body(), { start: startParam(url) }), 201),
          });
        if (n === 2) {
          return ways({
            GET: on('GET', () => this.backends.get(second!)),
            PUT: on('PUT', async () => this.backends.replace(second!, await body())),
            DELETE: on(
              'DELETE',
              async () => {
                await this.backends.remove(second!);
                return null;
              },
              204,
            ),
          });
        }
        if (n === 3 && third === 'test') return on('POST', () => this.backends.test(second!))();
        if (n === 3 && third === 'start') return on('POST', () => this.backends.startSaved(second!))();
        return undefined;
      case 'secrets':
        if (n === 1) {
          return on(
            'POST',
            async () => {
              await this.storeSecret(await body());
              return null;
            },
            204,
          )();
        }
        if (n === 2) {
          return on(
            'DELETE',
            async () => {
              await deleteSecret(checkedSecretName(second!));
              return null;
            },
            204,
          )();
        }
        return undefined;
      case 'placement-rules':
        if (n === 1)
          return ways({
            GET: on('GET', () => this.rules.get()),
            PUT: on('PUT', async () => this.rules.set(await body())),
          });
        if (n === 2 && second === 'preview') return on('POST', async () => this.rules.preview(await body()))();
        return undefined;
      case 'session':
        return n === 1
          ? on('GET', () => ({ name: this.opts.session, file: this.store.paths(this.opts.session).db }))()
          : undefined;
      case 'sessions':
        if (n === 1) return on('GET', () => this.sessions.list())();
        if (n === 2 && second === 'compare')
          return on('GET', () =>
            url.searchParams.has('s')
              ? this.sessions.compareMany(url.searchParams.getAll('s'))
              : this.sessions.compare(url.searchParams.get('a'), url.searchParams.get('b')),
          )();
        if (n === 2)
          return ways({
            GET: on('GET', () => this.sessions.show(second!)),
            PATCH: on('PATCH', async () => this.sessions.label(second!, await body())),
          });
        if (n === 3 && third === 'tasks') return on('GET', () => this.sessions.tasks(second!, url.searchParams))();
        if (n === 3 && third === 'nodes') return on('GET', () => this.sessions.nodes(second!))();
        if (n === 3 && third === 'jobs') return on('GET', () => this.sessions.jobs(second!))();
        if (n === 4 && third === 'tasks') return on('GET', () => this.sessions.task(second!, fourth!))();
        if (n === 3 && third === 'usage') return on('GET', () => this.sessions.usage(second!, url.searchParams))();
        if (n === 3 && third === 'cost') return on('GET', () => this.sessions.cost(second!))();
        if (n === 4 && third === 'node-logs') return on('GET', () => this.sessions.nodeLogs(second!, fourth!))();
        if (n === 3 && third === 'export') {
          return on('GET', async () => {
            await this.sessions.export(second!, res);
            return NO_REPLY;
          })();
        }
        return undefined;
      case 'jobs':
        return n === 1 ? on('GET', () => this.jobs())() : undefined;
      case 'examples':
        if (n === 1) return on('GET', () => this.examples.list())();
        if (n === 2 && second === 'run') return on('POST', async () => this.examples.run(await body()))();
        return undefined;
      case 'usage':
        return n === 1 ? on('GET', () => this.monitoring.usage(url.searchParams))() : undefined;
      case 'node-logs':
        return n === 2 ? on('GET', () => this.monitoring.nodeLogs(second!))() : undefined;
      case 'cost':
        return n === 1 ? on('GET', () => this.monitoring.cost())() : undefined;
      default:
        return undefined;
    }
  }

  /** GET /api/jobs: the head's runs (running, and the last ended ones) with the metrics it holds of them. */
  private jobs(): JobsReply {
    return { jobs: this.opts.head.jobs.rows(), metrics: this.opts.head.jobs.metrics.points() };
  }

  private task(id: string): unknown {
    const t = this.opts.head.queries.task(id);
    if (!t)
      throw new DashboardRequestError(
        404,
        `no task ${id} on this head (a task of an earlier run is under /api/sessions/NAME/tasks/${id})`,
      );
    let reader: SessionReader | undefined;
    try {
      return taskDetail(this.opts.head, t, this.rules.at(t.submittedAt), () => {
        if (reader) return reader;
        // The task's result was let go on the head; the session kept it.
        this.opts.recorder?.flush();
        try {
          reader = this.store.open(this.opts.session);
        } catch {
          reader = undefined;
        }
        return reader;
      });
    } finally {
      reader?.close();
    }
  }

  private async storeSecret(body: unknown): Promise<void> {
    const b = body as { name?: unknown; value?: unknown } | null;
    const fields: Record<string, string> = {};
    if (typeof b?.name !== 'string' || b.name === '') fields.name = 'required: the name configs use for this secret';
    if (typeof b?.value !== 'string' || b.value === '')
      fields.value = 'required: the secret itself (it is stored in the OS keychain only)';
    if (Object.keys(fields).length > 0)
      throw new DashboardRequestError(400, 'the body must be { name, value } with non-empty strings', fields);
    try {
      await storeSecret(checkedSecretName(b!.name as string), b!.value as string);
    } catch (err) {
      // The value never appears in a message: storeSecret's name the secret by its name only.
      throw new DashboardRequestError(400, (err as Error).message);
    }
  }
}

/** A handler's answer that it wrote the reply itself. */
const NO_REPLY = Symbol('no reply');

function checkedSecretName(name: string): string {
  if (!isSecretName(name))
    throw new DashboardRequestError(400, `a secret name is ${SECRET_NAME_RULE}`, { name: SECRET_NAME_RULE });
  return name;
}

/** Reads a JSON body (at most 1 MiB). */
function readJson(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        reject(new DashboardRequestError(413, `the body is larger than ${MAX_BODY_BYTES} bytes`));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('error', reject);
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      if (text.trim() === '') return reject(new DashboardRequestError(400, 'the request needs a JSON body'));
      try {
        resolve(JSON.parse(text));
      } catch (err) {
        reject(new DashboardRequestError(400, `the body is not valid JSON: ${(err as Error).message}`));
      }
    });
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
  });
  res.end(text);
}

/** `?start=false` on POST /api/backends: save the backend without starting it; anything else but `true` is a 400. */
function startParam(url: URL): boolean {
  const v = url.searchParams.get('start');
  if (v === null || v === 'true') return true;
  if (v === 'false') return false;
  throw new DashboardRequestError(400, `start must be true or false, not ${JSON.stringify(v)}`);
}
