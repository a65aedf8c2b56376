/** ActorManager on fake nodes: creation and call order, restarts (maxRestarts), maxTaskRetries, death. */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { ControlHarness } from './fakes/control-harness.ts';

let h: ControlHarness;
const harness = (): ControlHarness => {
  h = new ControlHarness();
  h.node('n1', { CPU: 4 });
  return h;
};
afterEach(() => h?.close());

const row = (actorId: string) => [...h.actors.rows()].find((r) => r.actorId === actorId)!;

describe('control: actors', () => {
  it('calls wait for the creation and are sent in submission order', () => {
    harness();
    const { actorId, createId } = h.createActor('A');
    const calls = [h.call(actorId, 'm'), h.call(actorId, 'm'), h.call(actorId, 'm')];
    assert.equal(
      calls.reduce((n, c) => n + h.runCount(c), 0),
      0,
      'nothing sent before the actor exists',
    );
    h.finish(createId);
    assert.equal(row(actorId).state, 'ALIVE');
    const sent = h.runs.filter((m) => m.kind === 'actor-call').map((m) => m.taskId);
    assert.deepEqual(sent, calls);
  });

  it('a constructor that throws with no restarts left kills the actor: its calls fail with ActorDiedError', () => {
    harness();
    const { actorId, createId } = h.createActor('A', { maxRestarts: 0 });
    const c = h.call(actorId, 'm');
    h.throw(createId, 'Error');
    assert.equal(row(actorId).state, 'DEAD');
    assert.equal(h.errorOf(c), 'ActorDiedError');
    assert.equal(h.errorOf(h.call(actorId, 'm')), 'ActorDiedError', 'and so do later ones');
  });

  it('a dead worker restarts the actor while maxRestarts lasts, then the actor dies', () => {
    harness();
    const { actorId, createId } = h.createActor('A', { maxRestarts: 1 });
    h.finish(createId);
    h.actorWorkerDied(actorId);
    assert.equal(row(actorId).state, 'RESTARTING');
    assert.equal(row(actorId).numRestarts, 1);
    assert.equal(h.runCount(createId), 2, 'the creation runs again');
    assert.equal(h.lastRun(createId)!.attempt, 1);
    h.finish(createId);
    assert.equal(row(actorId).state, 'ALIVE');
    const c = h.call(actorId, 'm');
    h.actorWorkerDied(actorId);
    assert.equal(row(actorId).state, 'DEAD');
    assert.equal(h.errorOf(c), 'ActorDiedError');
    assert.match((h.outcome(c) as { message: string }).message, /died/);
  });

  it("maxTaskRetries: a call interrupted by the worker's death runs again on the restarted actor", () => {
    harness();
    const { actorId, createId } = h.createActor('A', { maxRestarts: 1, maxTaskRetries: 1 });
    h.finish(createId);
    const c = h.call(actorId, 'm');
    assert.equal(h.runCount(c), 1);
    h.actorWorkerDied(actorId);
    assert.equal(h.errorOf(c), 'pending');
    h.finish(createId);
    assert.equal(h.runCount(c), 2, 'sent again once the actor is back');
    h.finish(c, 'second time');
    assert.deepEqual(h.outcome(c), { value: 'second time' });
  });

  it('maxTaskRetries: 0 fails an interrupted call with ActorDiedError, though the actor restarts', () => {
    harness();
    const { actorId, createId } = h.createActor('A', { maxRestarts: 1, maxTaskRetries: 0 });
    h.finish(createId);
    const calls = [h.call(actorId, 'm'), h.call(actorId, 'm')];
    h.actorWorkerDied(actorId);
    assert.deepEqual(
      calls.map((c) => h.errorOf(c)),
      ['ActorDiedError', 'ActorDiedError'],
      'every call sent to the dead worker',
    );
    h.finish(createId);
    assert.equal(row(actorId).state, 'ALIVE');
    const after = h.call(actorId, 'm');
    h.finish(after, 1);
    assert.deepEqual(h.outcome(after), { value: 1 }, 'the restarted actor takes new calls');
  });

  it('kill with noRestart: the actor dies at once, its worker is killed, and calls fail', () => {
    harness();
    const { actorId, createId } = h.createActor('A', { maxRestarts: 5 });
    h.finish(createId);
    const c = h.call(actorId, 'm');
    h.actors.kill(actorId, true);
    assert.deepEqual(h.actorKills, [actorId]);
    assert.equal(row(actorId).state, 'DEAD');
    assert.equal(h.errorOf(c), 'ActorDiedError');
  });

  it('an application error in a call fails only that call', () => {
    harness();
    const { actorId, createId } = h.createActor('A');
    h.finish(createId);
    const c = h.call(actorId, 'm');
    h.throw(c, 'ValueError');
    assert.equal(h.errorOf(c), 'TaskError');
    assert.equal(row(actorId).state, 'ALIVE');
  });
});
