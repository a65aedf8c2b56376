/**
 * One error root: every error class the public API exports extends OrreryError, and an error's
 * own class chain (not a list of names) says whether it is an Orrery error.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as api from '../../orchestrator/api/index.ts';
import {
  fromErrorInfo,
  isOrreryError,
  OrreryError,
  toErrorInfo,
  type ErrorInfo,
} from '../../orchestrator/core/errors.ts';
import { QasmError } from '../../backends/quantum/qasm/index.ts';

/** Every exported class whose instances are errors. */
function exportedErrorClasses(): [string, abstract new (...args: never[]) => Error][] {
  const out: [string, abstract new (...args: never[]) => Error][] = [];
  for (const [name, value] of Object.entries(api as Record<string, unknown>)) {
    if (typeof value === 'function' && value.prototype instanceof Error)
      out.push([name, value as abstract new (...args: never[]) => Error]);
  }
  return out;
}

test('every error class the public API exports extends OrreryError', () => {
  const classes = exportedErrorClasses();
  // The public errors: the core ones, QasmError, placement rules, and those of reaching a head.
  for (const name of [
    'TaskError',
    'QasmError',
    'InvalidPlacementRuleError',
    'HeadConnectionLostError',
    'NoHeadRunningError',
    'ClientOptionError',
    'HeadFileError',
    'DriverMessageTooLargeError',
  ]) {
    assert.ok(
      classes.some(([n]) => n === name),
      `${name} is exported`,
    );
  }
  for (const [name, cls] of classes) {
    if (cls === OrreryError) continue;
    assert.ok(cls.prototype instanceof OrreryError, `${name} extends OrreryError`);
    const e = Object.create(cls.prototype) as Error;
    assert.ok(isOrreryError(toErrorInfo(e)), `${name}'s ErrorInfo reads as an Orrery error`);
  }
});

test('each public error names itself after its class', () => {
  assert.equal(new api.ClientOptionError('bad address').name, 'ClientOptionError');
  assert.equal(new api.HeadConnectionLostError('ws://127.0.0.1:1', 'closed').name, 'HeadConnectionLostError');
  assert.equal(new api.HeadFileError('/x/head.json', 'not JSON').name, 'HeadFileError');
  assert.equal(new api.InvalidPlacementRuleError('bad rule', 0, 'placementRules[0]').name, 'InvalidPlacementRuleError');
  const q = new QasmError({ line: 2, column: 3 }, 'unknown gate');
  assert.equal(q.name, 'QasmError');
  assert.equal(q.message, 'line 2, column 3: unknown gate');
});

test("isOrreryError reads the error's own chain", () => {
  assert.equal(isOrreryError(toErrorInfo(new QasmError({ line: 1, column: 1 }, 'x'))), true);
  assert.equal(isOrreryError(toErrorInfo(new api.TaskCancelledError('t1', 'f'))), true);
  class MyError extends Error {}
  assert.equal(isOrreryError(toErrorInfo(new MyError('mine'))), false);
  assert.equal(isOrreryError(toErrorInfo(new RangeError('r'))), false);
  // A name alone does not make an Orrery error: only the chain the sender saw.
  assert.equal(isOrreryError({ name: 'TaskError', message: 'spoofed' }), false);
});

test('fromErrorInfo rebuilds Orrery errors of classes it does not register as OrreryErrors', () => {
  const sent = toErrorInfo(new QasmError({ line: 4, column: 13 }, "input 'phi' has no value"));
  const got = fromErrorInfo(sent);
  assert.ok(got instanceof OrreryError);
  assert.equal(got.name, 'QasmError');
  assert.equal(got.message, "line 4, column 13: input 'phi' has no value");
  assert.equal((got as unknown as { line: number }).line, 4);
  const plain: ErrorInfo = { name: 'RangeError', message: 'out of range', chain: ['RangeError', 'Error'] };
  const rebuilt = fromErrorInfo(plain);
  assert.ok(!(rebuilt instanceof OrreryError));
  assert.equal(rebuilt.name, 'RangeError');
  const known = fromErrorInfo(toErrorInfo(new api.GetTimeoutError(10, 2)));
  assert.ok(known instanceof api.GetTimeoutError);
});
