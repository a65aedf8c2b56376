/**
 * The driver's runtime in client mode: a WebSocket to a head service (`orrery start`) carrying
 * the protocol's `request`/`reply` messages, one frame per WebSocket message. The connection is
 * this driver's job on the head; closing it ends the job there. A driver on the head's machine
 * writes its large puts into the head's shared-memory folder and maps the values it gets from
 * there (service/ws-gateway.ts), as an embedded driver does.
 */
import { WebSocket } from 'ws';
import { fromErrorInfo } from '../core/errors.ts';
import { sharesMemoryWith, ShmFolder } from '../core/shared-memory.ts';
import { newId } from '../core/ids.ts';
import { FrameDecoder, messageBytesAtLeast } from '../protocol/frames.ts';
import type { ClientRequest, Message, ReplyTo } from '../protocol/messages.ts';
import { DRIVER_PATH, MAX_DRIVER_MESSAGE_BYTES, WS_PROTOCOL, type DriverWelcome } from '../protocol/driver-socket.ts';
import { headFilePath, readHeadFile, runningHead } from '../client/head-file.ts';
import {
  ClientOptionError,
  DriverMessageTooLargeError,
  HeadAuthError,
  HeadConnectionLostError,
  HeadUnreachableError,
  NoHeadRunningError,
} from '../client/client-errors.ts';
import { SocketChannel } from '../client/socket-channel.ts';
import { RefTracker } from './ref-tracker.ts';
import { SubmissionReplay } from './submission-replay.ts';
import type { CoreRuntime, RuntimeContext } from './runtime.ts';

/** How to reach a head: the address as given (`'auto'` or `ws://host:port`), a token, the job's settings. */
export interface ClientOptions {
  readonly address: string;
  readonly token?: string;
  readonly namespace?: string;
  readonly logToDriver?: boolean;
  /**
   * How long a driver whose head disappeared (killed, its machine asleep) keeps trying to reach
   * a head again, keeping its refs and its pending get/wait calls; 0 gives up at once. Default
   * {@link DEFAULT_RECONNECT_TIMEOUT_MS}.
   */
  readonly reconnectTimeoutMs?: number;
}

/** Five minutes: long enough for `orrery start --resume` after a crash or a reboot of the head's machine. */
export const DEFAULT_RECONNECT_TIMEOUT_MS = 5 * 60_000;
/** Between two attempts to reach a head again. */
const RECONNECT_EVERY_MS = 1000;

/** Resolves `'auto'` through head.json and finds the token (option, ORRERY_TOKEN, head.json for that address). */
export function resolveClientTarget(opts: ClientOptions): { address: string; token: string } {
  if (opts.address === 'auto') {
    const h = runningHead();
    if (!h) throw new NoHeadRunningError(headFilePath());
    return { address: h.address, token: opts.token ?? process.env.ORRERY_TOKEN ?? h.token };
  }
  let u: URL;
  try {
    u = new URL(opts.address);
  } catch {
    throw new ClientOptionError(
      `init(): address ${JSON.stringify(opts.address)} is not valid; use 'auto' or 'ws://HOST:PORT'`,
    );
  }
  if (u.protocol !== 'ws:' && u.protocol !== 'wss:')
    throw new ClientOptionError(`init(): address ${opts.address} must start with ws:// (or be 'auto')`);
  const address = `${u.protocol}//${u.host}`;
  let token = opts.token ?? process.env.ORRERY_TOKEN;
  if (!token) {
    const file = readHeadFile();
    if (file && file.address === address) token = file.token;
  }
  if (!token)
    throw new ClientOptionError(
      `init(): no token for the head at ${address}: pass init({ token }) or set ORRERY_TOKEN (the token is in the head's head.json)`,
    );
  return { address, token };
}

/** Connects to a head service; resolves once the head accepted this driver's job. */
export async function connectClient(opts: ClientOptions): Promise<ClientRuntime> {
  const { ws, address, welcome } = await handshake(opts);
  return new ClientRuntime(ws, address, welcome, opts);
}

/** A socket whose head accepted this driver, with the head's welcome. */
interface Accepted {
  readonly ws: WebSocket;
  readonly address: string;
  readonly welcome: DriverWelcome;
}

/**
 * Opens a driver socket to the head `opts` names (head.json anew for 'auto') and waits for its
 * welcome. `again`: reconnecting, when a head restarted at the same address has a new token,
 * which its head.json holds.
 */
function handshake(opts: ClientOptions, again = false): Promise<Accepted> {
  let target: { address: string; token: string };
  try {
    target = resolveClientTarget(opts);
  } catch (err) {
    return Promise.reject(err);
  }
  const file = again ? readHeadFile() : undefined;
  const address = target.address;
  const token = file?.address === address ? file.token : target.token;
  const query = new URLSearchParams();
  if (opts.namespace !== undefined) query.set('namespace', opts.namespace);
  if (opts.logToDriver === false) query.set('logToDriver', '0');
  const ws = new WebSocket(`${address}${DRIVER_PATH}?${query}`, [WS_PROTOCOL], {
    headers: { Authorization: `Bearer ${token}` },
    maxPayload: 2 ** 31 - 1,
    handshakeTimeout: 30_000,
  });
  return new Promise<Accepted>((resolve, reject) => {
    let settled = false;
    const fail = (err: Error) => {
      if (settled) return;
      settled = true;
      ws.terminate();
      reject(err);
    };
    const onMessage = (data: Buffer, isBinary: boolean) => {
      if (!isBinary) return fail(new HeadUnreachableError(address, 'it sent a text message before its welcome'));
      let batch: unknown[] | undefined;
      try {
        [batch] = new FrameDecoder().push(data);
      } catch (err) {
        return fail(new HeadUnreachableError(address, `its welcome was malformed: ${(err as Error).message}`));
      }
      const m = batch?.[0] as Message | undefined;
      if (m?.type !== 'reply' || m.requestId !== 0) return;
      if (!m.ok) return fail(fromErrorInfo(m.error ?? { name: 'Error', message: 'the head refused this driver' }));
      settled = true;
      ws.off('message', onMessage);
      resolve({ ws, address, welcome: m.value as DriverWelcome });
    };
    ws.once('unexpected-response', (_req, res) => {
      res.resume();
      if (res.statusCode === 401) fail(new HeadAuthError(address, 401));
      else
        fail(new HeadUnreachableError(address, `it answered HTTP ${res.statusCode} ${res.statusMessage ?? ''}`.trim()));
    });
    ws.on('error', (err: NodeJS.ErrnoException) =>
      fail(new HeadUnreachableError(address, err.code === 'ECONNREFUSED' ? 'connection refused' : err.message)),
    );
    ws.on('message', onMessage);
    ws.once('close', (code, reason) =>
      fail(
        new HeadUnreachableError(
          address,
          `the head closed the connection (${code}${reason.length ? `: ${reason.toString()}` : ''})`,
        ),
      ),
    );
  });
}

/** A request waiting for its reply; sent again on a new connection if the head went away first. */
interface Pending {
  readonly req: ClientRequest;
  resolve(v: unknown): void;
  reject(e: Error): void;
}

/**
 * Client-mode CoreRuntime. When its head disappears (an abnormal close: killed, asleep,
 * unreachable), it keeps its refs and pending calls and tries to reach a head again (head.json
 * anew for 'auto', so a head resumed with `orrery start --resume` on another port is found) for
 * `reconnectTimeoutMs`; requests made meanwhile wait. Once a head accepts it, the pending
 * get/wait calls are sent again and complete with results computed while it was gone. A head
 * that was stopped on purpose (`orrery stop`) or that the time runs out on ends the job.
 */
export class ClientRuntime implements CoreRuntime {
  readonly sentCode = new Set<string>();
  readonly sharedPayloads = false;
  private channel!: SocketChannel;
  private nextRequest = 1;
  private readonly replies = new Map<number, Pending>();
  /** Requests without a reply made while no head was reachable, in order. */
  private queued: ClientRequest[] = [];
  private readonly ctx: RuntimeContext;
  private lost: string | undefined;
  private reconnecting = false;
  private stopping = false;
  private readonly refs: RefTracker;
  /** What was submitted just now, for a head reached after losing this one. */
  private readonly replay = new SubmissionReplay();
  private closed!: Promise<void>;
  /** The largest message the head accepts (its welcome says; older heads: the default). */
  private maxMessageBytes = MAX_DRIVER_MESSAGE_BYTES;
  /** The head's shared-memory folder while connected to a head on this machine (puts are written there). */
  shm: ShmFolder | undefined;

  constructor(
    ws: WebSocket,
    public address: string,
    welcome: DriverWelcome,
    private readonly opts: ClientOptions,
  ) {
    this.ctx = {
      jobId: welcome.jobId,
      taskId: newId(),
      nodeId: welcome.nodeId,
      backend: 'driver',
      assignedResources: {},
      namespace: welcome.namespace,
    };
    this.attach(ws, welcome);
    this.refs = new RefTracker((hold, release) => this.post({ op: 'refs', hold, release })).install();
  }

  /** Takes `ws` (accepted by a head) as the connection. */
  private attach(ws: WebSocket, welcome: DriverWelcome): void {
    if (typeof welcome.maxMessageBytes === 'number') this.maxMessageBytes = welcome.maxMessageBytes;
    this.closed = new Promise((r) => ws.once('close', () => r()));
    const channel = new SocketChannel(
      ws,
      (m) => this.receive(m),
      () => this.maxMessageBytes,
    );
    this.channel = channel;
    // First on the connection, before any put or get: this driver maps the head's files.
    const dir = welcome.shmDir;
    this.shm = dir !== undefined && sharesMemoryWith(dir) ? ShmFolder.join(dir) : undefined;
    if (dir !== undefined && this.shm) channel.send(this.request(0, { op: 'map-shared', dir }));
    channel.onClosed((reason) => {
      if (this.channel !== channel || this.stopping) return;
      // Puts made until another head is reached carry their bytes (this head's folder goes with it).
      this.shm = undefined;
      const why = reason ?? 'the head closed the connection';
      // 1001: the head is shutting down; 1002: it refused what this driver sent. Neither comes back by waiting.
      const final = reason === undefined || /\((1001|1002)\b/.test(reason);
      const timeoutMs = this.opts.reconnectTimeoutMs ?? DEFAULT_RECONNECT_TIMEOUT_MS;
      if (final || timeoutMs <= 0) return this.giveUp(why);
      // The next head has none of the code this driver sent: submissions carry theirs again.
      this.sentCode.clear();
      void this.reconnect(why, timeoutMs);
    });
  }

  /** Tries to reach a head again until `timeoutMs` have passed. */
  private async reconnect(why: string, timeoutMs: number): Promise<void> {
    this.reconnecting = true;
    const deadline = Date.now() + timeoutMs;
    process.stderr.write(
      `orrery: lost the head at ${this.address} (${why}); trying to reach it again for ${Math.round(timeoutMs / 1000)} s (init({ reconnectTimeoutMs }))\n`,
    );
    let last = why;
    while (Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, RECONNECT_EVERY_MS));
      if (this.stopping) return;
      try {
        const { ws, address, welcome } = await handshake(this.opts, true);
        this.address = address;
        this.attach(ws, welcome);
        this.reconnecting = false;
        this.sentCode.clear();
        process.stderr.write(
          `orrery: reached the head at ${address} again; resending ${this.replies.size} pending call(s)\n`,
        );
        // What this driver holds, so the new head keeps those values for it.
        this.channel.send(this.request(0, { op: 'refs', hold: this.refs.heldIds(), release: [] }));
        // Submissions the old head may have lost with it (the new head drops those it or its session knows).
        for (const task of this.replay.replays((id) => this.refs.holds(id), this.sentCode))
          this.channel.send(this.request(0, { op: 'submit', task, replay: true }));
        for (const req of this.queued) {
          if (req.op === 'submit') this.replay.sent(req.task);
          this.channel.send(this.request(0, req));
        }
        this.queued = [];
        for (const [requestId, p] of this.replies) this.channel.send(this.request(requestId, p.req));
        return;
      } catch (err) {
        last = (err as Error).message;
      }
    }
    this.giveUp(`${why}; no head answered within ${Math.round(timeoutMs / 1000)} s (last: ${last})`);
  }

  private giveUp(why: string): void {
    this.reconnecting = false;
    this.lost = why;
    this.refs.close();
    const err = new HeadConnectionLostError(this.address, why);
    for (const r of this.replies.values()) r.reject(err);
    this.replies.clear();
    this.queued = [];
  }

  private request(requestId: number, req: ClientRequest): Message {
    return { type: 'request', requestId, callerTaskId: '', req };
  }

  private receive(m: Message): void {
    if (m.type === 'log') {
      (m.stream === 'stderr' ? process.stderr : process.stdout).write(`${m.text}\n`);
      return;
    }
    if (m.type !== 'reply' || m.requestId === 0) return;
    const r = this.replies.get(m.requestId);
    if (!r) return;
    this.replies.delete(m.requestId);
    if (m.ok) r.resolve(m.value);
    else r.reject(fromErrorInfo(m.error ?? { name: 'Error', message: 'request failed' }));
  }

  post(req: ClientRequest): void {
    if (this.lost !== undefined) throw new HeadConnectionLostError(this.address, this.lost);
    this.checkSize(req);
    if (this.reconnecting) return void this.queued.push(req);
    if (req.op === 'submit') this.replay.sent(req.task);
    this.channel.send(this.request(0, req));
  }

  flush(): void {
    if (this.lost === undefined && !this.reconnecting) this.channel.flush();
  }

  call<R extends ClientRequest>(req: R): Promise<ReplyTo<R>> {
    if (this.lost !== undefined) return Promise.reject(new HeadConnectionLostError(this.address, this.lost));
    try {
      this.checkSize(req);
    } catch (err) {
      return Promise.reject(err);
    }
    const requestId = this.nextRequest++;
    return new Promise<ReplyTo<R>>((resolve, reject) => {
      // The head's reply to this op is ReplyTo<R>: the wire carries it untyped.
      this.replies.set(requestId, { req, resolve: resolve as (v: unknown) => void, reject });
      // While reconnecting it waits in `replies` and goes out on the next connection.
      if (!this.reconnecting) this.channel.send(this.request(requestId, req));
    });
  }

  /** Refuses, before anything is sent, a request the head would refuse for its size (it would close the connection). */
  private checkSize(req: ClientRequest): void {
    const bytes = messageBytesAtLeast(req);
    if (bytes > this.maxMessageBytes) throw new DriverMessageTooLargeError(req.op, bytes, this.maxMessageBytes);
  }

  context(): RuntimeContext {
    return this.ctx;
  }

  /** Disconnects; the head ends this driver's job (the head itself keeps running). */
  async shutdown(): Promise<void> {
    this.stopping = true;
    if (!this.reconnecting && this.lost === undefined) this.refs.flush();
    this.refs.close();
    this.channel.close(1000, 'driver shut down');
    await this.closed;
  }
}
