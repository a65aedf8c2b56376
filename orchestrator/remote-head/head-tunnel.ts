/**
 * The laptop's end of the SSH tunnel to a head on another machine: a loopback listener whose
 * every connection becomes an SSH `direct-tcpip` channel (ssh2 `forwardOut`, as `ssh -L` does)
 * to the head's loopback port there. The head listens on loopback only on its host; the CLI,
 * client drivers, the dashboard and the app reach it here. Connections made while the SSH
 * connection is down are closed at once (the client retries; drivers reconnect on their own).
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { SshConnection } from '../../backends/transport/ssh/connection.ts';

/** A listening tunnel. */
export class HeadTunnel {
  private conn: SshConnection | undefined;
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    /** The local port. */
    readonly port: number,
    private readonly remotePort: number,
  ) {
    server.on('connection', (socket) => this.forward(socket));
  }

  /**
   * Listens on `127.0.0.1:port` and forwards to `127.0.0.1:remotePort` on the host. A port in
   * use is one error naming it.
   */
  static async open(port: number, remotePort: number): Promise<HeadTunnel> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) =>
        reject(
          err.code === 'EADDRINUSE'
            ? new Error(`port ${port} on 127.0.0.1 is in use here; pick another for the tunnel with --port`)
            : err,
        ),
      );
      server.listen(port, '127.0.0.1', () => resolve());
    });
    return new HeadTunnel(server, port, remotePort);
  }

  /** Sends new connections through `conn` (a fresh one after a reconnect); the tunnel owns it and closes the one it replaces. */
  use(conn: SshConnection | undefined): void {
    if (this.conn !== conn) this.conn?.close('replaced by a new connection');
    this.conn = conn;
  }

  /** True while new connections have an SSH connection to go through. */
  get connected(): boolean {
    return this.conn !== undefined && !this.conn.isClosed;
  }

  private forward(socket: Socket): void {
    const conn = this.conn;
    if (!conn || conn.isClosed) {
      socket.destroy();
      return;
    }
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    socket.pause();
    conn.forward('127.0.0.1', this.remotePort).then(
      (ch) => {
        if (socket.destroyed) return void ch.destroy();
        ch.on('error', () => socket.destroy());
        ch.once('close', () => socket.destroy());
        socket.once('close', () => ch.destroy());
        socket.pipe(ch).pipe(socket);
        socket.resume();
      },
      () => socket.destroy(),
    );
  }

  /** Stops listening and closes every forwarded connection, and the SSH connection. */
  async close(): Promise<void> {
    this.use(undefined);
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}
