/**
 * One line sent before the frames of a byte stream: an agent's spec on its stdin (so it is in no
 * command line), or a durable agent's secret on its socket. The line is read here and the bytes
 * after it are left on the stream for the Channel that reads the frames.
 */
import type { Readable } from 'node:stream';

/** Limits of one preamble line. */
export interface PreambleOptions {
  /** What the line is, for errors ("the agent spec"). */
  readonly what: string;
  /** Longest line accepted (bytes, without the newline). */
  readonly maxBytes: number;
  /** How long the line may take to arrive (ms). */
  readonly timeoutMs: number;
}

/**
 * Reads one `\n`-terminated line from `input` and pauses it; the rest stays buffered for the
 * next reader (a Channel resumes the stream). Rejects when the stream ends, the line is too long
 * or it does not come in time.
 */
export function readPreamble(input: Readable, opts: PreambleOptions): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf: Buffer = Buffer.alloc(0);
    const finish = (err: Error | undefined, line?: string) => {
      clearTimeout(timer);
      input.off('data', onData);
      input.off('end', onEnd);
      input.off('error', onError);
      if (err) reject(err);
      else resolve(line!);
    };
    const onData = (chunk: Buffer) => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      const nl = buf.indexOf(10);
      if (nl < 0 ? buf.length > opts.maxBytes : nl > opts.maxBytes)
        return finish(new Error(`${opts.what} is longer than ${opts.maxBytes} bytes`));
      if (nl < 0) return;
      input.pause();
      if (nl + 1 < buf.length) input.unshift(buf.subarray(nl + 1));
      finish(undefined, buf.subarray(0, nl).toString('utf8'));
    };
    const onEnd = () => finish(new Error(`the stream ended before ${opts.what} arrived`));
    const onError = (err: Error) => finish(new Error(`cannot read ${opts.what}: ${err.message}`));
    const timer = setTimeout(
      () => finish(new Error(`${opts.what} did not arrive within ${opts.timeoutMs / 1000} s`)),
      opts.timeoutMs,
    );
    timer.unref();
    input.on('data', onData);
    input.once('end', onEnd);
    input.once('error', onError);
  });
}
