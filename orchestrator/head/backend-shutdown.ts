/**
 * Shutting backends down independently: each backend's `shutdown()` runs on its own, a
 * backend that throws (even synchronously) or hangs past the timeout does not keep the
 * others from shutting down, and every failure is collected for the caller to report.
 */
import type { Backend } from '../../backends/types.ts';
import type { BackendShutdownFailure } from '../core/errors.ts';

/** How long one backend's shutdown may take before it is given up on (a Slurm scancel over SSH fits easily). */
export const BACKEND_SHUTDOWN_TIMEOUT_MS = 30_000;

/** Shuts every backend down at once; resolves, after all finished or timed out, with the failures in backend order. */
export async function shutDownBackends(
  backends: Iterable<Backend>,
  timeoutMs = BACKEND_SHUTDOWN_TIMEOUT_MS,
): Promise<BackendShutdownFailure[]> {
  const outcomes = await Promise.all([...backends].map((b) => shutDownOne(b, timeoutMs)));
  return outcomes.filter((f): f is BackendShutdownFailure => f !== undefined);
}

async function shutDownOne(backend: Backend, timeoutMs: number): Promise<BackendShutdownFailure | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`did not finish shutting down within ${timeoutMs / 1000} s`)), timeoutMs);
  });
  try {
    // Called from a promise so that a shutdown that throws at once is a rejection like any other.
    await Promise.race([Promise.resolve().then(() => backend.shutdown()), late]);
    return undefined;
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    return { backend: backend.name, reason: reason.replace(/\s*\n\s*/g, ' ') };
  } finally {
    clearTimeout(timer);
  }
}
