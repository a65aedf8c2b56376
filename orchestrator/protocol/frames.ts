/**
 * Length-prefixed frames over any byte stream. A frame holds a batch of messages; byte arrays
 * of 1 KiB or more inside a message travel after the header, unserialized, and come back as
 * views into the received frame (no copy beyond the transport's own).
 *
 * Layout: u32 bodyLength | u32 headerLength | header (v8: [messages, blobLengths]) | blobs, each
 * starting 8-byte aligned within the body (zero padding between). A body of 4 GiB - 1 or more
 * (a value past 2 GiB, say) has the length 0xFFFFFFFF followed by its u64 length.
 */
import { constants } from 'node:buffer';
import { serialize, deserialize } from 'node:v8';

/**
 * The largest frame body: what one Buffer can hold (4 GiB on Node 20, more on newer Node), since
 * a frame is received into one. Larger frames are refused on both ends.
 */
export const MAX_FRAME_BYTES = constants.MAX_LENGTH;
/** A u32 length prefix of this value says a u64 length follows. */
const LONG_FRAME = 0xffffffff;
const BLOB_MIN = 1024;
const MAX_DEPTH = 6;

/** Raised for frames that cannot be decoded; the peer that sent it is dropped. */
export class FrameError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FrameError';
  }
}

/** Encodes a batch of messages into the buffers of one frame (to be written with writev). */
export function encodeFrame(messages: readonly unknown[]): Buffer[] {
  const blobs: Uint8Array[] = [];
  const lifted = messages.map((m) => lift(m, blobs, 0));
  const header = serialize([lifted, blobs.map((b) => b.byteLength)]);
  const out: Buffer[] = [Buffer.alloc(0), header];
  let body = 4 + header.length;
  for (const b of blobs) {
    const pad = align(body) - body;
    if (pad > 0) out.push(PADDING.subarray(0, pad));
    out.push(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
    body += pad + b.byteLength;
  }
  if (body > MAX_FRAME_BYTES)
    throw new FrameError(`message batch of ${body} bytes exceeds the ${MAX_FRAME_BYTES}-byte frame limit`);
  const long = body >= LONG_FRAME;
  const prefix = Buffer.allocUnsafe(long ? 16 : 8);
  if (long) {
    prefix.writeUInt32LE(LONG_FRAME, 0);
    prefix.writeBigUInt64LE(BigInt(body), 4);
  } else prefix.writeUInt32LE(body, 0);
  prefix.writeUInt32LE(header.length, long ? 12 : 4);
  out[0] = prefix;
  return out;
}

const PADDING = Buffer.alloc(8);

/** The size of an encoded frame's buffers, in bytes (length prefix included). */
export function frameBytes(buffers: readonly Buffer[]): number {
  let n = 0;
  for (const b of buffers) n += b.length;
  return n;
}

/**
 * A lower bound of the bytes `message` takes in a frame, found without encoding it: its byte
 * arrays and strings (values and arguments travel as byte arrays, so they dominate).
 */
export function messageBytesAtLeast(message: unknown, depth = 0): number {
  if (typeof message === 'string') return message.length;
  if (typeof message !== 'object' || message === null || depth > MAX_DEPTH) return 0;
  if (ArrayBuffer.isView(message)) return message.byteLength;
  let n = 0;
  if (Array.isArray(message)) for (const v of message) n += messageBytesAtLeast(v, depth + 1);
  else for (const k in message) n += messageBytesAtLeast((message as Record<string, unknown>)[k], depth + 1);
  return n;
}

/** Blobs start 8-byte aligned within the body, so typed arrays can be viewed in place. */
function align(n: number): number {
  return (n + 7) & ~7;
}

function lift(v: unknown, blobs: Uint8Array[], depth: number): unknown {
  if (typeof v !== 'object' || v === null || depth > MAX_DEPTH) return v;
  if (v instanceof Uint8Array) {
    if (v.byteLength < BLOB_MIN) return v;
    blobs.push(v);
    return { __blob: blobs.length - 1 };
  }
  if (Array.isArray(v)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < v.length; i++) {
      const l = lift(v[i], blobs, depth + 1);
      if (l !== v[i] && !out) out = v.slice(0, i);
      if (out) out[i] = l;
    }
    return out ?? v;
  }
  if (Object.getPrototypeOf(v) !== Object.prototype) return v;
  let out: Record<string, unknown> | undefined;
  for (const k in v) {
    const val = (v as Record<string, unknown>)[k];
    const l = lift(val, blobs, depth + 1);
    if (l !== val && !out) out = { ...(v as Record<string, unknown>) };
    if (out) out[k] = l;
  }
  return out ?? v;
}

function lower(v: unknown, blobs: Uint8Array[], depth: number): unknown {
  if (typeof v !== 'object' || v === null || depth > MAX_DEPTH || ArrayBuffer.isView(v)) return v;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) v[i] = lower(v[i], blobs, depth + 1);
    return v;
  }
  const rec = v as Record<string, unknown>;
  if (typeof rec.__blob === 'number') {
    const b = blobs[rec.__blob];
    if (!b) throw new FrameError(`message refers to blob ${rec.__blob} but the frame has ${blobs.length}`);
    return b;
  }
  for (const k in rec) rec[k] = lower(rec[k], blobs, depth + 1);
  return v;
}

/**
 * Reassembles frames from stream chunks. Malformed input raises FrameError from `push`;
 * the caller drops the peer.
 */
export class FrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private frame: Buffer | undefined;
  private filled = 0;

  constructor(private readonly maxFrameBytes = MAX_FRAME_BYTES) {}

  /** Feeds bytes; returns the message batches completed by them, in order. */
  push(chunk: Buffer): unknown[][] {
    const out: unknown[][] = [];
    let data = chunk;
    for (;;) {
      if (this.frame) {
        const n = Math.min(this.frame.length - this.filled, data.length);
        data.copy(this.frame, this.filled, 0, n);
        this.filled += n;
        data = data.subarray(n);
        if (this.filled < this.frame.length) return out;
        out.push(decodeBody(this.frame));
        this.frame = undefined;
        continue;
      }
      if (this.buffered > 0) {
        this.chunks.push(data);
        data = Buffer.concat(this.chunks);
        this.chunks = [];
        this.buffered = 0;
      }
      if (data.length < 4) {
        if (data.length > 0) {
          this.chunks.push(data);
          this.buffered = data.length;
        }
        return out;
      }
      const short = data.readUInt32LE(0);
      const prefix = short === LONG_FRAME ? 12 : 4;
      if (data.length < prefix) {
        this.chunks.push(data);
        this.buffered = data.length;
        return out;
      }
      const body = short === LONG_FRAME ? Number(data.readBigUInt64LE(4)) : short;
      if (body < 4 || body > this.maxFrameBytes) throw new FrameError(`bad frame length ${body}`);
      if (data.length >= prefix + body) {
        out.push(decodeBody(data.subarray(prefix, prefix + body)));
        data = data.subarray(prefix + body);
        continue;
      }
      try {
        this.frame = Buffer.allocUnsafe(body);
      } catch (err) {
        throw new FrameError(
          `a frame of ${body} bytes does not fit in this process's memory: ${(err as Error).message}`,
        );
      }
      this.filled = 0;
      data = data.subarray(prefix);
    }
  }

  /** True when a frame was started but not finished (a truncated stream). */
  get partial(): boolean {
    return this.frame !== undefined || this.buffered > 0;
  }
}

function decodeBody(body: Buffer): unknown[] {
  const headerLen = body.readUInt32LE(0);
  if (headerLen > body.length - 4)
    throw new FrameError(`header length ${headerLen} exceeds frame body ${body.length - 4}`);
  let header: unknown;
  try {
    header = deserialize(body.subarray(4, 4 + headerLen));
  } catch (err) {
    throw new FrameError(`undecodable frame header: ${(err as Error).message}`);
  }
  if (!Array.isArray(header) || header.length !== 2 || !Array.isArray(header[0]) || !Array.isArray(header[1])) {
    throw new FrameError('frame header is not [messages, blobLengths]');
  }
  const [messages, lengths] = header as [unknown[], unknown[]];
  const blobs: Uint8Array[] = [];
  let at = 4 + headerLen;
  for (const len of lengths) {
    at = align(at);
    if (typeof len !== 'number' || len < 0 || at + len > body.length)
      throw new FrameError('blob lengths do not match the frame');
    blobs.push(new Uint8Array(body.buffer, body.byteOffset + at, len));
    at += len;
  }
  if (at !== body.length) throw new FrameError(`frame has ${body.length - at} trailing bytes`);
  if (blobs.length > 0) for (let i = 0; i < messages.length; i++) messages[i] = lower(messages[i], blobs, 0);
  return messages;
}
