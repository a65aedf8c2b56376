/**
 * The batch server's handling of one `estimate` message (batch-server.ts): the Estimator task's
 * circuit and observables are parsed here and run through the batcher's Estimator batches; its
 * reports, log lines and outcome (`estimated` or `error`) go back over the task's connection.
 */
import { toErrorInfo } from '../../../orchestrator/core/errors.ts';
import type { EstimatorRun } from '../estimator-run.ts';
import { parseObservables } from '../observables.ts';
import { parseQasm } from '../qasm/index.ts';
import type { FromBatcher, ToBatcher } from './batch-wire.ts';
import type { CircuitBatcher } from './circuit-batcher.ts';

/** Runs `m` in `batcher` and sends its outcome; resolves once it was sent. */
export async function serveEstimate(
  batcher: CircuitBatcher,
  m: Extract<ToBatcher, { type: 'estimate' }>,
  signal: AbortSignal,
  send: (m: FromBatcher) => void,
): Promise<void> {
  try {
    const circuit = parseQasm(m.source, m.params);
    const run: EstimatorRun = {
      circuit,
      source: m.source,
      observables: parseObservables(m.observables, circuit.numQubits),
      shots: m.shots,
      precision: m.precision,
      device: m.device,
      resumeJobId: m.resumeJobId,
      signal,
      report: (info) => send({ type: 'report', info }),
      log: (line) => send({ type: 'log', line }),
    };
    send({ type: 'estimated', result: await batcher.estimate(run) });
  } catch (err) {
    send({ type: 'error', error: toErrorInfo(err) });
  }
}
