/**
 * A circuit task's worker hands its circuit to the backend's batcher (batch-server.ts) and
 * relays what comes back: reports and log lines to the task, then its result or error.
 * Cancelling the task sends `cancel`, so the circuit leaves its batch or its result is dropped.
 */
import { connect } from 'node:net';
import { createInterface } from 'node:readline';
import { BackendError, fromErrorInfo } from '../../../orchestrator/core/errors.ts';
import type { CircuitResult } from '../run-types.ts';
import type { FromBatcher, ToBatcher } from './batch-wire.ts';

/** What the task lends the client: cancellation, task facts and its log. */
export interface BatchHooks {
  readonly signal: AbortSignal;
  report(info: Record<string, string | number | boolean>): void;
  log(line: string): void;
}

/** Sends `call` to the batcher listening on `path`; resolves to the circuit's result. */
export function runThroughBatcher(
  backend: string,
  path: string,
  call: Extract<ToBatcher, { type: 'run' }>,
  hooks: BatchHooks,
): Promise<CircuitResult> {
  return new Promise<CircuitResult>((resolve, reject) => {
    if (hooks.signal.aborted) return reject(hooks.signal.reason);
    let settled = false;
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      hooks.signal.removeEventListener('abort', onAbort);
      fn();
    };
    const socket = connect(path);
    const onAbort = () => {
      if (!socket.destroyed) socket.write(`${JSON.stringify({ type: 'cancel' } satisfies ToBatcher)}\n`);
      finish(() => reject(hooks.signal.reason));
      socket.end();
    };
    hooks.signal.addEventListener('abort', onAbort, { once: true });
    socket.on('connect', () => socket.write(`${JSON.stringify(call)}\n`));
    socket.on('error', (err) =>
      finish(() =>
        reject(
          new BackendError(
            backend,
            `lost the link to the backend's circuit batcher (${err.message}); the head may have stopped: run the task again`,
            true,
          ),
        ),
      ),
    );
    socket.on('close', () =>
      finish(() =>
        reject(
          new BackendError(
            backend,
            "the backend's circuit batcher closed the link before the circuit's result came",
            true,
          ),
        ),
      ),
    );
    createInterface({ input: socket }).on('line', (line) => {
      const m = JSON.parse(line) as FromBatcher;
      if (m.type === 'report') hooks.report(m.info);
      else if (m.type === 'log') hooks.log(m.line);
      else if (m.type === 'result') finish(() => resolve(m.result));
      else if (m.type === 'error') finish(() => reject(fromErrorInfo(m.error)));
    });
  });
}
