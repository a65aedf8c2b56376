/**
 * The wire of direct object transfers between agents (object-transfer-server.ts serves it,
 * object-transfer-client.ts speaks it). One request per TCP connection: the client sends a
 * length-prefixed JSON header with the head's transfer token, the object id and the offset to
 * start from (a resumed transfer asks for the rest); the server answers with a length-prefixed
 * JSON header (the value's kind and size, or why it refuses) followed by the value's bytes from
 * that offset. The token travels only inside the connection, never in argv or an address.
 */
import { OrreryError } from '../core/errors.ts';
import type { TypedArrayName } from '../core/serialization.ts';

/** Headers are small; anything longer is not a peer speaking this protocol. */
export const MAX_HEADER_BYTES = 16 * 1024;

/** What a client asks for. */
export interface TransferRequest {
  readonly token: string;
  readonly objectId: string;
  /** Bytes the client already has (0 for a new transfer). */
  readonly offset: number;
}

/** What the server answers before the bytes. */
export type TransferReply =
  | { readonly ok: true; readonly sizeBytes: number; readonly marked: boolean; readonly typed?: TypedArrayName }
  | { readonly ok: false; readonly refused: boolean; readonly error: string };

/** A direct transfer failed; the caller falls back to another copy or to the head. */
export class ObjectTransferError extends OrreryError {
  constructor(
    readonly objectId: string,
    readonly address: string,
    readonly reason: string,
    /** True when the source could not be reached at all (no connection). */
    readonly unreachable: boolean,
  ) {
    super(`direct transfer of object ${objectId} from ${address} failed: ${reason}`);
  }
}

/** The server refused the request's token (a peer of another head, or no peer at all). */
export class TransferRefusedError extends OrreryError {
  constructor(readonly address: string) {
    super(
      `the object transfer server at ${address} refused the transfer token; it belongs to another head (restart the node's agent under this head)`,
    );
  }
}

/** A header as bytes: 4-byte big-endian length, then JSON. */
export function encodeHeader(h: TransferRequest | TransferReply): Buffer {
  const body = Buffer.from(JSON.stringify(h), 'utf8');
  const out = Buffer.allocUnsafe(4 + body.length);
  out.writeUInt32BE(body.length, 0);
  body.copy(out, 4);
  return out;
}

/**
 * Reads one header off the front of `buf`: the parsed JSON and the bytes after it, or undefined
 * while incomplete. Throws on a header past MAX_HEADER_BYTES or not JSON.
 */
export function decodeHeader(buf: Buffer): { header: unknown; rest: Buffer } | undefined {
  if (buf.length < 4) return undefined;
  const n = buf.readUInt32BE(0);
  if (n > MAX_HEADER_BYTES) throw new Error(`transfer header of ${n} bytes is larger than ${MAX_HEADER_BYTES}`);
  if (buf.length < 4 + n) return undefined;
  return { header: JSON.parse(buf.subarray(4, 4 + n).toString('utf8')), rest: buf.subarray(4 + n) };
}

/** True for a well-formed request (the server trusts nothing else about it). */
export function isTransferRequest(h: unknown): h is TransferRequest {
  const r = h as Partial<TransferRequest> | null;
  return (
    typeof r === 'object' &&
    r !== null &&
    typeof r.token === 'string' &&
    typeof r.objectId === 'string' &&
    typeof r.offset === 'number' &&
    Number.isSafeInteger(r.offset) &&
    r.offset >= 0
  );
}
