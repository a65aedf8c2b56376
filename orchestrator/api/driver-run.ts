/**
 * The driver's side of its run on the dashboard (Runs tab): it tells the head its script and
 * pid, sends what it prints (stdout and stderr, teed: the terminal still shows everything), and
 * says how it ended: `shutdown()` is a success; a process that exits with a non-zero code or an
 * uncaught error is a failure. A driver that vanishes without either shows as disconnected.
 */
import type { JobUpdate } from '../protocol/messages.ts';
import type { CoreRuntime } from './runtime.ts';

/** Printed output is sent at most this often. */
const OUTPUT_FLUSH_MS = 250;
/** Output characters sent per flush at most (the head keeps the last lines anyway). */
const OUTPUT_CHARS_PER_FLUSH = 64 * 1024;

type Write = typeof process.stdout.write;
type Chunk = { stream: 'stdout' | 'stderr'; text: string };

/** A tracked driver run: ends it once. */
export interface DriverRun {
  /** Sends the rest of the output and `succeeded` (or `failed` when the process already set a non-zero exit code), and stops teeing. */
  end(): void;
}

/** Starts tracking the driver bound to `rt` (called by `init()`). */
export function trackDriverRun(rt: CoreRuntime): DriverRun {
  let pending: Chunk[] = [];
  let pendingChars = 0;
  let timer: NodeJS.Timeout | undefined;
  let sending = false;
  let lastError: string | undefined;
  let ended = false;
  const send = (u: JobUpdate) => {
    // Whatever the head or the transport prints while it handles this must not come back here.
    sending = true;
    try {
      rt.post({ op: 'job-update', ...u });
    } catch {
      // A closed connection: the head already saw the driver go.
    } finally {
      sending = false;
    }
  };
  const takeOutput = (): JobUpdate['output'] => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    const out = pending;
    pending = [];
    pendingChars = 0;
    return out.length > 0 ? out : undefined;
  };
  const flush = () => {
    const output = takeOutput();
    if (output) send({ output });
  };
  const tee = (stream: 'stdout' | 'stderr', original: Write): Write =>
    function (this: unknown, chunk: unknown, ...rest: unknown[]) {
      if (!sending && !ended && pendingChars < OUTPUT_CHARS_PER_FLUSH) {
        const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8');
        pending.push({ stream, text: text.slice(0, OUTPUT_CHARS_PER_FLUSH - pendingChars) });
        pendingChars += text.length;
        if (!timer) {
          timer = setTimeout(flush, OUTPUT_FLUSH_MS);
          timer.unref();
        }
      }
      return (original as (...a: unknown[]) => boolean).call(this, chunk, ...rest);
    } as Write;
  const originals = { stdout: process.stdout.write, stderr: process.stderr.write };
  process.stdout.write = tee('stdout', originals.stdout);
  process.stderr.write = tee('stderr', originals.stderr);
  const onError = (err: Error) => {
    lastError = err instanceof Error ? (err.stack ?? err.message) : String(err);
  };
  const onExit = (code: number) => {
    // The process is going: send synchronously what is left (a socket write of a small frame goes out at once).
    if (ended) return;
    ended = true;
    restore();
    // Node prints an uncaught error itself, past the stream: the run's output shows it as the terminal did.
    if (code !== 0 && lastError) pending.push({ stream: 'stderr', text: `${lastError}\n` });
    send({
      output: takeOutput(),
      status: code === 0 ? 'succeeded' : 'failed',
      exitCode: code,
      error: code === 0 ? undefined : (lastError ?? `exit code ${code}`),
    });
    rt.flush?.();
  };
  const restore = () => {
    process.stdout.write = originals.stdout;
    process.stderr.write = originals.stderr;
    process.off('uncaughtExceptionMonitor', onError);
    process.off('exit', onExit);
  };
  process.on('uncaughtExceptionMonitor', onError);
  process.on('exit', onExit);
  send({ script: process.argv[1], pid: process.pid });
  return {
    end() {
      if (ended) return;
      ended = true;
      restore();
      const code = typeof process.exitCode === 'number' ? process.exitCode : 0;
      send({
        output: takeOutput(),
        status: code === 0 ? 'succeeded' : 'failed',
        exitCode: code === 0 ? undefined : code,
        error: code === 0 ? undefined : (lastError ?? `exit code ${code}`),
      });
    },
  };
}
