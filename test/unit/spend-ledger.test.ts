/** The head's spend ledger: reservations against session and backend budgets, charges, release, carried spend. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BudgetExceededError, fromErrorInfo, toErrorInfo } from '../../orchestrator/core/errors.ts';
import { SpendLedger } from '../../orchestrator/control/spend-ledger.ts';

/** A ledger whose running tasks are the ids in `running`. */
function ledger(running = new Set<string>()) {
  return { running, l: new SpendLedger({ isRunning: (id) => running.has(id) }) };
}

test('without budgets every reservation passes and the summary has no budget', () => {
  const { l, running } = ledger();
  running.add('t1');
  l.reserve('t1', 'ibm', 1e6, 'a big job');
  const s = l.summary();
  assert.equal(s.budgetUsd, undefined);
  assert.equal(s.reservedUsd, 1e6);
  assert.equal(s.spentUsd, 0);
});

test('a session budget admits two $3.60 jobs and refuses the third, saying the spend so far and the estimate', () => {
  const { l, running } = ledger();
  l.setSessionBudget(8);
  for (const id of ['t1', 't2']) {
    running.add(id);
    l.reserve(id, 'ibm', 3.6, `job of ${id}`);
  }
  running.add('t3');
  assert.throws(
    () => l.reserve('t3', 'ibm', 3.6, 'IBM Quantum job on ibm_fake_nairobi'),
    (err: unknown) => {
      assert.ok(err instanceof BudgetExceededError);
      assert.equal(err.scope, 'session');
      assert.equal(err.spentUsd, 0);
      assert.equal(err.reservedUsd, 7.2);
      assert.equal(err.estimateUsd, 3.6);
      assert.match(
        err.message,
        /IBM Quantum job on ibm_fake_nairobi: estimated \$3\.60 would cross the session budget of \$8\.00/,
      );
      assert.match(err.message, /\$0\.00 spent so far and \$7\.20 reserved by jobs in flight/);
      return true;
    },
  );
  // Nothing was reserved for the refused job.
  assert.equal(l.summary().reservedUsd, 7.2);
});

test('charges replace estimates once the task ended; a running task counts the larger of the two', () => {
  const { l, running } = ledger();
  l.setSessionBudget(10);
  running.add('t1');
  l.reserve('t1', 'ibm', 3.6, 'j1');
  l.charge('t1', 'ibm', 1.6); // metrics known, the task still running
  assert.deepEqual([l.summary().spentUsd, l.summary().reservedUsd], [1.6, 2]);
  running.delete('t1');
  assert.deepEqual([l.summary().spentUsd, l.summary().reservedUsd], [1.6, 0]);
  // A charge above the estimate counts in full.
  running.add('t2');
  l.reserve('t2', 'ibm', 1, 'j2');
  l.charge('t2', 'ibm', 4);
  assert.deepEqual([l.summary().spentUsd, l.summary().reservedUsd], [5.6, 0]);
  // 5.6 spent: a 4.5 estimate crosses 10, a 4.4 one does not.
  running.add('t3');
  assert.throws(() => l.reserve('t3', 'ibm', 4.5, 'j3'), /\$5\.60 spent so far/);
  l.reserve('t3', 'ibm', 4.4, 'j3');
});

test('a task that ended without a charge gives its reservation back', () => {
  const { l, running } = ledger();
  l.setSessionBudget(5);
  running.add('t1');
  l.reserve('t1', 'braket', 4, 'j1');
  running.delete('t1'); // failed before submission
  running.add('t2');
  l.reserve('t2', 'braket', 4, 'j2');
  assert.equal(l.summary().byBackend.length, 1);
});

test('a backend budget limits only that backend; the message names it and its config key', () => {
  const { l, running } = ledger();
  l.setBackendBudget('braket', 1);
  for (const id of ['a', 'b', 'c']) running.add(id);
  l.reserve('a', 'ibm', 50, 'ibm job');
  l.reserve('b', 'braket', 0.9, 'braket task');
  assert.throws(
    () => l.reserve('c', 'braket', 0.2, 'braket task'),
    (err: unknown) =>
      err instanceof BudgetExceededError && err.scope === 'braket' && /budgetUsd of backend braket/.test(err.message),
  );
  const s = l.summary();
  assert.deepEqual(
    s.byBackend.map((b) => [b.backend, b.budgetUsd]),
    [
      ['braket', 1],
      ['ibm', undefined],
    ],
  );
});

test('spend carried from an earlier head of the session counts against the budget, once per task', () => {
  const { l, running } = ledger();
  l.setSessionBudget(10);
  l.carry('old1', 'ibm', 3.2);
  l.carry('old2', 'ibm', 3.2);
  running.add('t');
  assert.throws(() => l.reserve('t', 'ibm', 3.7, 'j'), /\$6\.40 spent so far/);
  l.reserve('t', 'ibm', 3.6, 'j');
  assert.deepEqual(l.summary().byBackend[0], { backend: 'ibm', spentUsd: 6.4, reservedUsd: 3.6, tasks: 2 });
  // A task the new head adopted reports its cost again: it replaces the carried one.
  l.charge('old2', 'ibm', 3.3);
  assert.equal(l.summary().spentUsd, 6.5);
});

test('bad estimates are refused; BudgetExceededError crosses processes with its fields', () => {
  const { l } = ledger();
  assert.throws(() => l.reserve('t', 'ibm', -1, 'j'), TypeError);
  assert.throws(() => l.reserve('t', 'ibm', Number.NaN, 'j'), TypeError);
  const err = new BudgetExceededError('session', 8, 6.4, 0, 3.6, 'a job');
  const back = fromErrorInfo(toErrorInfo(err));
  assert.ok(back instanceof BudgetExceededError);
  assert.equal((back as BudgetExceededError).estimateUsd, 3.6);
  assert.equal(back.message, err.message);
});
