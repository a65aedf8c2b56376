/**
 * The protocol over a WebSocket: each binary WebSocket message is exactly one frame (a batch
 * of messages, see protocol/frames.ts), so a browser can decode it without reassembly.
 * Messages sent in one event-loop turn share a frame, as on every other channel, unless that
 * frame would be larger than the peer accepts: then each message goes in a frame of its own.
 */
import type { WebSocket } from 'ws';
import { encodeFrame, FrameDecoder, FrameError, frameBytes } from '../protocol/frames.ts';
import { isMessage, type Message } from '../protocol/messages.ts';

/** Why a socket channel closed: undefined for a clean close. */
export type SocketCloseReason = string | undefined;

/** Typed, batching message channel over one WebSocket (either end). */
export class SocketChannel {
  private pending: Message[] = [];
  private scheduled = false;
  private closed = false;
  private onClose: (reason: SocketCloseReason) => void = () => {};

  /**
   * @param maxFrameBytes the largest WebSocket message the peer accepts, asked at each flush
   *   (a batch over it is split into one frame per message).
   */
  constructor(
    private readonly ws: WebSocket,
    onMessage: (m: Message) => void,
    private readonly maxFrameBytes: () => number = () => Infinity,
  ) {
    ws.binaryType = 'nodebuffer';
    ws.on('message', (data, isBinary) => {
      if (this.closed) return;
      if (!isBinary) return this.fail('text message on a binary protocol socket');
      let batches: unknown[][];
      try {
        const decoder = new FrameDecoder();
        batches = decoder.push(Buffer.isBuffer(data) ? data : Buffer.concat(data as Buffer[]));
        if (decoder.partial || batches.length !== 1)
          throw new FrameError('a WebSocket message must hold exactly one frame');
      } catch (err) {
        return this.fail(`malformed frame: ${(err as Error).message}`);
      }
      for (const m of batches[0]!) {
        if (this.closed) return;
        if (!isMessage(m)) return this.fail('malformed message');
        onMessage(m);
      }
    });
    ws.on('close', (code, reason) =>
      this.ended(
        code === 1000 || code === 1005 ? undefined : `closed (${code}${reason.length ? `: ${reason.toString()}` : ''})`,
      ),
    );
    ws.on('error', (err) => this.ended(err.message));
  }

  /** Sets what runs once when the socket closes. */
  onClosed(f: (reason: SocketCloseReason) => void): void {
    this.onClose = f;
  }

  /** Queues a message; it goes out with the others of this event-loop turn. */
  send(m: Message): void {
    if (this.closed) return;
    this.pending.push(m);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Sends what is queued now. */
  flush(): void {
    this.scheduled = false;
    if (this.closed || this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    const frame = encodeFrame(batch);
    if (batch.length === 1 || frameBytes(frame) <= this.maxFrameBytes()) {
      this.ws.send(Buffer.concat(frame), { binary: true });
      return;
    }
    for (const m of batch) this.ws.send(Buffer.concat(encodeFrame([m])), { binary: true });
  }

  /** Closes the socket after sending what is queued. */
  close(code = 1000, reason = ''): void {
    if (this.closed) return;
    this.flush();
    this.ws.close(code, closeReason(reason));
    this.ended(undefined);
  }

  /** True once closed. */
  get isClosed(): boolean {
    return this.closed;
  }

  private fail(reason: string): void {
    this.ws.close(1002, closeReason(reason));
    this.ended(reason);
  }

  private ended(reason: SocketCloseReason): void {
    if (this.closed) return;
    this.closed = true;
    this.pending = [];
    this.onClose(reason);
  }
}

/** `reason` cut to the 123 bytes a WebSocket close frame carries (a longer one makes `ws` throw). */
function closeReason(reason: string): string {
  let out = reason;
  while (Buffer.byteLength(out) > 123) out = out.slice(0, -1);
  return out;
}
