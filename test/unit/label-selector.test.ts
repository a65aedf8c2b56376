import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { matchesLabels, parseLabelSelector } from '../../orchestrator/core/label-selector.ts';

describe('parseLabelSelector', () => {
  it('parses the four forms', () => {
    assert.deepEqual(parseLabelSelector({ a: 'x', b: '!y', c: 'in(p,q)', d: '!in(r, s)' }), [
      { key: 'a', raw: 'x', negated: false, values: ['x'] },
      { key: 'b', raw: '!y', negated: true, values: ['y'] },
      { key: 'c', raw: 'in(p,q)', negated: false, values: ['p', 'q'] },
      { key: 'd', raw: '!in(r, s)', negated: true, values: ['r', 's'] },
    ]);
  });

  it('accepts prefixed keys and values with - _ .', () => {
    assert.equal(parseLabelSelector({ 'ray.io/accelerator-type': 'us-west-2.a_1' }).length, 1);
  });

  for (const bad of ['', '!', 'in(', 'in()', 'in(a,)', '!in(a b)', 'a b', '-a', 'a=b', 'in(a,(b))']) {
    it(`rejects ${JSON.stringify(bad)} naming the key and the allowed forms`, () => {
      assert.throws(
        () => parseLabelSelector({ accelerator: bad }),
        (err: unknown) =>
          err instanceof TypeError &&
          err.message.includes('"accelerator"') &&
          err.message.includes('"!v"') &&
          err.message.includes('"in(a,b)"') &&
          err.message.includes('"!in(a,b)"'),
      );
    });
  }

  it('rejects non-string values and bad keys', () => {
    assert.throws(() => parseLabelSelector({ zone: 3 as unknown as string }), /"zone"/);
    assert.throws(() => parseLabelSelector({ 'bad key': 'a' }), /"bad key"/);
    assert.throws(() => parseLabelSelector([] as unknown as Record<string, string>), TypeError);
  });
});

describe('matchesLabels', () => {
  const a100 = { accelerator: 'A100', zone: 'a' };
  const h100 = { accelerator: 'H100', zone: 'b' };
  const cpu = { zone: 'a' };

  it('v needs the label with that value', () => {
    assert.equal(matchesLabels({ accelerator: 'A100' }, a100), true);
    assert.equal(matchesLabels({ accelerator: 'A100' }, h100), false);
    assert.equal(matchesLabels({ accelerator: 'A100' }, cpu), false);
  });

  it('!v matches a different value or an absent label', () => {
    assert.equal(matchesLabels({ accelerator: '!A100' }, a100), false);
    assert.equal(matchesLabels({ accelerator: '!A100' }, h100), true);
    assert.equal(matchesLabels({ accelerator: '!A100' }, cpu), true);
  });

  it('in(...) needs one of the values', () => {
    assert.equal(matchesLabels({ accelerator: 'in(A100,H100)' }, a100), true);
    assert.equal(matchesLabels({ accelerator: 'in(A100,H100)' }, h100), true);
    assert.equal(matchesLabels({ accelerator: 'in(A100,H100)' }, cpu), false);
  });

  it('!in(...) matches other values or an absent label', () => {
    assert.equal(matchesLabels({ accelerator: '!in(A100,V100)' }, a100), false);
    assert.equal(matchesLabels({ accelerator: '!in(A100,V100)' }, h100), true);
    assert.equal(matchesLabels({ accelerator: '!in(A100,V100)' }, cpu), true);
  });

  it('needs every key to match; the empty selector matches everything', () => {
    assert.equal(matchesLabels({ accelerator: 'A100', zone: 'a' }, a100), true);
    assert.equal(matchesLabels({ accelerator: 'A100', zone: 'b' }, a100), false);
    assert.equal(matchesLabels({}, cpu), true);
  });

  it('accepts a parsed selector', () => {
    assert.equal(matchesLabels(parseLabelSelector({ zone: '!b' }), cpu), true);
  });

  it('does not see inherited properties as labels', () => {
    assert.equal(matchesLabels({ toString: '!x' }, {}), true);
    assert.equal(matchesLabels({ constructor: 'x' }, {}), false);
  });
});
