import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  applyPlacementRules,
  InvalidPlacementRuleError,
  validateEditedPlacementRules,
  validatePlacementRules,
  type PlacementRule,
} from '../../orchestrator/scheduler/placement-rules.ts';
import { OrreryError } from '../../orchestrator/core/errors.ts';

describe('validatePlacementRules', () => {
  it('returns a normalised copy of valid rules', () => {
    const input = [
      {
        match: { name: 'train_*', kind: 'function' },
        require: { backend: 'gpu-lab', labels: { accelerator: 'A100' } },
      },
      { match: { kind: 'circuit' }, prefer: { backend: 'ibm' }, avoid: { labels: { zone: '!in(a,b)' } } },
      { match: {} },
    ];
    const rules = validatePlacementRules(input);
    assert.deepEqual(rules, input);
    assert.notEqual(rules[0], input[0]);
  });

  const cases: [string, unknown, number | undefined, string, RegExp][] = [
    ['a non-array', { match: {} }, undefined, 'placementRules', /must be an array/],
    ['a non-object rule', [{ match: {} }, 3], 1, 'placementRules[1]', /placementRules\[1\] must be an object/],
    ['a missing match', [{ require: { backend: 'x' } }], 0, 'placementRules[0].match', /match must be an object/],
    [
      'an unknown kind',
      [{ match: { kind: 'task' } }],
      0,
      'placementRules[0].match.kind',
      /'function', 'command', 'circuit', 'actor'; got "task"/,
    ],
    ['an empty name glob', [{ match: { name: '' } }], 0, 'placementRules[0].match.name', /non-empty glob/],
    [
      'a misspelt field',
      [{ match: {} }, { match: {}, requires: {} }],
      1,
      'placementRules[1].requires',
      /allowed fields are match, require, prefer, avoid/,
    ],
    [
      'an unknown match field',
      [{ match: { nmae: 'x' } }],
      0,
      'placementRules[0].match.nmae',
      /allowed fields are name, kind/,
    ],
    [
      'a bad backend',
      [{ match: {}, prefer: { backend: 7 } }],
      0,
      'placementRules[0].prefer.backend',
      /non-empty backend name/,
    ],
    [
      'a bad label selector',
      [{ match: {}, require: { labels: { accelerator: 'in(A100' } } }],
      0,
      'placementRules[0].require.labels',
      /"accelerator".*"!in\(a,b\)"/,
    ],
    [
      'a non-object target',
      [{ match: {}, avoid: 'slow' }],
      0,
      'placementRules[0].avoid',
      /must be an object like \{ backend\?, labels\? \}/,
    ],
  ];
  for (const [what, input, index, field, message] of cases) {
    it(`rejects ${what}, naming rule ${index} and ${field}`, () => {
      assert.throws(
        () => validatePlacementRules(input),
        (err: unknown) => {
          assert.ok(err instanceof InvalidPlacementRuleError);
          assert.ok(err instanceof OrreryError);
          assert.equal(err.name, 'InvalidPlacementRuleError');
          assert.equal(err.ruleIndex, index);
          assert.equal(err.field, field);
          assert.match(err.message, message);
          return true;
        },
      );
    });
  }
});

describe('validateEditedPlacementRules (a list saved from the dashboard)', () => {
  it('accepts rules that each constrain something', () => {
    const input = [
      { match: { name: 'a*' }, require: { backend: 'lab' } },
      { match: {}, avoid: { labels: { spot: 'true' } } },
    ];
    assert.deepEqual(validateEditedPlacementRules(input), input);
  });

  const cases: [string, unknown, string, RegExp][] = [
    [
      'a rule whose constraint was dropped, matching every task',
      [{ match: { name: 'a*' }, require: { backend: 'lab' } }, { match: {} }],
      'placementRules[1]',
      /placementRules\[1\] has no require, prefer or avoid: it would match every task/,
    ],
    [
      'a named rule without a constraint',
      [{ match: { name: 'a*' } }],
      'placementRules[0]',
      /would match its tasks, change nothing for them and hide the rules after it/,
    ],
    [
      'an empty prefer',
      [{ match: {}, prefer: {} }],
      'placementRules[0].prefer',
      /prefer names neither a backend nor labels/,
    ],
    [
      'empty labels as the only constraint',
      [{ match: {}, require: { labels: {} } }],
      'placementRules[0].require',
      /require names neither a backend nor labels/,
    ],
    ['what the lenient check refuses too', [{ match: { kind: 'task' } }], 'placementRules[0].match.kind', /one of/],
  ];
  for (const [what, input, field, message] of cases) {
    it(`rejects ${what}, naming ${field}`, () => {
      assert.throws(
        () => validateEditedPlacementRules(input),
        (err: unknown) => {
          assert.ok(err instanceof InvalidPlacementRuleError);
          assert.equal(err.field, field);
          assert.match(err.message, message);
          return true;
        },
      );
    });
  }
});

describe('applyPlacementRules', () => {
  const rules: PlacementRule[] = [
    { match: { name: 'train_?', kind: 'function' }, require: { backend: 'gpu-lab', labels: { accelerator: 'A100' } } },
    { match: { name: 'train_*' }, prefer: { backend: 'gpu-lab' }, avoid: { labels: { spot: 'true' } } },
    { match: { kind: 'circuit' }, require: { backend: 'ibm' } },
    { match: { name: 'a.b*' } },
  ];

  it('applies the first matching rule, whose require overrides the code and merges labels', () => {
    const own = { backend: 'local', labelSelector: { accelerator: 'H100', zone: 'a' } };
    assert.deepEqual(applyPlacementRules(rules, { name: 'train_1', kind: 'function' }, own), {
      backend: 'gpu-lab',
      labelSelector: { accelerator: 'A100', zone: 'a' },
      ruleIndex: 0,
    });
  });

  it('falls through to later rules when an earlier one does not match', () => {
    assert.deepEqual(applyPlacementRules(rules, { name: 'train_12', kind: 'function' }, { backend: 'local' }), {
      backend: 'local',
      prefer: { backend: 'gpu-lab' },
      avoid: { labels: { spot: 'true' } },
      ruleIndex: 1,
    });
    assert.deepEqual(applyPlacementRules(rules, { name: 'train_1', kind: 'actor' }, {}).ruleIndex, 1);
  });

  it('matches by kind alone', () => {
    assert.deepEqual(applyPlacementRules(rules, { name: 'bell', kind: 'circuit' }, { labelSelector: { q: '5' } }), {
      backend: 'ibm',
      labelSelector: { q: '5' },
      ruleIndex: 2,
    });
  });

  it('treats glob characters literally except * and ?', () => {
    assert.equal(applyPlacementRules(rules, { name: 'a.bcd', kind: 'command' }, {}).ruleIndex, 3);
    assert.equal(applyPlacementRules(rules, { name: 'axbcd', kind: 'command' }, {}).ruleIndex, undefined);
  });

  it("keeps the code's own options when no rule matches", () => {
    const own = { backend: 'local', labelSelector: { zone: 'a' } };
    assert.deepEqual(applyPlacementRules(rules, { name: 'prep', kind: 'function' }, own), own);
    assert.deepEqual(applyPlacementRules([], { name: 'prep', kind: 'function' }, {}), {});
  });
});
