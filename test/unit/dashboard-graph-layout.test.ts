/**
 * The dashboard's graph grouping and timeline lanes (renderer/src/graph-groups.ts,
 * graph-layout.ts, timeline-layout.ts) on hand-made task rows: fan-outs by name and iteration,
 * runs kept apart, expanded groups, lanes that never overlap, and hits on bars.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TaskView } from '../../renderer/src/api-types.ts';
import { groupLabel, groupTasks } from '../../renderer/src/graph-groups.ts';
import { layoutGraph } from '../../renderer/src/graph-layout.ts';
import { barAt, layoutTimeline } from '../../renderer/src/timeline-layout.ts';
import type { TaskStore } from '../../renderer/src/task-store.ts';

/** The part of a TaskStore the layouts read. */
function store(tasks: TaskView[]): TaskStore {
  return { tasks: new Map(tasks.map((t) => [t.id, t])), order: tasks.map((t) => t.id), generation: 1 } as TaskStore;
}

let next = 0;
function task(name: string, at: number, ran: number, extra: Partial<TaskView> = {}): TaskView {
  return {
    id: `t${next++}`,
    name,
    kind: 'function',
    state: 'FINISHED',
    deps: [],
    attempt: 0,
    submittedAt: at,
    startedAt: at + 1,
    endedAt: at + 1 + ran,
    jobId: 'job1',
    nodeId: 'n1',
    backend: 'local',
    ...extra,
  };
}

/** A driver loop: `fan` circuits at once, wait, one optimiser step, wait; `iterations` times. */
function vqe(iterations: number, fan: number, jobId = 'job1'): TaskView[] {
  const out: TaskView[] = [];
  let t = 0;
  for (let it = 0; it < iterations; it++) {
    for (let k = 0; k < fan; k++) out.push(task('circuit', t, 5 + k, { jobId, backend: 'simulator' }));
    t += 10 + fan;
    out.push(task('optimiser-step', t, 2, { jobId }));
    t += 5;
  }
  return out;
}

test('a driver loop of fan-outs becomes one group per name and iteration', () => {
  const s = store(vqe(3, 18));
  const g = groupTasks(s, undefined);
  assert.deepEqual(
    g.groups.map((x) => groupLabel(x, g)),
    [
      'circuit ×18 (iteration 0)',
      'optimiser-step ×1 (iteration 0)',
      'circuit ×18 (iteration 1)',
      'optimiser-step ×1 (iteration 1)',
      'circuit ×18 (iteration 2)',
      'optimiser-step ×1 (iteration 2)',
    ],
  );
  assert.deepEqual(g.groups[0]!.states, [0, 0, 0, 18, 0]);
  assert.equal(g.groups[0]!.backends.get('simulator'), 18);
});

test('tasks submitted while their group still runs stay in it (a pipelined map is one group)', () => {
  const tasks = Array.from({ length: 50 }, (_, i) => task('square', i, 100));
  const g = groupTasks(store(tasks), undefined);
  assert.deepEqual(
    g.groups.map((x) => groupLabel(x, g)),
    ['square ×50'],
  );
});

test('batches of one name back to back are one stream; a pause between them starts an iteration', () => {
  // 3 batches of 10, each submitted 2 ms after the last one ended (a loop of get()s).
  const back = Array.from({ length: 30 }, (_, i) => task('noop', Math.floor(i / 10) * 10, 1));
  const g = groupTasks(store(back), undefined);
  assert.deepEqual(
    g.groups.map((x) => groupLabel(x, g)),
    ['noop ×30'],
  );
  // 3 batches of 10, a second apart (a driver that waits, then thinks).
  const paused = Array.from({ length: 30 }, (_, i) => task('noop', Math.floor(i / 10) * 1000, 1));
  const p = groupTasks(store(paused), undefined);
  assert.deepEqual(
    p.groups.map((x) => groupLabel(x, p)),
    ['noop ×10 (iteration 0)', 'noop ×10 (iteration 1)', 'noop ×10 (iteration 2)'],
  );
});

test('runs are grouped apart, and one run can be picked', () => {
  const s = store([...vqe(2, 4, 'jobA'), ...vqe(1, 3, 'jobB')]);
  assert.equal(groupTasks(s, undefined).groups.length, 6);
  const b = groupTasks(s, 'jobB');
  assert.deepEqual(
    b.groups.map((x) => groupLabel(x, b)),
    ['circuit ×3', 'optimiser-step ×1'],
  );
});

test('the layout puts iterations in rows and groups left to right; an expanded group holds its tasks', () => {
  const s = store(vqe(3, 18));
  const L = layoutGraph(s, { jobId: undefined, expanded: new Set(), aspect: 0.5 });
  assert.equal(L.boxes.length, 6);
  const [c0, o0, c1] = L.boxes;
  assert.equal(c0!.y, o0!.y, 'an iteration is one row');
  assert.ok(o0!.x > c0!.x + c0!.w, 'the optimiser step is right of its circuits');
  assert.ok(c1!.y > c0!.y, 'the next iteration is below');
  assert.deepEqual(o0!.lines, ['optimiser-step', 'iteration 0']);
  assert.equal(o0!.id, s.order[18], 'a group of one is its task');
  const key = groupTasks(s, undefined).groups[2]!.key;
  const open = layoutGraph(s, { jobId: undefined, expanded: new Set([key]), aspect: 0.5 });
  assert.equal(open.boxes.filter((b) => b.kind === 'task').length, 18);
  const frame = open.boxes.find((b) => b.kind === 'frame')!;
  for (const b of open.boxes.filter((x) => x.kind === 'task')) {
    assert.ok(b.x >= frame.x && b.x + b.w <= frame.x + frame.w && b.y >= frame.y && b.y + b.h <= frame.y + frame.h);
  }
});

test('an expanded group of more than 1,000 tasks draws the first 1,000 and says so', () => {
  const s = store(Array.from({ length: 1500 }, (_, i) => task('noop', 0, 10 + i)));
  const key = groupTasks(s, undefined).groups[0]!.key;
  const L = layoutGraph(s, { jobId: undefined, expanded: new Set([key]), aspect: 1 });
  assert.equal(L.boxes.filter((b) => b.kind === 'task').length, 1000);
  assert.deepEqual(L.boxes[0]!.lines, ['noop ×1500', 'first 1000 shown']);
});

test('a wide view deals long runs of rows into side-by-side bands', () => {
  const s = store(vqe(30, 18));
  const narrow = layoutGraph(s, { jobId: undefined, expanded: new Set(), aspect: 0.5 });
  const wide = layoutGraph(s, { jobId: undefined, expanded: new Set(), aspect: 1.8 });
  assert.ok(wide.width > narrow.width && wide.height < narrow.height / 1.5, `${wide.width}x${wide.height}`);
});

test('edges join the groups whose results are passed as arguments', () => {
  const squares = Array.from({ length: 5 }, (_, i) => task('square', i, 100));
  const plus = squares.map((sq, i) => task('plusOne', i, 100, { deps: [sq.id] }));
  const L = layoutGraph(store([...squares, ...plus]), { jobId: undefined, expanded: new Set(), aspect: 1 });
  assert.deepEqual(L.edges, [[0, 1]]);
});

test('timeline lanes: overlapping tasks of a node get lanes of their own, and a bar is found by time', () => {
  const tasks = [
    task('a', 0, 10, { nodeId: 'n1' }), // runs 1..11
    task('b', 2, 10, { nodeId: 'n1' }), // 3..13: overlaps a
    task('c', 12, 5, { nodeId: 'n1' }), // 13..18: after a, in a's lane
    task('d', 0, 4, { nodeId: 'n2', backend: 'slurm' }),
    { ...task('e', 0, 0), startedAt: undefined, endedAt: undefined, state: 'PENDING_NODE_ASSIGNMENT' as const },
  ];
  const L = layoutTimeline(store(tasks), undefined, 100);
  assert.equal(L.bars, 4);
  assert.equal(L.nodes, 2);
  assert.deepEqual(
    L.lanes.map((l) => [l.backend, l.nodeId, l.slot, l.ids.length]),
    [
      ['local', 'n1', 0, 2],
      ['local', 'n1', 1, 1],
      ['slurm', 'n2', 0, 1],
    ],
  );
  assert.equal(barAt(L.lanes[0]!, 5, 100), tasks[0]!.id);
  assert.equal(barAt(L.lanes[0]!, 12, 100), undefined);
  assert.equal(barAt(L.lanes[0]!, 15, 100), tasks[2]!.id);
  assert.equal(barAt(L.lanes[1]!, 12, 100), tasks[1]!.id);
});
