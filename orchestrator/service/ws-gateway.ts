/**
 * Drivers in other processes: one WebSocket connection is one driver's job. The driver sends
 * `request` messages (ClientRequest, `requestId` 0 for fire-and-forget posts, served in order)
 * and gets `reply` messages back, both from the head's one request dispatcher
 * (head/head-requests.ts); worker output of its own tasks comes as `log` messages.
 * The first message on a new connection is the welcome: a `reply` with `requestId` 0 whose value
 * is a {@link DriverWelcome}. When the socket closes the job ends: its pending tasks are
 * cancelled and its non-detached actors die.
 *
 * A driver message (one WebSocket message: a batch of requests, such as a `put` value or a
 * task's inline arguments) is at most {@link MAX_DRIVER_MESSAGE_BYTES}; the welcome tells the
 * driver the limit, so it refuses a larger request itself with a clear error, and a message
 * over it anyway closes the connection with code 1009.
 *
 * A driver on the head's machine shares its memory: the welcome names the head's shared-memory
 * folder, a driver that sees it answers `map-shared`, and from then on its large puts are files
 * it wrote into that folder and `get` replies name files there (mapped by the driver, no bytes
 * on the socket). A driver message naming any other file closes the connection (1002): the head
 * never reads or links a file a driver merely points at.
 */
import { WebSocketServer, type WebSocket } from 'ws';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Caller, Head } from '../head/head.ts';
import type { Message } from '../protocol/messages.ts';
import { nameProblem } from '../core/names.ts';
import { isFileOf } from '../core/shared-memory.ts';
import { payloadsOf } from '../head/node-messages.ts';
import { DRIVER_PATH, MAX_DRIVER_MESSAGE_BYTES, WS_PROTOCOL, type DriverWelcome } from '../protocol/driver-socket.ts';
import { refuseUpgrade } from './upgrade-refusal.ts';
import { SocketChannel } from '../client/socket-channel.ts';

/** Accepts driver connections for a head. */
export class DriverGateway {
  private readonly wss: WebSocketServer;
  private readonly drivers = new Map<string, { channel: SocketChannel; logs: boolean }>();
  private readonly unsubscribe: () => void;
  private closing = false;

  constructor(
    private readonly head: Head,
    private readonly log: (line: string) => void,
    private readonly maxMessageBytes = MAX_DRIVER_MESSAGE_BYTES,
  ) {
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: maxMessageBytes,
      handleProtocols: (protocols) => (protocols.has(WS_PROTOCOL) ? WS_PROTOCOL : false),
    });
    this.unsubscribe = head.logs.subscribe((l) => {
      if (!l.taskId || this.drivers.size === 0) return;
      const jobId = head.queries.task(l.taskId)?.jobId;
      const d = jobId ? this.drivers.get(jobId) : undefined;
      if (d?.logs) d.channel.send({ type: 'log', stream: l.stream, text: l.echoed });
    });
  }

  /** Number of connected drivers. */
  get size(): number {
    return this.drivers.size;
  }

  /** Accepts a driver on an upgrade to {@link DRIVER_PATH} that passed the access checks (service-upgrades.ts). */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, url: URL): void {
    if (this.closing) return refuseUpgrade(socket, 503, 'the head is shutting down');
    const namespace = url.searchParams.get('namespace');
    if (namespace && nameProblem(namespace) !== undefined) {
      return refuseUpgrade(
        socket,
        400,
        'the namespace must be a name without control characters, other than __proto__, constructor or prototype',
      );
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, url));
  }

  private accept(ws: WebSocket, url: URL): void {
    const namespace = url.searchParams.get('namespace') || undefined;
    const jobId = this.head.startJob(namespace);
    const shmDir = this.head.shm?.path;
    let caller: Caller = { jobId };
    const channel = new SocketChannel(ws, (m) => {
      if (m.type === 'request' && m.req?.op === 'map-shared') {
        if (shmDir === undefined || m.req.dir !== shmDir)
          return channel.close(1002, "map-shared names a folder that is not the head's shared memory");
        caller = { jobId, sharedMemory: true };
        return;
      }
      this.request(caller, channel, m);
    });
    this.drivers.set(jobId, { channel, logs: url.searchParams.get('logToDriver') !== '0' });
    channel.onClosed((reason) => {
      this.drivers.delete(jobId);
      if (!this.closing && reason) this.log(`orrery: driver of job ${jobId} disconnected: ${reason}`);
      this.head.endJob(jobId);
    });
    const welcome: DriverWelcome = {
      jobId,
      namespace: this.head.namespaceOf(jobId),
      nodeId: this.head.queries.nodeIds()[0] ?? '',
      headId: this.head.headId,
      maxMessageBytes: this.maxMessageBytes,
      shmDir,
    };
    channel.send({ type: 'reply', requestId: 0, ok: true, value: welcome });
  }

  private request(caller: Caller, channel: SocketChannel, m: Message): void {
    if (m.type !== 'request' || typeof m.requestId !== 'number' || typeof m.req?.op !== 'string')
      return channel.close(1002, `unexpected ${m.type} message from a driver`);
    const shmDir = caller.sharedMemory ? this.head.shm?.path : undefined;
    const stray = payloadsOf(m).find((p) => p.shm && !isFileOf(shmDir, p.shm.path));
    if (stray) {
      this.log(
        `orrery: the driver of job ${caller.jobId} named ${stray.shm!.path}, not a file of the head's shared memory`,
      );
      return channel.close(1002, "malformed request: it names a file outside the head's shared memory");
    }
    this.head.requests.answer(m, caller, channel);
  }

  /** Disconnects every driver (their jobs end) and stops accepting new ones. */
  close(): void {
    this.closing = true;
    this.unsubscribe();
    for (const d of [...this.drivers.values()]) d.channel.close(1001, 'the head is shutting down');
    this.wss.close();
  }
}
