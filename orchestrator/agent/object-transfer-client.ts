/**
 * Fetches an object from another agent's transfer server (object-transfer-wire.ts). The bytes
 * land in one buffer of the value's size; a connection that drops mid-transfer is opened again
 * and asks for the rest from the offset received so far. The first connection has a short
 * timeout: it is also the probe that tells whether this node can reach the other at all.
 */
import { connect, type Socket } from 'node:net';
import type { Payload } from '../core/serialization.ts';
import type { TransferSource } from '../protocol/messages.ts';
import {
  decodeHeader,
  encodeHeader,
  ObjectTransferError,
  TransferRefusedError,
  type TransferReply,
} from './object-transfer-wire.ts';

/** Limits of one fetch. */
export interface FetchOptions {
  /** How long a connection may take to open (the reachability probe). */
  readonly connectTimeoutMs?: number;
  /** How long a transfer may go without a byte before it counts as dropped. */
  readonly idleTimeoutMs?: number;
  /** Reconnections after drops, at most. */
  readonly maxResumes?: number;
}

/** A fetched value and how it came. */
export interface Fetched {
  readonly payload: Payload;
  readonly bytes: number;
  /** Connections opened again after a drop. */
  readonly resumes: number;
}

/** Bytes one socket read may take. */
const READ_BUFFER_BYTES = 4 * 1024 * 1024;

const DEFAULTS = { connectTimeoutMs: 3000, idleTimeoutMs: 30_000, maxResumes: 5 };

/** Where the bytes go, kept across reconnections. */
interface Progress {
  reply?: Extract<TransferReply, { ok: true }>;
  target?: Buffer;
  received: number;
}

/** Fetches `objectId` from `source`, resuming after drops; throws ObjectTransferError or TransferRefusedError. */
export async function fetchFromPeer(
  source: TransferSource,
  token: string,
  objectId: string,
  options: FetchOptions = {},
): Promise<Fetched> {
  const o = { ...DEFAULTS, ...options };
  const address = `${source.host}:${source.port}`;
  const progress: Progress = { received: 0 };
  let resumes = 0;
  for (;;) {
    const outcome = await once(source, token, objectId, progress, o);
    if (outcome === 'done') {
      const r = progress.reply!;
      const data = progress.target!;
      const payload: Payload = r.typed ? { data, marked: r.marked, typed: r.typed } : { data, marked: r.marked };
      return { payload, bytes: data.byteLength, resumes };
    }
    if (outcome instanceof TransferRefusedError) throw outcome;
    if (typeof outcome === 'string' && outcome !== 'dropped')
      throw new ObjectTransferError(objectId, address, outcome, false);
    if (outcome instanceof ObjectTransferError) throw outcome;
    // Dropped: a connection that never got the server's header does not count as progress.
    if (!progress.reply || resumes >= o.maxResumes)
      throw new ObjectTransferError(objectId, address, `the connection dropped ${resumes + 1} times`, false);
    resumes++;
  }
}

/** One connection: 'done', 'dropped' (resume), an error text (give up), or a thrown-worthy error. */
function once(
  source: TransferSource,
  token: string,
  objectId: string,
  p: Progress,
  o: typeof DEFAULTS,
): Promise<'done' | 'dropped' | string | Error> {
  const address = `${source.host}:${source.port}`;
  return new Promise((resolve) => {
    let settled = false;
    let connected = false;
    let head: Buffer | undefined = Buffer.alloc(0);
    // Reads land in one large buffer (fewer, larger reads than the default 64 KiB); each is copied out at once.
    const s: Socket = connect({
      host: source.host,
      port: source.port,
      onread: {
        buffer: Buffer.allocUnsafe(READ_BUFFER_BYTES),
        callback: (n, buf) => {
          received(Buffer.from(buf.buffer, buf.byteOffset, n));
          return true;
        },
      },
    });
    const finish = (r: 'done' | 'dropped' | string | Error) => {
      if (settled) return;
      settled = true;
      s.destroy();
      resolve(r);
    };
    s.setTimeout(o.connectTimeoutMs, () =>
      finish(
        connected
          ? 'dropped'
          : new ObjectTransferError(objectId, address, 'no connection within the probe timeout', true),
      ),
    );
    s.on('error', (err: NodeJS.ErrnoException) => {
      if (!connected) finish(new ObjectTransferError(objectId, address, err.code ?? err.message, true));
      else finish('dropped');
    });
    s.on('close', () => finish(p.target && p.received === p.target.byteLength ? 'done' : 'dropped'));
    s.on('connect', () => {
      connected = true;
      s.setTimeout(o.idleTimeoutMs);
      s.setNoDelay(true);
      s.write(encodeHeader({ token, objectId, offset: p.received }));
    });
    const received = (chunk: Buffer) => {
      if (head) {
        head = Buffer.concat([head, chunk]);
        let got: ReturnType<typeof decodeHeader>;
        try {
          got = decodeHeader(head);
        } catch (err) {
          return finish(`bad reply: ${(err as Error).message}`);
        }
        if (!got) return;
        head = undefined;
        const r = got.header as TransferReply;
        if (!r.ok) return finish(r.refused ? new TransferRefusedError(address) : r.error);
        if (p.reply && (p.reply.sizeBytes !== r.sizeBytes || p.reply.typed !== r.typed))
          return finish('the value changed between connections');
        p.reply = r;
        // Its own ArrayBuffer at offset 0, so a typed array view over it is aligned.
        p.target ??= Buffer.allocUnsafeSlow(r.sizeBytes);
        chunk = got.rest;
      }
      const room = p.target!.byteLength - p.received;
      if (chunk.byteLength > room) return finish('the server sent more bytes than the value has');
      chunk.copy(p.target!, p.received);
      p.received += chunk.byteLength;
      if (p.received === p.target!.byteLength) finish('done');
    };
  });
}
