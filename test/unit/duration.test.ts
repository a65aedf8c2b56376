import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatDuration, parseDuration } from '../../orchestrator/core/duration.ts';

test('durations read as seconds: bare numbers, units and sums', () => {
  assert.equal(parseDuration(90, 'x'), 90);
  assert.equal(parseDuration('90', 'x'), 90);
  assert.equal(parseDuration('90s', 'x'), 90);
  assert.equal(parseDuration('30m', 'x'), 1800);
  assert.equal(parseDuration('8h', 'x'), 28_800);
  assert.equal(parseDuration('2d', 'x'), 172_800);
  assert.equal(parseDuration('1h30m', 'x'), 5400);
  assert.equal(parseDuration(' 1h 30m ', 'x'), 5400);
  assert.equal(parseDuration('0.5h', 'x'), 1800);
});

test('anything else is one TypeError naming the setting', () => {
  for (const bad of ['', 'h', '8 hours', '8h-', '-5m', '5w', 'abc', -1, Number.POSITIVE_INFINITY, null, {}])
    assert.throws(() => parseDuration(bad, '--agent-grace'), /--agent-grace must be a duration such as 90s, 30m, 8h/);
});

test('formatDuration writes what parseDuration reads back', () => {
  for (const s of [0, 45, 1800, 5400, 28_800, 90_061]) assert.equal(parseDuration(formatDuration(s), 'x'), s);
  assert.equal(formatDuration(28_800), '8h');
  assert.equal(formatDuration(5400), '1h30m');
});
