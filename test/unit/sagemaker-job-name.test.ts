/** Training job names: valid for SageMaker, derived from task name and id, unique per attempt. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JOB_NAME, trainingJobName } from '../../backends/sagemaker/job-name.ts';

test('a plain name keeps the task name, the id tail and the attempt', () => {
  assert.equal(trainingJobName('train', 'a1b2c3d4e5f6a7b8', 'x1y2z3'), 'train-c3d4e5f6a7b8-x1y2z3');
});

test('characters SageMaker refuses become single hyphens, never at either end', () => {
  const n = trainingJobName('__my.train_script.py__', 'task:0001', 'abc');
  assert.equal(n, 'my-train-script-py-task-0001-abc');
  assert.match(n, JOB_NAME);
  assert.equal(trainingJobName('???', 'id', 'a'), 'orrery-id-a');
  assert.equal(trainingJobName('-x', '7', 'a'), 'x-7-a');
});

test('long names are cut to 63 characters and stay valid and distinct per task', () => {
  const long = 'a'.repeat(200);
  const a = trainingJobName(long, 'ffffffffffff0001', 'aaaaaa');
  const b = trainingJobName(long, 'ffffffffffff0002', 'aaaaaa');
  assert.equal(a.length, 63);
  assert.match(a, JOB_NAME);
  assert.notEqual(a, b);
  assert.ok(a.endsWith('ffffffff0001-aaaaaa'));
  const dashes = trainingJobName(`${'b'.repeat(43)}----------x`, '0123456789abcdef', 'zzzzzz');
  assert.match(dashes, JOB_NAME);
  assert.ok(dashes.length <= 63);
});

test('two attempts of one task get different names (a finished job keeps its name forever)', () => {
  const names = new Set(Array.from({ length: 50 }, () => trainingJobName('train', 'task-1')));
  assert.equal(names.size, 50);
  for (const n of names) assert.match(n, JOB_NAME);
});
