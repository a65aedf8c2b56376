/**
 * ActorManager on a head resuming a session (fake nodes): actors an agent kept are adopted
 * without running their constructor, on their node, with their restarts counted; those no agent
 * kept restart under maxRestarts or are dead with a clear reason.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { serializeValue } from '../../orchestrator/core/serialization.ts';
import { ControlHarness } from './fakes/control-harness.ts';

let h: ControlHarness;
const harness = (): ControlHarness => {
  h = new ControlHarness();
  h.node('n1', { CPU: 4 });
  h.node('n2', { CPU: 4 });
  return h;
};
afterEach(() => h?.close());

const row = (actorId: string) => [...h.actors.rows()].find((r) => r.actorId === actorId)!;

describe('control: actors adopted by a resumed head', () => {
  it('an adopted actor is alive on the node that hosts it without its constructor running again; calls go to it in order', () => {
    harness();
    const spec = h.recordedActor('Counter', { name: 'c', numCpus: 1 });
    const actorId = spec.actorId!;
    h.adoptActor(spec, 'n2', 1);
    assert.equal(h.runCount(spec.taskId), 0, 'no creation is sent');
    assert.equal(row(actorId).state, 'ALIVE');
    assert.equal(row(actorId).nodeId, 'n2');
    assert.equal(row(actorId).numRestarts, 1, 'restarts under earlier heads still count');
    assert.equal(h.freeCpus('n2'), 3, 'its resources are held on its node');
    assert.equal(h.actors.lookup('c', 'default').actorId, actorId, 'its name resolves');
    const calls = [h.call(actorId, 'm'), h.call(actorId, 'm')];
    assert.deepEqual(
      h.runs.filter((m) => m.kind === 'actor-call').map((m) => m.taskId),
      calls,
    );
    h.finish(calls[0]!, 6);
    assert.deepEqual(h.outcome(calls[0]!), { value: 6 });
    assert.equal(h.actorChanges.at(0)?.detail, 'adopted from the agent on node n2 that outlived the previous head');
  });

  it('a call the agent still ran at the kill completes once from its result; a worker death then fails it over like any in-flight call', () => {
    harness();
    const spec = h.recordedActor('Counter', { maxRestarts: 1 });
    const actorId = spec.actorId!;
    h.adoptActor(spec, 'n1');
    const inFlight = h.adoptCall(actorId, 'n1');
    const other = h.adoptCall(actorId, 'n1');
    h.tasks.done(inFlight, 0, serializeValue(7, 'a result'));
    assert.deepEqual(h.outcome(inFlight), { value: 7 });
    h.actorWorkerDied(actorId);
    assert.equal(h.errorOf(other), 'ActorDiedError', 'an adopted call counts as in flight on its actor');
    assert.equal(row(actorId).state, 'RESTARTING');
    assert.equal(h.runCount(spec.taskId), 1, 'the restart runs the constructor');
  });

  it("an adopted actor whose constructor was still running finishes when the agent's result arrives", () => {
    harness();
    const spec = h.recordedActor('Counter');
    const actorId = spec.actorId!;
    h.adoptActor(spec, 'n1', 0, false);
    assert.equal(row(actorId).state, 'PENDING_CREATION');
    const c = h.call(actorId, 'm');
    assert.equal(h.runCount(c), 0);
    h.tasks.done(spec.taskId, 0, serializeValue(null, 'a result'));
    assert.equal(row(actorId).state, 'ALIVE');
    assert.equal(h.runCount(c), 1);
  });

  it('an actor no agent reported restarts as one of its maxRestarts, counting those used before', () => {
    harness();
    const spec = h.recordedActor('Counter', { maxRestarts: 2 });
    const actorId = spec.actorId!;
    h.restartActor(spec, 1, 'no agent reported it');
    assert.equal(row(actorId).state, 'RESTARTING');
    assert.equal(row(actorId).numRestarts, 2);
    assert.equal(h.actorChanges.at(-1)?.detail, 'restart 2 of 2: no agent reported it');
    h.finish(spec.taskId);
    assert.equal(row(actorId).state, 'ALIVE');
    h.actorWorkerDied(actorId);
    assert.equal(row(actorId).state, 'DEAD', 'no restart left');
  });

  it('an actor lost with no restart left is dead: calls and getActor fail with ActorDiedError saying why', () => {
    harness();
    const spec = h.recordedActor('Counter', { name: 'c' });
    h.actors.lostWithHead(spec, 'no agent reported it, and it may not restart (maxRestarts 0)');
    const c = h.call(spec.actorId!, 'm');
    assert.equal(h.errorOf(c), 'ActorDiedError');
    assert.match((h.outcome(c) as { message: string }).message, /is dead: no agent reported it.*maxRestarts 0/);
    assert.throws(() => h.actors.lookup('c', 'default'), { name: 'ActorDiedError', message: /maxRestarts 0/ });
    assert.equal(h.actorChanges.at(-1)?.state, 'DEAD');
  });
});
