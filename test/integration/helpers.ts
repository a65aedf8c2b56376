/** Small helpers shared by the integration tests (temp dirs, polling without timed assertions). */
import { mkdtempSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import assert from 'node:assert/strict';
import { remote, get, kill, ActorDiedError } from 'orrery-compute';

/** A fresh directory in os.tmpdir() for marker files, removed when the test process exits. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `orrery-${prefix}-`));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Lines of a file a task appended to (one per attempt), or [] when it does not exist. */
export function linesOf(path: string): string[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l !== '');
}

/** `T` without its falsy members. */
export type Truthy<T> = Exclude<T, false | 0 | '' | null | undefined>;

/**
 * Polls `probe` until it returns something truthy; throws with `what` when `limitMs` passes.
 * The limit is a safety net against hangs, not a timing assertion.
 */
export async function until<T>(what: string, probe: () => T | Promise<T>, limitMs = 10_000): Promise<Truthy<T>> {
  const end = Date.now() + limitMs;
  for (;;) {
    const v = await probe();
    if (v) return v as Truthy<T>;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** True while a process with this pid exists. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The actor most tests use: a counter that can also fail, crash and report its process. */
export class Counter {
  n = 0;
  constructor(start?: number) {
    this.n = start ?? 0;
  }
  inc(k = 1) {
    this.n += k;
    return this.n;
  }
  value() {
    return this.n;
  }
  pid() {
    return process.pid;
  }
  fail(msg: string) {
    throw new RangeError(msg);
  }
  crash() {
    process.kill(process.pid, 'SIGKILL');
  }
}

/** A TCP port on loopback with nothing listening on it (for "unreachable host" tests). */
export async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as { port: number };
  await new Promise((r) => srv.close(r));
  return port;
}

/**
 * What a refused request does, the same in every mode (the head's one request dispatcher,
 * orchestrator/head/head-requests.ts): a second actor under a live actor's name gets its handle
 * at once, and every call on that handle fails with ActorDiedError saying the name is taken,
 * whether the driver (embedded or client) or a running task (worker) created it. The first
 * actor is untouched; it is killed at the end, freeing the name.
 */
export async function checkDuplicateActorName(name: string): Promise<void> {
  const taken = (who: string) =>
    new RegExp(
      `^actor ${who} \\(\\w+\\) is dead: its creation failed: an actor named "${name}" already exists in namespace "[^"]+"; use getActor`,
    );
  const counter = remote(Counter);
  const first = counter.options({ name }).remote(1);
  assert.equal(await get(first.value.remote()), 1);
  const second = counter.options({ name }).remote(2);
  await assert.rejects(
    get(second.value.remote()),
    (e: Error) => e instanceof ActorDiedError && taken('Counter').test(e.message),
  );
  await assert.rejects(
    get(second.inc.remote()),
    ActorDiedError,
    'every call on the refused handle fails, not only the first',
  );
  const fromTask = remote(async (n: string) => {
    const api = await import('orrery-compute');
    class Other {
      v() {
        return 'second';
      }
    }
    const h = api.remote(Other).options({ name: n }).remote();
    try {
      return `created: ${await api.get(h.v.remote())}`;
    } catch (e) {
      return `${e instanceof api.ActorDiedError}: ${(e as Error).message}`;
    }
  });
  const fromWorker = await get(fromTask.remote(name));
  assert.ok(fromWorker.startsWith('true: ') && taken('Other').test(fromWorker.slice(6)), fromWorker);
  assert.equal(await get(first.inc.remote()), 2, 'the first actor is untouched');
  await kill(first);
}

/** A head service's API answer: status, JSON body (when it is JSON), headers and raw bytes. */
export interface HeadApiReply {
  readonly status: number;
  readonly json: any;
  readonly headers: Headers;
  readonly bytes: Buffer;
}

/** Calls a head service's HTTP API with its token (`auth: false` leaves the token out). */
export async function headApi(
  head: { readonly url: string; readonly token: string },
  method: string,
  path: string,
  body?: unknown,
  auth = true,
): Promise<HeadApiReply> {
  const headers: Record<string, string> = {};
  if (auth) headers.Authorization = `Bearer ${head.token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(`${head.url}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const bytes = Buffer.from(await res.arrayBuffer());
  let json: unknown;
  if ((res.headers.get('content-type') ?? '').includes('json')) json = JSON.parse(bytes.toString('utf8'));
  return { status: res.status, json, headers: res.headers, bytes };
}
