/**
 * demandFitsShape: the one check of whether a node of a shape could run some demand, shared by
 * the scheduler's elastic feasibility and every elastic backend's scaling.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { demandFitsShape, type Demand } from '../../orchestrator/core/shape-fit.ts';
import { parseLabelSelector } from '../../orchestrator/core/label-selector.ts';
import { EXCLUSIVE_NODE_LABEL } from '../../orchestrator/core/node-labels.ts';

const gpuNode = { resources: { CPU: 8, GPU: 2, memory: 64e9 }, labels: { accelerator: 'A100', zone: 'a' } };
const want = (resources: Record<string, number>, labelSelector?: Record<string, string>, backend?: string): Demand => ({
  resources,
  labelSelector,
  backend,
});

test('resources: every requested amount must fit one node; absent resources are zero', () => {
  assert.equal(demandFitsShape(want({ CPU: 8, GPU: 2 }), gpuNode, 'lab'), true);
  assert.equal(demandFitsShape(want({ CPU: 9 }), gpuNode, 'lab'), false);
  assert.equal(demandFitsShape(want({ GPU: 0.5 }), gpuNode, 'lab'), true);
  assert.equal(demandFitsShape(want({ QPU: 1 }), gpuNode, 'lab'), false);
  assert.equal(demandFitsShape(want({ QPU: 0 }), gpuNode, 'lab'), true);
  assert.equal(demandFitsShape(want({}), gpuNode, 'lab'), true);
});

test('label selectors: v, !v, in(), !in(), and a missing label', () => {
  const cases: [Record<string, string>, boolean][] = [
    [{ accelerator: 'A100' }, true],
    [{ accelerator: 'H100' }, false],
    [{ accelerator: '!A100' }, false],
    [{ accelerator: '!H100' }, true],
    [{ accelerator: 'in(H100,A100)' }, true],
    [{ accelerator: 'in(H100,V100)' }, false],
    [{ accelerator: '!in(H100,V100)' }, true],
    [{ accelerator: '!in(A100, H100)' }, false],
    [{ region: 'eu' }, false],
    // A negated constraint also matches a node without the label (Ray's NOT_IN).
    [{ region: '!eu' }, true],
    [{ region: '!in(eu,us)' }, true],
    [{ region: 'in(eu,us)' }, false],
    [{ accelerator: 'A100', zone: '!b' }, true],
    [{ accelerator: 'A100', zone: 'b' }, false],
  ];
  for (const [selector, fits] of cases) {
    assert.equal(demandFitsShape(want({ CPU: 1 }, selector), gpuNode, 'lab'), fits, JSON.stringify(selector));
    assert.equal(
      demandFitsShape(
        { resources: { CPU: 1 }, labelSelector: parseLabelSelector(selector), backend: undefined },
        gpuNode,
        'lab',
      ),
      fits,
      `parsed ${JSON.stringify(selector)}`,
    );
  }
  assert.throws(() => demandFitsShape(want({ CPU: 1 }, { accelerator: 'in(A100' }), gpuNode, 'lab'), TypeError);
});

test('an exclusive node runs only demand that names its backend', () => {
  const exclusive = { resources: { CPU: 4 }, labels: { [EXCLUSIVE_NODE_LABEL]: 'true' } };
  assert.equal(demandFitsShape(want({ CPU: 1 }), exclusive, 'sm'), false);
  assert.equal(demandFitsShape(want({ CPU: 1 }, undefined, 'sm'), exclusive, 'sm'), true);
  assert.equal(demandFitsShape(want({ CPU: 1 }, undefined, 'other'), exclusive, 'sm'), false);
  assert.equal(
    demandFitsShape(want({ CPU: 1 }, undefined, 'other'), gpuNode, 'lab'),
    true,
    "naming another backend is the caller's filter, not the shape's",
  );
});
