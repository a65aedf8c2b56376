/**
 * The task graph a person can read, and the timeline (issue 17, item 3), in Debian's Chromium
 * against a real head service in this process with a quantum simulator backend beside the
 * local one. Two runs: a VQE-shaped one (an exact diagonalisation, three iterations of 18
 * `circuit` tasks on the simulator and an `optimiser-step`, a fan-out of `flaky` tasks of which
 * two fail, a `slow` task) and a small later one. Checked:
 * - fan-outs are grouped by name and iteration at this small size, laid out in more than one
 *   column, and a click expands a group into its tasks;
 * - the run filter lists both runs and shows the latest by default;
 * - colour by backend shows a legend with both backends;
 * - a group's panel gives counts, run times, failures by error name and the slowest tasks as links;
 * - the timeline has a lane per node and worker, and a click on a bar opens its task.
 * Screenshots at 1440x900 and 1024x700 go to test-output/screenshots/graph-*.png.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { screenshot, type DashboardPage, headGet, openLiveDashboard } from './browser.ts';

process.env.ORRERY_HOME = mkdtempSync(join(tmpdir(), 'orrery-e2e-graph-'));
const orrery = await import('../../orchestrator/api/index.ts');
const { HeadService } = await import('../../orchestrator/service/head-service.ts');

type Service = Awaited<ReturnType<typeof HeadService.start>>;
let service: Service;
let ui: DashboardPage;
let page: Page;

const ITERATIONS = 3;
const FAN_OUT = 18;
const QASM = `OPENQASM 3.0;
include "stdgates.inc";
input float[64] t0;
qubit[2] q;
bit[2] c;
ry(t0) q[0];
cx q[0], q[1];
c = measure q;
`;

/** Task rows of the head, as the State API lists them. */
interface Row {
  readonly taskId: string;
  readonly name: string;
  readonly jobId: string;
}
let runA: Row[] = [];
let slowId = '';

before(async () => {
  service = await HeadService.start({
    port: 0,
    numCpus: 2,
    backends: [{ name: 'simulator', kind: 'quantum-simulator', seed: 7 }],
    log: () => undefined,
  });
  // Run A: the VQE's shape.
  await orrery.init({ address: service.info.address, token: service.info.token, logToDriver: false });
  const exact = orrery.remote({ name: 'exact-diagonalisation' }, () => -1.137);
  const step = orrery.remote({ name: 'optimiser-step' }, (t: number) => t * 0.9);
  const energy = orrery.circuit({ backend: 'simulator', shots: 256 });
  const exactRef = exact.remote();
  let theta = 0.4;
  for (let it = 0; it < ITERATIONS; it++) {
    const counts = await orrery.get(Array.from({ length: FAN_OUT }, (_, k) => energy.remote(QASM, { t0: theta + k })));
    assert.equal(counts.length, FAN_OUT);
    theta = await orrery.get(step.remote(theta));
  }
  await orrery.get(exactRef);
  const flaky = orrery.remote({ name: 'flaky', maxRetries: 0 }, (i: number) => {
    if (i % 3 === 1) {
      class BadParams extends Error {
        override readonly name = 'BadParams';
      }
      throw new BadParams(`parameter ${i} out of range`);
    }
    return i;
  });
  const settled = await Promise.allSettled(Array.from({ length: 6 }, (_, i) => orrery.get(flaky.remote(i))));
  assert.equal(settled.filter((s) => s.status === 'rejected').length, 2);
  const slow = orrery.remote({ name: 'slow' }, async () => {
    await new Promise((r) => setTimeout(r, 1500));
    return 1;
  });
  await orrery.get(slow.remote());
  await orrery.shutdown();
  runA = (await headGet<Row[]>(service.info, 'tasks?limit=100000')).filter((r) => r.name !== 'postprocess');
  slowId = runA.find((r) => r.name === 'slow')!.taskId;
  // Run B: a later, small run.
  await orrery.init({ address: service.info.address, token: service.info.token, logToDriver: false });
  const post = orrery.remote({ name: 'postprocess' }, (i: number) => i + 1);
  assert.deepEqual(await orrery.get([1, 2, 3, 4, 5].map((i) => post.remote(i))), [2, 3, 4, 5, 6]);
  await orrery.shutdown();
  ui = await openLiveDashboard(service.login.newUrl().url, { width: 1440, height: 900 });
  page = ui.page;
});

after(async () => {
  await ui?.browser.close();
  await orrery.shutdown().catch(() => undefined);
  await service?.stop();
});

/** The graph's boxes as its text list has them. */
async function boxes(): Promise<{ kind: string; label: string; box: number[]; id: string | null }[]> {
  return page
    .getByTestId('graph-boxes')
    .locator('li')
    .evaluateAll((els) =>
      els.map((e) => ({
        kind: e.getAttribute('data-kind')!,
        label: e.getAttribute('data-label')!,
        box: e.getAttribute('data-box')!.split(',').map(Number),
        id: e.getAttribute('data-id'),
      })),
    );
}

/**
 * Waits until the graph stands still: its view, canvas size and boxes unchanged over three
 * frames. Closing a panel resizes the canvas, and the relayout and fit that follow come a frame
 * or more later (several on a loaded machine); a click computed before them lands elsewhere.
 */
async function graphSettled(): Promise<void> {
  // A string, not a function: tsx would wrap the named helpers inside in a __name the page lacks.
  await page.evaluate(`new Promise((resolve) => {
    const canvas = document.querySelector('[data-testid=graph-canvas]');
    const list = document.querySelector('[data-testid=graph-boxes]');
    const now = () => canvas.dataset.view + '|' + canvas.clientWidth + 'x' + canvas.clientHeight + '|' + list.innerHTML.length;
    let last = now();
    let same = 0;
    const tick = () => {
      const cur = now();
      same = cur === last ? same + 1 : 0;
      last = cur;
      if (same >= 3) resolve();
      else requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  })`);
}

/** Clicks the graph box labelled `label` where it is drawn on the canvas. */
async function clickBox(label: string, kind = 'group'): Promise<void> {
  await graphSettled();
  const b = (await boxes()).find((x) => x.label === label && x.kind === kind);
  assert.ok(b, `a ${kind} box labelled ${label}: ${(await boxes()).map((x) => x.label).join(' | ')}`);
  const [ox, oy, s] = (await page.getByTestId('graph-canvas').getAttribute('data-view'))!.split(',').map(Number);
  const [x, y, w] = b.box;
  // Just inside the left of the box, on its label row: in view even when the box is wide.
  await page
    .getByTestId('graph-canvas')
    .click({ position: { x: ox! + (x! + Math.min(w! / 2, 40)) * s!, y: oy! + (y! + 12) * s! } });
}

async function tab(name: string): Promise<void> {
  await page.getByRole('tab', { name }).click();
}

describe('dashboard graph and timeline', () => {
  test('the run filter lists both runs and shows the latest by default', async () => {
    await tab('Task graph');
    await page
      .getByTestId('graph-total')
      .filter({ hasText: /^5 tasks in 1 groups$/ })
      .waitFor({ timeout: 15_000 });
    const options = await page.getByTestId('run-filter').first().locator('option').allInnerTexts();
    assert.equal(options.length, 3, options.join(' | '));
    assert.match(options[0]!, /^All runs \(\d+ tasks\)$/);
    assert.match(options[1]!, new RegExp(`^Run 1 .* ${runA.length} tasks$`));
    assert.match(options[2]!, /^Run 2 .* 5 tasks \(latest\)$/);
    assert.deepEqual(
      (await boxes()).map((b) => b.label),
      ['postprocess ×5'],
    );
    const jobA = runA[0]!.jobId;
    await page.getByTestId('run-filter').first().selectOption(jobA);
    await page
      .getByTestId('graph-total')
      .filter({ hasText: new RegExp(`^${runA.length} tasks in `) })
      .waitFor();
  });

  test('fan-outs are grouped by name and iteration at a small size, in more than one column', async () => {
    const labels = (await boxes()).map((b) => b.label);
    for (let it = 0; it < ITERATIONS; it++) {
      assert.ok(labels.includes(`circuit ×${FAN_OUT} (iteration ${it})`), labels.join(' | '));
      assert.ok(labels.includes(`optimiser-step (iteration ${it})`), labels.join(' | '));
    }
    assert.ok(labels.includes('exact-diagonalisation'), labels.join(' | '));
    assert.ok(labels.includes('flaky ×6'), labels.join(' | '));
    assert.ok(labels.includes('slow'), labels.join(' | '));
    assert.equal(labels.length, 2 * ITERATIONS + 3);
    const xs = new Set((await boxes()).map((b) => b.box[0]));
    assert.ok(xs.size >= 2, `boxes in ${xs.size} column(s)`);
    assert.equal(await page.getByTestId('graph-count-FAILED').innerText(), '2');
    await screenshot(page, 'graph-1440');
  });

  test('colour by backend shows a legend of both backends', async () => {
    await page.getByTestId('graph-colour').selectOption('backend');
    const chips = await page.getByTestId('graph-backend').allInnerTexts();
    assert.ok(
      chips.some((c) => /^simulator \d+$/.test(c)),
      chips.join(' | '),
    );
    assert.ok(
      chips.some((c) => /^local \d+$/.test(c)),
      chips.join(' | '),
    );
    const sim = chips.find((c) => c.startsWith('simulator'))!;
    assert.equal(sim, `simulator ${ITERATIONS * FAN_OUT}`);
    await screenshot(page, 'graph-backend-1440');
    await page.getByTestId('graph-colour').selectOption('state');
  });

  test('a click expands a group and opens its summary: counts, run times, slowest tasks as links', async () => {
    await clickBox(`circuit ×${FAN_OUT} (iteration 1)`);
    const summary = page.getByTestId('group-summary');
    await summary.waitFor();
    assert.equal(await page.getByTestId(`group-state-FINISHED`).innerText(), String(FAN_OUT));
    for (const k of ['min', 'median', 'p95', 'max'])
      assert.match(await page.getByTestId(`group-duration-${k}`).innerText(), /^\d+(\.\d+)? (ms|s|min)$/);
    assert.equal(await page.getByTestId('group-slowest').locator('li').count(), 10);
    // The group is now a frame holding its 18 tasks.
    await page.waitForFunction(
      (n) => document.querySelectorAll('[data-testid=graph-boxes] li[data-kind=task]').length === n,
      FAN_OUT,
    );
    await screenshot(page, 'graph-expanded-1440');
    await page.getByTestId('group-slowest').locator('button').first().click();
    await page.locator('.task-detail').waitFor();
    assert.equal(await page.getByTestId('task-backend').innerText(), 'simulator');
    await page.keyboard.press('Escape');
    // A task inside the frame opens its own panel.
    const member = (await boxes()).find((b) => b.kind === 'task')!;
    await clickBox(member.label, 'task');
    await page.locator(`.task-detail[data-task-id="${member.id}"]`).waitFor();
    await page.keyboard.press('Escape');
  });

  test("a failing group's summary names its errors with links to the failed tasks", async () => {
    await clickBox('flaky ×6');
    await page.getByTestId('group-failures').waitFor();
    assert.match(await page.getByTestId('group-failures').innerText(), /^BadParams \(TaskError\) ×2: …\w+, …\w+$/);
    assert.equal(await page.getByTestId('group-state-FAILED').innerText(), '2');
    assert.equal(await page.getByTestId('group-state-FINISHED').innerText(), '4');
    await screenshot(page, 'graph-group-panel-1440');
    await page.getByTestId('group-failures').locator('button').first().click();
    await page.getByTestId('task-state').filter({ hasText: 'FAILED' }).waitFor();
    await page.keyboard.press('Escape');
  });

  test('the timeline has a lane per node and worker; hover shows a task, a click opens it', async () => {
    await tab('Timeline');
    const summary = page.getByTestId('timeline-summary');
    await summary.filter({ hasText: new RegExp(`^${runA.length} tasks ran on 2 nodes in \\d+ lanes$`) }).waitFor();
    assert.ok(Number(await summary.getAttribute('data-lanes')) >= 2);
    await screenshot(page, 'graph-timeline-1440');
    await page.getByTestId('timeline-find').fill(slowId);
    await page.getByTestId('timeline-find').press('Enter');
    assert.match(await page.getByTestId('timeline-note').innerText(), /^slow …\w+ on …\w+, 1\.\d+ s$/);
    const canvas = page.getByTestId('timeline-canvas');
    await page.waitForFunction(() =>
      document.querySelector('[data-testid=timeline-canvas]')?.hasAttribute('data-found-x'),
    );
    const x = Number(await canvas.getAttribute('data-found-x'));
    const y = Number(await canvas.getAttribute('data-found-y'));
    await canvas.hover({ position: { x, y } });
    assert.match((await canvas.getAttribute('title')) ?? '', /^slow …\w+\nFINISHED on local/);
    await canvas.click({ position: { x, y } });
    await page.locator(`.task-detail[data-task-id="${slowId}"]`).waitFor();
    await page.keyboard.press('Escape');
  });

  test('at 1024x700 the graph and the timeline still fit and read', async () => {
    await page.setViewportSize({ width: 1024, height: 700 });
    await tab('Task graph');
    await page.getByRole('button', { name: 'Fit' }).first().click();
    await screenshot(page, 'graph-1024');
    await tab('Timeline');
    await screenshot(page, 'graph-timeline-1024');
    assert.deepEqual(ui.errors, []);
  });
});
