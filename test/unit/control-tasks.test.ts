/** TaskManager and LeaseDispatcher on fake nodes and a fake clock: dependencies, retries, timeouts, leases. */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { memoryKilled } from '../../orchestrator/control/memory-kills.ts';
import { ControlHarness, ref } from './fakes/control-harness.ts';

let h: ControlHarness;
const harness = (cpus = 2): ControlHarness => {
  h = new ControlHarness();
  h.node('n1', { CPU: cpus });
  return h;
};
afterEach(() => h?.close());

describe('control: dependency resolution', () => {
  it('a task waits for its argument refs and runs with their values', () => {
    harness();
    const a = h.submit('a');
    const b = h.submit('b', {}, [ref(a), 7]);
    assert.equal(h.runCount(b), 0, 'b is not sent before a is done');
    assert.equal(h.record(b).state, 'PENDING_ARGS_AVAIL');
    h.finish(a, 35);
    assert.equal(h.runCount(b), 1);
    assert.equal(h.record(b).state, 'RUNNING');
    h.finish(b, 42);
    assert.deepEqual(h.outcome(b), { value: 42 });
  });

  it('a task with several pending arguments runs once the last is done', () => {
    harness();
    const a = h.submit('a');
    const b = h.submit('b');
    const c = h.submit('c', {}, [ref(a), ref(b)]);
    h.finish(a);
    assert.equal(h.runCount(c), 0);
    h.finish(b);
    assert.equal(h.runCount(c), 1);
  });

  it('a failed dependency fails the task (and its dependents) without running it', () => {
    harness();
    const a = h.submit('a', { maxRetries: 0 });
    const b = h.submit('b', {}, [ref(a)]);
    const c = h.submit('c', {}, [ref(b)]);
    h.throw(a, 'ValueError');
    assert.equal(h.errorOf(a), 'TaskError');
    assert.equal(h.errorOf(b), 'TaskError', "the dependency's error propagates");
    assert.equal(h.errorOf(c), 'TaskError');
    assert.equal(h.runCount(b) + h.runCount(c), 0);
  });

  it('an argument that no object in this cluster has fails the task with ObjectLostError', () => {
    harness();
    const b = h.submit('b', {}, [ref('no-such-object')]);
    assert.equal(h.errorOf(b), 'ObjectLostError');
  });
});

describe('control: retries and their limits', () => {
  it('a worker crash is retried up to maxRetries, then fails with WorkerCrashedError', () => {
    harness();
    const t = h.submit('t', { maxRetries: 2 });
    h.workerDied(t);
    h.workerDied(t);
    assert.equal(h.errorOf(t), 'pending');
    assert.equal(h.record(t).attempt, 2);
    h.workerDied(t);
    assert.equal(h.errorOf(t), 'WorkerCrashedError');
    assert.equal(h.runCount(t), 3, 'one run and two retries');
  });

  it('each retry says why it runs: the previous attempt lost its worker or node, or threw', () => {
    harness();
    const t = h.submit('t', { maxRetries: 2, retryExceptions: true });
    assert.equal(h.record(t).retryReason, undefined);
    h.workerDied(t);
    assert.deepEqual(h.record(t).retryReason?.name, 'WorkerCrashedError');
    assert.match(h.record(t).retryReason!.message, /^the previous attempt's worker or node was lost: /);
    h.throw(t, 'ValueError');
    assert.match(h.record(t).retryReason!.message, /^the previous attempt threw ValueError/);
  });

  it('maxRetries: 0 fails on the first crash', () => {
    harness();
    const t = h.submit('t', { maxRetries: 0 });
    h.workerDied(t);
    assert.equal(h.errorOf(t), 'WorkerCrashedError');
    assert.equal(h.runCount(t), 1);
  });

  it('an application error is not retried by default', () => {
    harness();
    const t = h.submit('t', { maxRetries: 3 });
    h.throw(t, 'ValueError');
    assert.equal(h.errorOf(t), 'TaskError');
    assert.equal(h.runCount(t), 1);
  });

  it('retryExceptions: true retries application errors up to maxRetries', () => {
    harness();
    const t = h.submit('t', { maxRetries: 2, retryExceptions: true });
    h.throw(t, 'ValueError');
    h.throw(t, 'ValueError');
    assert.equal(h.errorOf(t), 'pending');
    h.throw(t, 'ValueError');
    assert.equal(h.errorOf(t), 'TaskError');
    assert.equal(h.runCount(t), 3);
  });

  it('retryExceptions as a list retries only the errors named (or their subclasses)', () => {
    harness();
    const t = h.submit('t', { maxRetries: 3, retryExceptions: ['ValueError'] });
    h.throw(t, 'BadValue', ['BadValue', 'ValueError', 'Error']);
    assert.equal(h.runCount(t), 2, 'a subclass of a listed error is retried');
    h.throw(t, 'TypeError');
    assert.equal(h.errorOf(t), 'TaskError');
    assert.equal(h.runCount(t), 2, 'an error not listed is not');
  });

  it('a succeeding retry resolves the object; reports of an older attempt are ignored', () => {
    harness();
    const t = h.submit('t', { maxRetries: 1 });
    const first = h.lastRun(t)!.attempt;
    h.workerDied(t);
    h.tasks.done(t, first, { data: new Uint8Array(0), marked: false });
    assert.equal(h.errorOf(t), 'pending', 'the stale attempt changes nothing');
    h.finish(t, 'ok');
    assert.deepEqual(h.outcome(t), { value: 'ok' });
  });

  it('a retry after a memory kill waits for its backoff on the clock', () => {
    harness();
    const t = h.submit('t', { maxRetries: 2 });
    memoryKilled(h.tasks, h.record(t), { usedBytes: 2 ** 31, limitBytes: 2 ** 30 }, () => {});
    assert.equal(h.runCount(t), 1);
    assert.equal(h.record(t).state, 'PENDING_ARGS_AVAIL');
    h.clock.advance(499);
    assert.equal(h.runCount(t), 1, 'not before the 500 ms backoff');
    h.clock.advance(1);
    assert.equal(h.runCount(t), 2);
    memoryKilled(h.tasks, h.record(t), { usedBytes: 2 ** 31, limitBytes: 2 ** 30 }, () => {});
    h.clock.advance(999);
    assert.equal(h.runCount(t), 2, 'the backoff doubles');
    h.clock.advance(1);
    assert.equal(h.runCount(t), 3);
  });

  it('a task cancelled during its backoff is not queued again', () => {
    harness();
    const t = h.submit('t', { maxRetries: 2 });
    h.tasks.workerDied(h.record(t), 'killed', 500);
    h.tasks.cancel(t, false, true);
    h.clock.advance(1000);
    assert.equal(h.runCount(t), 1);
    assert.equal(h.errorOf(t), 'TaskCancelledError');
  });
});

describe('control: timeouts and leases', () => {
  it('a task running past timeoutMs is killed and fails with TimeoutError; it is not retried', () => {
    harness();
    const t = h.submit('t', { timeoutMs: 1000, maxRetries: 3 });
    h.clock.advance(999);
    assert.equal(h.errorOf(t), 'pending');
    h.clock.advance(1);
    assert.deepEqual(h.cancels, [{ taskId: t, force: true }]);
    assert.equal(h.errorOf(t), 'TaskError');
    assert.match((h.outcome(t) as { message: string }).message, /timeoutMs \(1000 ms\)/);
    h.deliverKills();
    assert.equal(h.runCount(t), 1);
  });

  it('a task that ends in time clears its timeout', () => {
    harness();
    const t = h.submit('t', { timeoutMs: 1000 });
    h.finish(t, 1);
    h.clock.advance(5000);
    assert.deepEqual(h.cancels, []);
    assert.deepEqual(h.outcome(t), { value: 1 });
  });

  it('a lease whose class ran dry is parked briefly, reused by the next task, then given back', () => {
    harness(1);
    const a = h.submit('a');
    const leaseId = h.lastRun(a)!.leaseId;
    h.finish(a);
    h.clock.advance(9);
    assert.equal(h.freeCpus('n1'), 0, 'the idle lease still holds its CPU');
    const b = h.submit('b');
    assert.equal(h.lastRun(b)!.leaseId, leaseId, 'the next task of the class reuses the lease');
    h.finish(b);
    h.clock.advance(9);
    assert.deepEqual(h.leaseEnds, []);
    h.clock.advance(1);
    assert.deepEqual(h.leaseEnds, [leaseId]);
    assert.equal(h.freeCpus('n1'), 1);
  });

  it("tasks beyond the node's CPUs wait in the queue and run as slots free", () => {
    harness(1);
    const a = h.submit('a');
    const b = h.submit('b');
    assert.equal(h.runCount(b), 0);
    assert.equal(h.record(b).state, 'PENDING_NODE_ASSIGNMENT');
    h.finish(a);
    assert.equal(h.runCount(b), 1);
  });

  it('a task that no node can run fails with TaskUnschedulableError after the infeasible grace period', () => {
    harness(1);
    const t = h.submit('t', { numCpus: 4 });
    h.clock.advance(6000);
    h.dispatcher.apply(h.scheduler.handle({ type: 'tick', now: h.clock.now() }));
    assert.equal(h.errorOf(t), 'TaskUnschedulableError');
  });
});
