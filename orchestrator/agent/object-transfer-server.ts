/**
 * An agent's object transfer server: other agents of the same head fetch the values this node
 * holds straight from here (object-transfer-wire.ts), so the bytes do not pass through the head.
 * A request is served only when it shows the head's transfer token (compared in constant time);
 * bytes are written in chunks and the next chunk waits for the socket to drain (backpressure).
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { Payload } from '../core/serialization.ts';
import { secretMatches } from '../protocol/peer-secret.ts';
import { decodeHeader, encodeHeader, isTransferRequest, type TransferReply } from './object-transfer-wire.ts';

/** Bytes written per chunk. */
const CHUNK_BYTES = 1024 * 1024;
/** A client that sends no complete header within this time is dropped. */
const HEADER_TIMEOUT_MS = 10_000;

/** What the server needs from its agent. */
export interface TransferServerOptions {
  /** The head's transfer token (undefined until the head sent it: every request is refused). */
  token(): string | undefined;
  /** The value of an object this node holds (undefined: not here). */
  lookup(objectId: string): Promise<Payload | undefined>;
  /**
   * Test hook (ORRERY_TEST_TRANSFER_CUT_BYTES): the first transfer that gets past this many bytes
   * has its connection cut, to show that the client resumes.
   */
  readonly cutAfterBytes?: number;
  /** Test hook (ORRERY_TEST_TRANSFER_CHUNK_DELAY_MS): a pause after each chunk, so a test can act mid-transfer. */
  readonly chunkDelayMs?: number;
}

/** Serves this node's objects to other agents. */
export class ObjectTransferServer {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private cutPending: boolean;
  /** Bytes served since start (for the agent's own accounting). */
  servedBytes = 0;

  constructor(private readonly opts: TransferServerOptions) {
    this.cutPending = opts.cutAfterBytes !== undefined;
    this.server = createServer((s) => this.accept(s));
  }

  /** Starts listening on `host` (a free port); resolves with the port. */
  listen(host: string): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen({ host, port: 0 }, () => {
        this.server.off('error', reject);
        const a = this.server.address();
        resolve(typeof a === 'object' && a ? a.port : 0);
      });
    });
  }

  /** Stops serving; open transfers are cut. */
  close(): void {
    this.server.close();
    for (const s of this.sockets) s.destroy();
  }

  private accept(s: Socket): void {
    this.sockets.add(s);
    s.once('close', () => this.sockets.delete(s));
    s.on('error', () => {});
    s.setNoDelay(true);
    const timer = setTimeout(() => s.destroy(), HEADER_TIMEOUT_MS);
    let buf = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      let got: ReturnType<typeof decodeHeader>;
      try {
        got = decodeHeader(buf);
      } catch {
        clearTimeout(timer);
        s.destroy();
        return;
      }
      if (!got) return;
      clearTimeout(timer);
      s.off('data', onData);
      void this.serve(s, got.header);
    };
    s.on('data', onData);
  }

  private async serve(s: Socket, req: unknown): Promise<void> {
    const token = this.opts.token();
    if (!isTransferRequest(req) || token === undefined || !secretMatches(req.token, token))
      return this.refuse(s, { ok: false, refused: true, error: 'wrong transfer token' });
    const p = await this.opts.lookup(req.objectId);
    if (!p) return this.refuse(s, { ok: false, refused: false, error: `object ${req.objectId} is not on this node` });
    const data = p.data;
    if (req.offset > data.byteLength)
      return this.refuse(s, { ok: false, refused: false, error: `offset ${req.offset} is past the value's end` });
    const reply: TransferReply = { ok: true, sizeBytes: data.byteLength, marked: p.marked, typed: p.typed };
    s.write(encodeHeader(reply));
    for (let at = req.offset; at < data.byteLength && !s.destroyed; at += CHUNK_BYTES) {
      const chunk = data.subarray(at, Math.min(at + CHUNK_BYTES, data.byteLength));
      const flowing = s.write(chunk);
      this.servedBytes += chunk.byteLength;
      if (this.cutPending && at + chunk.byteLength >= this.opts.cutAfterBytes!) {
        this.cutPending = false;
        s.destroy();
        return;
      }
      if (!flowing) await drained(s);
      if (this.opts.chunkDelayMs) await new Promise((r) => setTimeout(r, this.opts.chunkDelayMs));
    }
    s.end();
  }

  private refuse(s: Socket, reply: TransferReply): void {
    s.end(encodeHeader(reply));
  }
}

/** Resolves when the socket can take more bytes (or is gone). */
function drained(s: Socket): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      s.off('drain', done);
      s.off('close', done);
      resolve();
    };
    s.once('drain', done);
    s.once('close', done);
  });
}
