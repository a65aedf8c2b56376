/**
 * Keeps a head service reachable while someone floods its port with connections. Every socket
 * starts untrusted; it becomes trusted once a request on it showed a credential (or it was
 * upgraded to an authenticated WebSocket). Untrusted sockets are what an attacker can open, so:
 *
 * - the server holds at most `maxConnections` sockets, well under the process's file limit (a
 *   head out of file descriptors cannot accept its drivers, spawn workers or open files). When
 *   one more arrives, the oldest untrusted socket (an idle one first) is closed to make room,
 *   so a new client always gets in; only when every socket is trusted is the newcomer refused;
 * - an untrusted socket with no request in progress is closed after `untrustedIdleMs`.
 *
 * The HTTP server's own header, request and keep-alive timeouts are set in server-limits.ts.
 */
import type { Server } from 'node:http';
import type { Socket } from 'node:net';

/** Limits of {@link ConnectionGuard}. */
export interface ConnectionLimits {
  /** Sockets held at once. */
  readonly maxConnections: number;
  /** An untrusted socket idle this long is closed. */
  readonly untrustedIdleMs: number;
}

/** How often idle untrusted sockets are looked for. */
const SWEEP_MS = 1000;

interface Untrusted {
  /** Requests on it not answered yet. */
  busy: number;
  /** When it connected or its last request ended. */
  idleSince: number;
}

/** Watches one server's sockets. */
export class ConnectionGuard {
  /** In connection order: the first is the oldest. */
  private readonly untrusted = new Map<Socket, Untrusted>();
  private readonly trusted = new Set<Socket>();
  private readonly sweeper: NodeJS.Timeout;
  private evictions = 0;

  constructor(
    server: Server,
    private readonly limits: ConnectionLimits,
    private readonly now: () => number = Date.now,
  ) {
    server.on('connection', (socket: Socket) => this.admit(socket));
    server.on('request', (req, res) => {
      const state = this.untrusted.get(req.socket);
      if (!state) return;
      state.busy++;
      res.once('close', () => {
        state.busy--;
        state.idleSince = this.now();
      });
    });
    this.sweeper = setInterval(() => this.sweep(), SWEEP_MS);
    this.sweeper.unref();
  }

  /** The socket showed a credential: it is never evicted or timed out by this guard. */
  trust(socket: Socket): void {
    if (!this.untrusted.delete(socket) || socket.destroyed) return;
    this.trusted.add(socket);
  }

  /** Sockets held now, and how many untrusted ones were closed to make room so far. */
  get stats(): { readonly open: number; readonly trusted: number; readonly evicted: number } {
    return { open: this.untrusted.size + this.trusted.size, trusted: this.trusted.size, evicted: this.evictions };
  }

  /** Stops the sweeper (the sockets close with the server). */
  close(): void {
    clearInterval(this.sweeper);
  }

  private admit(socket: Socket): void {
    if (this.untrusted.size + this.trusted.size >= this.limits.maxConnections && !this.evictOne()) {
      socket.destroy();
      return;
    }
    this.untrusted.set(socket, { busy: 0, idleSince: this.now() });
    socket.once('close', () => {
      this.untrusted.delete(socket);
      this.trusted.delete(socket);
    });
  }

  /** Closes the oldest untrusted socket, an idle one if there is one; false when all are trusted. */
  private evictOne(): boolean {
    let victim: Socket | undefined;
    for (const [socket, state] of this.untrusted) {
      victim ??= socket;
      if (state.busy === 0) {
        victim = socket;
        break;
      }
    }
    if (!victim) return false;
    this.untrusted.delete(victim);
    victim.destroy();
    this.evictions++;
    return true;
  }

  private sweep(): void {
    const cutoff = this.now() - this.limits.untrustedIdleMs;
    for (const [socket, state] of this.untrusted) {
      if (state.busy === 0 && state.idleSince <= cutoff) {
        this.untrusted.delete(socket);
        socket.destroy();
      }
    }
  }
}
