/**
 * The driver's runtime in client mode: a WebSocket to a head service (`orrery start`) carrying
 * the protocol's `request`/`reply` messages, one frame per WebSocket message. The connection is
 * this driver's job on the head; closing it ends the job there.
 */
import { WebSocket } from 'ws';
import { fromErrorInfo } from '../core/errors.ts';
import { newId } from '../core/ids.ts';
import { messageBytesAtLeast } from '../protocol/frames.ts';
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
import type { CoreRuntime, RuntimeContext } from './runtime.ts';

/** How to reach a head: the address as given (`'auto'` or `ws://host:port`), a token, the job's settings. */
export interface ClientOptions {
  readonly address: string;
  readonly token?: string;
  readonly namespace?: string;
  readonly logToDriver?: boolean;
}

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
  const { address, token } = resolveClientTarget(opts);
  const query = new URLSearchParams();
  if (opts.namespace !== undefined) query.set('namespace', opts.namespace);
  if (opts.logToDriver === false) query.set('logToDriver', '0');
  const ws = new WebSocket(`${address}${DRIVER_PATH}?${query}`, [WS_PROTOCOL], {
    headers: { Authorization: `Bearer ${token}` },
    maxPayload: 2 ** 31 - 1,
    handshakeTimeout: 30_000,
  });
  return new Promise<ClientRuntime>((resolve, reject) => {
    let settled = false;
    const fail = (err: Error) => {
      if (settled) return;
      settled = true;
      ws.terminate();
      reject(err);
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
    ws.once('open', () => {
      const rt = new ClientRuntime(ws, address, {
        welcomed: () => {
          if (settled) return;
          settled = true;
          resolve(rt);
        },
        closedBeforeWelcome: (why) =>
          fail(new HeadUnreachableError(address, `the head closed the connection${why ? ` (${why})` : ''}`)),
      });
    });
  });
}

/** What connectClient learns while the head accepts the driver's job. */
export interface ClientConnecting {
  /** The head accepted the job. */
  welcomed(w: DriverWelcome): void;
  /** The head went away before it accepted the job. */
  closedBeforeWelcome(why: string | undefined): void;
}

/** Client-mode CoreRuntime. */
export class ClientRuntime implements CoreRuntime {
  readonly sentCode = new Set<string>();
  readonly sharedPayloads = false;
  private readonly channel: SocketChannel;
  private nextRequest = 1;
  private readonly replies = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  private ctx: RuntimeContext | undefined;
  private lost: string | undefined;
  private refs: RefTracker | undefined;
  private readonly closed: Promise<void>;
  /** The largest message the head accepts (its welcome says; older heads: the default). */
  private maxMessageBytes = MAX_DRIVER_MESSAGE_BYTES;
  constructor(
    ws: WebSocket,
    readonly address: string,
    connecting: ClientConnecting,
  ) {
    this.closed = new Promise((r) => ws.once('close', () => r()));
    this.channel = new SocketChannel(
      ws,
      (m) => this.receive(m, connecting.welcomed),
      () => this.maxMessageBytes,
    );
    this.channel.onClosed((reason) => {
      this.lost = reason ?? 'the head closed the connection';
      if (!this.ctx) connecting.closedBeforeWelcome(reason);
      this.refs?.close();
      const err = new HeadConnectionLostError(this.address, this.lost);
      for (const r of this.replies.values()) r.reject(err);
      this.replies.clear();
    });
  }

  private receive(m: Message, onWelcome: (w: DriverWelcome) => void): void {
    if (m.type === 'log') {
      (m.stream === 'stderr' ? process.stderr : process.stdout).write(`${m.text}\n`);
      return;
    }
    if (m.type !== 'reply') return;
    if (m.requestId === 0) {
      if (this.ctx || !m.ok) return;
      const w = m.value as DriverWelcome;
      if (typeof w.maxMessageBytes === 'number') this.maxMessageBytes = w.maxMessageBytes;
      this.ctx = {
        jobId: w.jobId,
        taskId: newId(),
        nodeId: w.nodeId,
        backend: 'driver',
        assignedResources: {},
        namespace: w.namespace,
      };
      this.refs = new RefTracker((hold, release) => this.post({ op: 'refs', hold, release })).install();
      onWelcome(w);
      return;
    }
    const r = this.replies.get(m.requestId);
    if (!r) return;
    this.replies.delete(m.requestId);
    if (m.ok) r.resolve(m.value);
    else r.reject(fromErrorInfo(m.error ?? { name: 'Error', message: 'request failed' }));
  }

  post(req: ClientRequest): void {
    if (this.lost !== undefined) throw new HeadConnectionLostError(this.address, this.lost);
    this.checkSize(req);
    this.channel.send({ type: 'request', requestId: 0, callerTaskId: '', req });
  }

  flush(): void {
    if (this.lost === undefined) this.channel.flush();
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
      this.replies.set(requestId, { resolve: resolve as (v: unknown) => void, reject });
      this.channel.send({ type: 'request', requestId, callerTaskId: '', req });
    });
  }

  /** Refuses, before anything is sent, a request the head would refuse for its size (it would close the connection). */
  private checkSize(req: ClientRequest): void {
    const bytes = messageBytesAtLeast(req);
    if (bytes > this.maxMessageBytes) throw new DriverMessageTooLargeError(req.op, bytes, this.maxMessageBytes);
  }

  context(): RuntimeContext {
    if (!this.ctx) throw new Error('the head has not accepted this driver yet');
    return this.ctx;
  }

  /** Disconnects; the head ends this driver's job (the head itself keeps running). */
  async shutdown(): Promise<void> {
    this.refs?.flush();
    this.refs?.close();
    this.channel.close(1000, 'driver shut down');
    await this.closed;
  }
}
