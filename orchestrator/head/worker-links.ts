/**
 * Direct links from workers on this machine to the head (a Unix socket). With them, runs and
 * results of local nodes skip the agent's relay (Ray's owner-to-worker push): half the hops,
 * and the agent stays off the hot path. Remote nodes have no such link and use the relay.
 *
 * The socket lives in the head's private folder (core/runtime-dir.ts), and a link counts only
 * once its worker-hello shows the head's link secret, which agents get in their environment and
 * hand to their workers the same way: a connection without it is closed before anything it sent
 * is looked at.
 */
import { createServer, type Server } from 'node:net';
import { chmodSync, rmSync } from 'node:fs';
import { Channel } from '../protocol/channel.ts';
import type { Message } from '../protocol/messages.ts';
import { newPeerSecret, secretMatches } from '../protocol/peer-secret.ts';

/** The head's socket for worker links, and the live links by node and worker. */
export class WorkerLinks {
  /** What a worker shows in its hello (given to local agents as ORRERY_WORKER_LINK_SECRET). */
  readonly secret = newPeerSecret();
  private readonly links = new Map<string, Channel>();
  private readonly server: Server;

  constructor(
    readonly path: string,
    onMessage: (nodeId: string, link: Channel, m: Message) => void,
  ) {
    this.server = createServer((sock) => {
      const ch = new Channel(sock, sock, 'worker link');
      let key: string | undefined;
      ch.listen(
        (m) => {
          if (key) return onMessage(key.slice(0, key.indexOf('/')), ch, m);
          if (m.type !== 'worker-hello') return ch.close('first message of a worker link must be worker-hello');
          if (!secretMatches(m.secret, this.secret)) return ch.close("worker-hello without the head's link secret");
          key = `${m.nodeId}/${m.workerId}`;
          this.links.set(key, ch);
        },
        () => {
          if (key && this.links.get(key) === ch) this.links.delete(key);
          sock.destroy();
        },
      );
      sock.on('error', () => ch.close('socket error'));
    });
    this.server.listen(path, () => {
      try {
        chmodSync(path, 0o600);
      } catch {
        // Closed before it listened: there is no socket left to protect.
      }
    });
    this.server.unref();
  }

  /** The live link of a worker, if it has one. */
  get(nodeId: string, workerId: string): Channel | undefined {
    const ch = this.links.get(`${nodeId}/${workerId}`);
    return ch && !ch.isClosed ? ch : undefined;
  }

  /** Closes the socket and every link. */
  close(): void {
    for (const ch of this.links.values()) ch.close();
    this.server.close();
    rmSync(this.path, { force: true });
  }
}
