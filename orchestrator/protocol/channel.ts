/**
 * A message channel over a byte stream (child stdio, an SSH channel, a socket). Messages sent
 * in one turn of the event loop go out as one frame, which is what makes small tasks cheap.
 */
import type { Readable, Writable } from 'node:stream';
import { encodeFrame, FrameDecoder, FrameError } from './frames.ts';
import { isMessage, type Message } from './messages.ts';

/** Why a channel closed: `undefined` for a clean end of stream. */
export type CloseReason = string | undefined;

/** Batching, framed, typed message channel. */
export class Channel {
  private pending: Message[] = [];
  private scheduled = false;
  private blocked = false;
  private closed = false;
  private readonly decoder = new FrameDecoder();
  private onMessage: ((m: Message) => void) | undefined;
  /** Messages that arrived before `listen` (nothing is dropped while the owner sets up). */
  private backlog: Message[] = [];
  private onClose: (reason: CloseReason) => void = () => {};

  constructor(
    private readonly input: Readable,
    private readonly output: Writable,
    readonly label: string,
  ) {
    input.on('data', (chunk: Buffer) => this.receive(chunk));
    input.on('end', () => this.close(this.decoder.partial ? 'stream ended inside a frame' : undefined));
    input.on('error', (err) => this.close(`read error: ${err.message}`));
    output.on('error', (err) => this.close(`write error: ${err.message}`));
    output.on('drain', () => {
      this.blocked = false;
      if (this.pending.length > 0) this.schedule();
    });
    // A stream paused after its preamble was read (see preamble.ts) flows again from here.
    input.resume();
  }

  /** Sets the handler of incoming messages. */
  listen(onMessage: (m: Message) => void, onClose: (reason: CloseReason) => void): void {
    this.onMessage = onMessage;
    this.onClose = onClose;
    const early = this.backlog;
    this.backlog = [];
    for (const m of early) if (!this.closed) onMessage(m);
  }

  /** Queues a message; it goes out with the others of this event-loop turn. */
  send(m: Message): void {
    if (this.closed) return;
    this.pending.push(m);
    if (!this.scheduled && !this.blocked) this.schedule();
  }

  /**
   * Sends what is queued now, synchronously (used before exiting). A batch too large for one
   * frame goes one message per frame; a single message too large for a frame (the values in it
   * were checked, so this is a bug or a peer's limit) closes the channel with the reason rather
   * than throwing into whoever queued it.
   */
  flush(): void {
    if (this.pending.length === 0 || this.closed) return;
    const batch = this.pending;
    this.pending = [];
    let frames: Buffer[][];
    try {
      frames = [encodeFrame(batch)];
    } catch (err) {
      if (!(err instanceof FrameError)) throw err;
      try {
        frames = batch.map((m) => encodeFrame([m]));
      } catch (one) {
        if (!(one instanceof FrameError)) throw one;
        this.close(`cannot send a message: ${one.message}`);
        return;
      }
    }
    const out = this.output as Writable & { cork(): void; uncork(): void };
    out.cork();
    let ok = true;
    for (const bufs of frames) for (const b of bufs) ok = out.write(b);
    out.uncork();
    if (!ok) this.blocked = true;
  }

  /** Closes the channel (idempotent); the close handler runs once with the reason. */
  close(reason?: CloseReason): void {
    if (this.closed) return;
    this.closed = true;
    this.pending = [];
    this.input.removeAllListeners('data');
    this.onClose(reason);
  }

  /** True once closed. */
  get isClosed(): boolean {
    return this.closed;
  }

  private schedule(): void {
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      if (!this.blocked) this.flush();
    });
  }

  private receive(chunk: Buffer): void {
    let batches: unknown[][];
    try {
      batches = this.decoder.push(chunk);
    } catch (err) {
      this.close(err instanceof FrameError ? `malformed frame: ${err.message}` : String(err));
      return;
    }
    for (const batch of batches) {
      for (const m of batch) {
        if (this.closed) return;
        if (!isMessage(m)) {
          this.close(`malformed message: ${describe(m)}`);
          return;
        }
        if (this.onMessage) this.onMessage(m);
        else this.backlog.push(m);
      }
    }
  }
}

function describe(m: unknown): string {
  const s = typeof m === 'object' && m !== null ? JSON.stringify(Object.keys(m)) : String(m);
  return s.length > 80 ? `${s.slice(0, 80)}...` : s;
}
