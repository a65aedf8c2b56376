/**
 * The head's one request dispatcher (orchestrator/head/head-requests.ts) on a head without
 * nodes: a request posted by the embedded driver and the same request arriving as a message
 * with requestId 0 (a client driver's or a task's post) fail what they were to make the same
 * way; a request with a requestId gets its error as a reply.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { Head, type Caller } from '../../orchestrator/head/head.ts';
import type { ActorDescriptor } from '../../orchestrator/core/serialization.ts';
import type {
  ClientRequest,
  Message,
  NormalizedActorOptions,
  NormalizedTaskOptions,
  ObjectResult,
  TaskSubmission,
} from '../../orchestrator/protocol/messages.ts';

/** A reply channel that records what the dispatcher sends. */
class RecordingChannel {
  readonly sent: Message[] = [];
  send(m: Message): void {
    this.sent.push(m);
  }
}

const lines: string[] = [];
// No node ever joins: work waits for one instead of failing as unschedulable.
const head = new Head({ log: (l) => lines.push(l), infeasibleGraceMs: 600_000 });
after(() => head.shutdown());

const OPTIONS: NormalizedTaskOptions = { resources: {}, strategy: 'DEFAULT', maxRetries: 0, retryExceptions: false };
const ACTOR: NormalizedActorOptions = {
  detached: false,
  getIfExists: false,
  maxRestarts: 0,
  maxTaskRetries: 0,
  maxConcurrency: 1,
};
let next = 0;
const id = (what: string) => `${what}-${++next}`;

function creation(actorId: string, name: string): TaskSubmission {
  const actor: ActorDescriptor = { actorId, className: 'Box', methods: ['get'], asyncMethods: false };
  return {
    taskId: id('create'),
    name: 'Box.constructor',
    kind: 'actor-create',
    actorId,
    args: [],
    options: OPTIONS,
    actorOptions: { ...ACTOR, name },
    actor,
  };
}

function call(actorId: string): TaskSubmission {
  return {
    taskId: id('call'),
    name: 'Box.get',
    kind: 'actor-call',
    actorId,
    method: 'get',
    args: [],
    options: OPTIONS,
  };
}

async function outcome(objectId: string, caller: Caller): Promise<ObjectResult> {
  const results = await head.requests.call({ op: 'get', ids: [objectId], timeoutMs: 5000 }, caller);
  assert.ok(Array.isArray(results), `object ${objectId} did not settle`);
  return results[0]!;
}

/** The two ways a posted request reaches the dispatcher. */
const POSTS: Record<string, (req: ClientRequest, caller: Caller) => void> = {
  'embedded post': (req, caller) => head.requests.post(req, caller),
  'request message with requestId 0': (req, caller) => {
    const channel = new RecordingChannel();
    head.requests.answer({ type: 'request', requestId: 0, callerTaskId: '', req }, caller, channel);
    assert.deepEqual(channel.sent, [], 'a post gets no reply');
  },
};

for (const [how, post] of Object.entries(POSTS)) {
  test(`${how}: a duplicate actor name makes every call on the second handle fail with ActorDiedError`, async () => {
    const caller: Caller = { jobId: head.startJob() };
    const name = id('taken');
    post({ op: 'submit', task: creation(id('first'), name) }, caller);
    const refused = id('second');
    post({ op: 'submit', task: creation(refused, name) }, caller);
    for (let i = 0; i < 2; i++) {
      const c = call(refused);
      post({ op: 'submit', task: c }, caller);
      const r = await outcome(c.taskId, caller);
      assert.ok(!r.ok);
      assert.equal(r.error.name, 'ActorDiedError');
      assert.match(
        r.error.message,
        new RegExp(
          `^actor Box \\(${refused}\\) is dead: its creation failed: an actor named "${name}" already exists in namespace "anonymous-`,
        ),
      );
    }
    assert.ok(
      lines.some(
        (l) =>
          l.includes(`an actor named "${name}" already exists`) &&
          l.endsWith('calls on the handle of actor Box raise ActorDiedError'),
      ),
      lines.join('\n'),
    );
  });

  test(`${how}: a malformed submission fails its result object, and an invalid placement group its ready object`, async () => {
    const caller: Caller = { jobId: head.startJob() };
    const broken = { taskId: id('broken'), name: 'broken', kind: 'task', args: [] } as unknown as TaskSubmission;
    post({ op: 'submit', task: broken }, caller);
    const r = await outcome(broken.taskId, caller);
    assert.ok(!r.ok);
    assert.equal(r.error.name, 'TypeError');
    const readyId = id('ready');
    post(
      { op: 'pg-create', placementGroupId: id('pg'), readyId, bundles: [], strategy: 'PACK', detached: false },
      caller,
    );
    const ready = await outcome(readyId, caller);
    assert.ok(!ready.ok);
    assert.match(ready.error.message, /bundles must be a non-empty array/);
  });
}

test('a request with a requestId gets its error as a reply; an op the head does not know (even __proto__) is refused, not looked up on a prototype', async () => {
  const caller: Caller = { jobId: head.startJob() };
  const channel = new RecordingChannel();
  head.requests.answer(
    { type: 'request', requestId: 7, callerTaskId: '', workerId: 'w1', req: { op: 'get-actor', name: 'nobody' } },
    caller,
    channel,
  );
  for (const op of ['__proto__', 'toString', 'no-such-op']) {
    head.requests.answer(
      { type: 'request', requestId: 8, callerTaskId: '', req: { op } as unknown as ClientRequest },
      caller,
      channel,
    );
  }
  await new Promise((r) => setImmediate(r));
  const [notFound, ...unknown] = channel.sent as Extract<Message, { type: 'reply' }>[];
  assert.deepEqual([notFound!.requestId, notFound!.workerId, notFound!.ok], [7, 'w1', false]);
  assert.match(notFound!.error!.message, /no live actor named "nobody"/);
  assert.deepEqual(
    unknown.map((m) => [m.ok, m.error?.name]),
    [
      [false, 'TypeError'],
      [false, 'TypeError'],
      [false, 'TypeError'],
    ],
  );
  assert.ok(unknown.every((m) => /^unknown request op/.test(m.error!.message)));
});

test('call resolves with the reply its op names: a State API query answers its own rows', async () => {
  const caller: Caller = { jobId: head.startJob() };
  const nodes = await head.requests.call({ op: 'state', query: 'nodes' }, caller);
  assert.deepEqual(nodes, []);
  const total = await head.requests.call({ op: 'state', query: 'cluster-resources' }, caller);
  assert.deepEqual(total, {});
  await assert.rejects(head.requests.call({ op: 'get-actor', name: 'nobody' }, caller), /no live actor named "nobody"/);
});

test("a reconnected driver's replayed submission is taken only when the head does not know the task", () => {
  const caller: Caller = { jobId: head.startJob() };
  const task: TaskSubmission = {
    taskId: id('replayed'),
    name: 'f',
    kind: 'task',
    codeHash: 'h-replay',
    code: { kind: 'function', name: 'f', source: '() => 1', hash: 'h-replay' },
    args: [],
    options: OPTIONS,
  };
  head.requests.post({ op: 'submit', task, replay: true }, caller);
  const first = head.queries.task(task.taskId);
  assert.equal(first?.spec, task, 'an unknown replayed task is submitted');
  // Sent again (a second reconnect): the head keeps the task it has, not a second one.
  head.requests.post({ op: 'submit', task: { ...task, name: 'again' }, replay: true }, caller);
  assert.equal(head.queries.task(task.taskId)?.spec.name, 'f');
});
