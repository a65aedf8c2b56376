/**
 * The batcher's end of the worker link: a Unix socket in a private folder (mode 0700, under
 * Orrery's runtime root) that the quantum backend's workers connect to, one connection per
 * circuit task. The circuit is parsed here and run through the backend's {@link CircuitBatcher};
 * the task's reports, log lines and outcome go back over the same connection. A closed
 * connection (the worker died or its task was cancelled) aborts the circuit.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { TaskCancelledError, toErrorInfo } from '../../../orchestrator/core/errors.ts';
import { ensurePrivateDir, runtimeRoot, socketFileName } from '../../../orchestrator/core/runtime-dir.ts';
import { parseQasm } from '../qasm/index.ts';
import type { CircuitRun } from '../run-types.ts';
import type { FromBatcher, ToBatcher } from './batch-wire.ts';
import type { CircuitBatcher } from './circuit-batcher.ts';
import { serveEstimate } from './estimate-serve.ts';

/** A listening batch server. */
export interface BatchServer {
  /** The socket path workers connect to (given them in BATCHER_SOCKET_ENV). */
  readonly path: string;
  close(): Promise<void>;
}

/**
 * Starts a server for `batcher` (backend `name`, used in error messages). With `durableDir` (a
 * head service whose agents outlive it) the socket has a stable name there, so the agent a
 * restarted head reattaches to still reaches the new head's batcher; otherwise it lives in a
 * fresh private folder.
 */
export async function startBatchServer(
  name: string,
  batcher: CircuitBatcher,
  durableDir?: string,
): Promise<BatchServer> {
  const dir = durableDir
    ? ensurePrivateDir(durableDir)
    : mkdtempSync(join(ensurePrivateDir(runtimeRoot()), 'qpu-batch-'));
  const path = join(dir, socketFileName(`batch-${name}`));
  // A socket a previous head left at the stable name: this head serves it now.
  if (durableDir) rmSync(path, { force: true });
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    serve(name, batcher, socket);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => resolve());
  });
  return {
    path,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(durableDir ? path : dir, { recursive: true, force: true });
    },
  };
}

function serve(name: string, batcher: CircuitBatcher, socket: Socket): void {
  const abort = new AbortController();
  const send = (m: FromBatcher) => {
    // Writable is false once the link ended (the worker cancelled or went away): later reports go nowhere.
    if (socket.writable) socket.write(`${JSON.stringify(m)}\n`);
  };
  socket.on('close', () => abort.abort(new TaskCancelledError('', `circuit on ${name}`)));
  socket.on('error', () => {});
  let started = false;
  // readline passes its input's errors on as its own 'error': the socket's handler above covers them.
  createInterface({ input: socket })
    .on('error', () => {})
    .on('line', (line) => {
      let m: ToBatcher;
      try {
        m = JSON.parse(line) as ToBatcher;
      } catch {
        socket.destroy();
        return;
      }
      if (m.type === 'cancel') return abort.abort(new TaskCancelledError('', `circuit on ${name}`));
      if (m.type === 'estimate' && !started) {
        started = true;
        return void serveEstimate(batcher, m, abort.signal, send).finally(() => socket.end());
      }
      if (m.type !== 'run' || started) return;
      started = true;
      let run: CircuitRun;
      try {
        run = {
          circuit: parseQasm(m.source, m.sweep?.[0] ?? m.params),
          ...(m.sweep && { sweep: m.sweep.map((p) => parseQasm(m.source, p)) }),
          source: m.source,
          shots: m.shots,
          device: m.device,
          resumeJobId: m.resumeJobId,
          ...(m.params !== undefined && { params: m.params }),
          ...(m.ibmOptions !== undefined && { ibmOptions: m.ibmOptions }),
          ...(m.braketOptions !== undefined && { braketOptions: m.braketOptions }),
          signal: abort.signal,
          report: (info) => send({ type: 'report', info }),
          log: (l) => send({ type: 'log', line: l }),
        };
      } catch (err) {
        send({ type: 'error', error: toErrorInfo(err) });
        socket.end();
        return;
      }
      const done: Promise<FromBatcher> = run.sweep
        ? batcher.submitSweep({ ...run, sweep: run.sweep }).then((results) => ({ type: 'results', results }))
        : batcher.submit(run).then((result) => ({ type: 'result', result }));
      done.then(
        (reply) => {
          send(reply);
          socket.end();
        },
        (err: unknown) => {
          send({ type: 'error', error: toErrorInfo(err) });
          socket.end();
        },
      );
    });
}
