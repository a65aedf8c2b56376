/**
 * Entry of a worker process. Speaks the protocol with its agent on fd 3; stdout and stderr
 * are the task's output, captured by the agent.
 */
import { Socket } from 'node:net';
import { Channel } from '../protocol/channel.ts';
import { installRuntime } from '../api/runtime.ts';
import { WorkerRuntime } from './worker-runtime.ts';
import { TaskExecutor } from './task-executor.ts';

const info = JSON.parse(process.env.ORRERY_WORKER ?? '{}') as { nodeId?: string; backend?: string; workerId?: string };
const socket = new Socket({ fd: 3, readable: true, writable: true });
const channel = new Channel(socket, socket, 'agent');
const runtime = new WorkerRuntime(channel, {
  jobId: '',
  taskId: '',
  nodeId: info.nodeId ?? '',
  backend: info.backend ?? '',
  assignedResources: {},
  namespace: '',
});
installRuntime(runtime);
const executor = new TaskExecutor(runtime, (m) => channel.send(m));

process.on('unhandledRejection', (err) => {
  process.stderr.write(`unhandled rejection in worker ${process.pid}: ${(err as Error)?.stack ?? String(err)}\n`);
});

channel.listen(
  (m) => {
    switch (m.type) {
      case 'run':
        executor.run(m);
        break;
      case 'cancel':
        executor.cancel(m.taskId);
        break;
      case 'reply':
        runtime.reply(m);
        break;
      case 'shutdown':
        channel.flush();
        process.exit(0);
      default:
        break;
    }
  },
  () => process.exit(0),
);
