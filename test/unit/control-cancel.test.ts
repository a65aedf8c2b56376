/** Cancellation in the control layer: plain, force and recursive; of queued, running and finished tasks; the grace period. */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { CANCEL_GRACE_MS } from '../../orchestrator/control/task-manager.ts';
import { ControlHarness, ref } from './fakes/control-harness.ts';

let h: ControlHarness;
const harness = (cpus = 2): ControlHarness => {
  h = new ControlHarness();
  h.node('n1', { CPU: cpus });
  return h;
};
afterEach(() => h?.close());

describe('control: cancel of queued and finished tasks', () => {
  it('a task waiting for its arguments fails at once and never runs; so do its dependents', () => {
    harness();
    const gate = h.submit('gate');
    const victim = h.submit('victim', {}, [ref(gate)]);
    const dependent = h.submit('dependent', {}, [ref(victim)]);
    h.tasks.cancel(victim, false, true);
    assert.equal(h.errorOf(victim), 'TaskCancelledError');
    h.finish(gate);
    assert.equal(h.runCount(victim), 0);
    assert.equal(h.errorOf(dependent), 'TaskCancelledError');
    assert.deepEqual(h.cancels, [], 'nothing is sent to a worker');
  });

  it('a task queued for resources fails at once and never runs once they free', () => {
    harness(1);
    const hog = h.submit('hog');
    const victim = h.submit('victim');
    h.tasks.cancel(victim, false, true);
    assert.equal(h.errorOf(victim), 'TaskCancelledError');
    h.finish(hog);
    h.clock.advance(100);
    assert.equal(h.runCount(victim), 0);
    assert.equal(h.freeCpus('n1'), 1);
  });

  it('cancelling a finished task changes nothing', () => {
    harness();
    const t = h.submit('t');
    h.finish(t, 'done');
    h.tasks.cancel(t, false, true);
    h.tasks.cancel(t, true, true);
    assert.deepEqual(h.outcome(t), { value: 'done' });
    assert.deepEqual(h.cancels, []);
  });
});

describe('control: plain cancel of a running task', () => {
  it('aborts the signal and fails the ref at once; the worker keeps its slot until the task returns, and is not killed', () => {
    harness(1);
    const t = h.submit('t', { maxRetries: 3 });
    h.tasks.cancel(t, false, true);
    assert.deepEqual(h.cancels, [{ taskId: t, force: false }]);
    assert.equal(h.errorOf(t), 'TaskCancelledError');
    assert.equal(h.record(t).state, 'FAILED');
    const next = h.submit('next');
    assert.equal(h.runCount(next), 0, 'the CPU stays with the cancelled task while its worker runs it');
    h.stoppedOnCancel(t);
    assert.equal(h.runCount(next), 1, 'the slot frees when the task gives up');
    h.clock.advance(CANCEL_GRACE_MS * 2);
    assert.deepEqual(h.cancels, [{ taskId: t, force: false }], 'no kill once the task returned');
    assert.equal(h.runCount(t), 1, 'a cancelled task is not retried');
  });

  it('a result that comes back after the cancel does not resolve the ref', () => {
    harness();
    const t = h.submit('t');
    h.tasks.cancel(t, false, true);
    h.finish(t, 'late');
    assert.equal(h.errorOf(t), 'TaskCancelledError');
  });

  it('a task that ignores its signal has its worker killed after the default grace period; its CPU frees', () => {
    harness(1);
    const t = h.submit('t', { maxRetries: 3 });
    h.tasks.cancel(t, false, true);
    h.clock.advance(CANCEL_GRACE_MS - 1);
    assert.equal(h.cancels.length, 1, 'no kill before the grace period ends');
    h.clock.advance(1);
    assert.deepEqual(h.cancels.at(-1), { taskId: t, force: true });
    assert.equal(h.freeCpus('n1'), 0);
    h.deliverKills();
    h.clock.advance(10);
    assert.equal(h.freeCpus('n1'), 1, "the killed worker's lease went back");
    assert.equal(h.runCount(t), 1, 'not retried');
    assert.equal(h.errorOf(t), 'TaskCancelledError');
  });

  it('graceMs sets the grace period', () => {
    harness();
    const t = h.submit('t');
    h.tasks.cancel(t, false, true, 200);
    h.clock.advance(199);
    assert.equal(h.pendingKills, 0);
    h.clock.advance(1);
    assert.equal(h.pendingKills, 1);
  });

  it('a force cancel during the grace period kills the worker at once', () => {
    harness();
    const t = h.submit('t');
    h.tasks.cancel(t, false, true);
    h.tasks.cancel(t, true, true);
    assert.deepEqual(h.cancels.at(-1), { taskId: t, force: true });
    h.deliverKills();
    h.clock.advance(CANCEL_GRACE_MS);
    assert.equal(h.cancels.length, 2, 'the grace timer does not kill a second time');
  });

  it('a worker that dies during the grace period frees the slot; the task is not retried', () => {
    harness(1);
    const t = h.submit('t', { maxRetries: 3 });
    h.tasks.cancel(t, false, true);
    h.workerDied(t);
    h.clock.advance(10);
    assert.equal(h.freeCpus('n1'), 1);
    assert.equal(h.runCount(t), 1);
    h.clock.advance(CANCEL_GRACE_MS);
    assert.equal(h.pendingKills, 0);
  });
});

describe('control: force cancel', () => {
  it('kills the worker; the ref fails when the death is reported, and the task is not retried', () => {
    harness();
    const t = h.submit('t', { maxRetries: 3 });
    h.tasks.cancel(t, true, true);
    assert.deepEqual(h.cancels, [{ taskId: t, force: true }]);
    assert.equal(h.errorOf(t), 'pending', "as today: the failure waits for the worker's death");
    h.deliverKills();
    assert.equal(h.errorOf(t), 'TaskCancelledError');
    assert.equal(h.runCount(t), 1);
  });

  it('other tasks on the killed worker are run again without charging their retries', () => {
    harness(1);
    const victim = h.submit('t', { maxRetries: 0 });
    const lease = h.record(victim).lease!;
    const other = h.submit('t', { maxRetries: 0 });
    // A second task pipelined on the same lease, as the dispatcher does for short tasks.
    h.dispatcher.remove(h.record(other));
    h.record(other).lease = lease;
    lease.inflight.add(h.record(other));
    h.tasks.start(h.record(other), lease);
    h.tasks.cancel(victim, true, true);
    h.deliverKills();
    assert.equal(h.errorOf(victim), 'TaskCancelledError');
    assert.equal(h.errorOf(other), 'pending');
    assert.equal(h.runCount(other), 2, 'run again');
    h.finish(other, 'kept');
    assert.deepEqual(h.outcome(other), { value: 'kept' });
  });
});

describe('control: recursive cancel', () => {
  it('cancels the tasks a task submitted, running and queued, and kills the workers still running after the grace period', () => {
    harness(2);
    const parent = h.submit('parent');
    const child = h.submit('child', {}, [], parent);
    const grandchild = h.submit('grandchild', {}, [], child);
    assert.equal(h.record(child).state, 'RUNNING');
    assert.equal(h.record(grandchild).state, 'PENDING_NODE_ASSIGNMENT');
    h.tasks.cancel(parent, false, true);
    for (const t of [parent, child, grandchild]) assert.equal(h.errorOf(t), 'TaskCancelledError');
    assert.equal(h.runCount(grandchild), 0);
    h.clock.advance(CANCEL_GRACE_MS);
    assert.deepEqual(new Set(h.cancels.filter((c) => c.force).map((c) => c.taskId)), new Set([parent, child]));
    h.deliverKills();
    h.clock.advance(10);
    assert.equal(h.freeCpus('n1'), 2);
    assert.equal(h.runCount(grandchild), 0);
  });

  it('recursive: false leaves the children alone', () => {
    harness(2);
    const parent = h.submit('parent');
    const child = h.submit('child', {}, [], parent);
    h.tasks.cancel(parent, false, false);
    assert.equal(h.errorOf(parent), 'TaskCancelledError');
    h.finish(child, 'child ok');
    assert.deepEqual(h.outcome(child), { value: 'child ok' });
    assert.deepEqual(
      h.cancels.map((c) => c.taskId),
      [parent],
    );
  });

  it("force and recursive kill the children's workers too", () => {
    harness(2);
    const parent = h.submit('parent');
    const child = h.submit('child', {}, [], parent);
    h.tasks.cancel(parent, true, true);
    assert.deepEqual(
      new Set(h.cancels.map((c) => `${c.taskId}:${c.force}`)),
      new Set([`${parent}:true`, `${child}:true`]),
    );
    h.deliverKills();
    assert.equal(h.errorOf(parent), 'TaskCancelledError');
    assert.equal(h.errorOf(child), 'TaskCancelledError');
  });
});

describe('control: cancel of actor calls', () => {
  it('a running call is signalled and fails at once; the actor is not killed and runs the next call', () => {
    harness();
    const { actorId, createId } = h.createActor('A');
    h.finish(createId);
    const c1 = h.call(actorId, 'spin');
    const c2 = h.call(actorId, 'add');
    h.tasks.cancel(c1, true, true);
    assert.deepEqual(h.cancels, [{ taskId: c1, force: false }], 'an actor call is never force-killed');
    assert.equal(h.errorOf(c1), 'TaskCancelledError');
    h.clock.advance(CANCEL_GRACE_MS * 2);
    assert.equal(h.pendingKills, 0);
    assert.deepEqual(h.actorKills, []);
    assert.equal(h.runCount(c2), 1);
    h.finish(c2, 6);
    assert.deepEqual(h.outcome(c2), { value: 6 });
    assert.equal([...h.actors.rows()][0]?.state, 'ALIVE');
  });

  it('a queued call fails at once and never runs', () => {
    harness();
    const { actorId, createId } = h.createActor('A');
    const c = h.call(actorId, 'add');
    h.tasks.cancel(c, false, true);
    assert.equal(h.errorOf(c), 'TaskCancelledError');
    h.finish(createId);
    assert.equal(h.runCount(c), 0);
  });
});
