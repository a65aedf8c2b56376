/**
 * Entry of a worker process. Speaks the protocol with its agent on fd 3 and, on local nodes,
 * also over a direct link to the head (a Unix socket), which carries runs and results without
 * the agent's relay once the head knows which worker holds a lease. stdout and stderr are the
 * task's output, captured by the agent.
 */
import { Socket, createConnection } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Channel } from '../protocol/channel.ts';
import type { Message } from '../protocol/messages.ts';
import { installRuntime } from '../api/runtime.ts';
import { WorkerRuntime } from './worker-runtime.ts';
import { TaskExecutor } from './task-executor.ts';
import { WorkerObjects } from './worker-objects.ts';
import { ShmFolder } from '../core/shared-memory.ts';
import { DirectLinkTasks } from './direct-link-tasks.ts';
import { RefTracker } from '../api/ref-tracker.ts';

const info = JSON.parse(process.env.ORRERY_WORKER ?? '{}') as {
  nodeId?: string;
  backend?: string;
  workerId?: string;
  headSocket?: string;
  concurrentTasks?: boolean;
};
const workerId = info.workerId ?? String(process.pid);
const linkSecret = process.env.ORRERY_WORKER_LINK_SECRET;
// Task code runs in this process, and the programs it starts inherit its environment: none of them needs the secret.
delete process.env.ORRERY_WORKER_LINK_SECRET;
const agentSocket = new Socket({ fd: 3, readable: true, writable: true });
const agent = new Channel(agentSocket, agentSocket, 'agent');
let direct: Channel | undefined;

/** What the direct link carried that must not be lost with the head (see direct-link-tasks.ts). */
const linkTasks = new DirectLinkTasks();

/** Results and requests take the direct link when there is one. */
const send = (m: Message) => {
  if (!direct || direct.isClosed) return agent.send(m);
  linkTasks.sending(m);
  direct.send(m);
};

const shmDir = process.env.ORRERY_SHM_DIR;
const objects = new WorkerObjects((m) => agent.send(m), shmDir ? ShmFolder.join(shmDir) : undefined);
const runtime = new WorkerRuntime(
  send,
  workerId,
  {
    jobId: '',
    taskId: '',
    nodeId: info.nodeId ?? '',
    backend: info.backend ?? '',
    assignedResources: {},
    namespace: '',
  },
  objects,
);
installRuntime(runtime);
// Holds and releases of this worker's refs go to the head in batches, in order with its other requests.
const refs = new RefTracker((hold, release) => runtime.post({ op: 'refs', hold, release })).install();
const executor = new TaskExecutor(runtime, send, workerId, objects, undefined, info.concurrentTasks === true);
const idleGc = idleCollector();

captureTaskOutput();

process.on('unhandledRejection', (err) => {
  process.stderr.write(`unhandled rejection in worker ${process.pid}: ${(err as Error)?.stack ?? String(err)}\n`);
});

function onMessage(m: Message): void {
  switch (m.type) {
    case 'run':
      idleGc.refresh();
      return executor.run(m);
    case 'cancel':
      return executor.cancel(m.taskId);
    case 'reply':
      return runtime.reply(m);
    case 'object':
      return objects.arrived(m);
    case 'shutdown':
      agent.flush();
      return process.exit(0);
    default:
      return;
  }
}

/** Runs start only once the direct link is up (or known to be unavailable), so every result of a lease takes one path. */
function listenToAgent(): void {
  agent.listen(onMessage, () => process.exit(0));
}

if (info.headSocket && info.nodeId && linkSecret) {
  const sock = createConnection(info.headSocket);
  sock.once('connect', () => {
    const ch = new Channel(sock, sock, 'head');
    ch.listen(
      (m) => {
        if (m.type === 'run') linkTasks.took(m);
        onMessage(m);
      },
      // The head is gone (or the link broke): the agent reports what this worker holds to the next head.
      () => {
        const held = linkTasks.lost(workerId);
        if (held) agent.send(held);
      },
    );
    ch.send({ type: 'worker-hello', nodeId: info.nodeId!, workerId, secret: linkSecret });
    direct = ch;
    listenToAgent();
  });
  sock.once('error', () => {
    if (!direct) listenToAgent();
  });
} else {
  listenToAgent();
}

/**
 * Once the worker has run nothing for a second, one garbage collection: refs its tasks made and
 * dropped are then released (and the head frees what nobody else holds) instead of waiting for
 * an allocation-driven collection that an idle process may never have. `gc` is taken from a
 * separate context, so task code does not see it.
 */
function idleCollector(): NodeJS.Timeout {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const timer = setTimeout(() => {
    if (executor.busy) timer.refresh();
    else if (refs.held > 0) gc();
  }, 1000);
  timer.unref();
  return timer;
}

/**
 * What a task writes to stdout/stderr goes to the head as log messages tagged with the task's id
 * (from the async context it was written in), so late output is never attributed to the next
 * task of the lease, with the task's secret values masked. Output outside any task keeps going
 * to the pipe the agent reads.
 */
function captureTaskOutput(): void {
  for (const name of ['stdout', 'stderr'] as const) {
    const stream = process[name];
    const write = stream.write.bind(stream) as (...a: unknown[]) => boolean;
    stream.write = ((chunk: string | Uint8Array, encoding?: unknown, cb?: unknown) => {
      const scope = runtime.scope.getStore();
      const taskId = scope?.context.taskId;
      if (!taskId) return write(chunk, encoding, cb);
      const raw = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
      const text = scope.mask ? scope.mask(raw) : raw;
      agent.send({ type: 'log', workerId, taskId, attempt: scope.attempt, stream: name, text });
      const done = typeof encoding === 'function' ? encoding : cb;
      if (typeof done === 'function') process.nextTick(done as () => void);
      return true;
    }) as typeof stream.write;
  }
}
