/**
 * Dashboard benchmark in Debian's Chromium against a real head in this process: how long the
 * dashboard takes to load and draw a run of 100,000 tasks, frame times (requestAnimationFrame
 * deltas, p50/p95) while 1,000 tasks/s stream in for about 5 s, and the page's JS heap and the
 * renderer's memory (CDP Performance.getMetrics). Then the same on the Runs tab (the default
 * view): a fresh page's load until the run's progress counts every task, and frame times while
 * tasks stream in and the driver logs a metric every 100 ms.
 *
 *   npx tsx bench/dashboard-bench.ts [--quick]     one JSON object per line
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';

const QUICK = process.argv.includes('--quick');
/** Tasks in the head before the page opens. */
const SNAPSHOT_TASKS = QUICK ? 20_000 : 100_000;
const STREAM_RATE = 1000;
const STREAM_SECONDS = 5;
const SUBMIT_CHUNK = 10_000;

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

/** Runs the benchmark; returns one result line per metric. */
export async function runDashboardBench(): Promise<Record<string, unknown>[]> {
  process.env.ORRERY_HOME ??= mkdtempSync(join(tmpdir(), 'orrery-dashboard-bench-'));
  execFileSync(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('../renderer/build.ts', import.meta.url))], {
    stdio: 'ignore',
  });
  const orrery = await import('../orchestrator/api/index.ts');
  const { HeadService } = await import('../orchestrator/service/head-service.ts');
  const { openDashboard } = await import('../test/e2e/browser.ts');
  const service = await HeadService.start({ port: 0, log: () => undefined });
  const lines: Record<string, unknown>[] = [];
  const line = (metric: string, value: number, unit: string, note: string) =>
    lines.push({ metric, value: +value.toFixed(2), unit, system: 'orrery', note });
  try {
    await orrery.init({ address: service.info.address, token: service.info.token, logToDriver: false });
    const noop = orrery.remote({ name: 'noop' }, (i: number) => i);
    const submitStart = performance.now();
    for (let done = 0; done < SNAPSHOT_TASKS; done += SUBMIT_CHUNK) {
      await orrery.get(
        Array.from({ length: Math.min(SUBMIT_CHUNK, SNAPSHOT_TASKS - done) }, (_, i) => noop.remote(done + i)),
      );
    }
    const submitS = (performance.now() - submitStart) / 1000;

    const loadStart = performance.now();
    // The dashboard opens on Runs; the graph's figures are measured on a page opened on the graph, as before.
    const ui = await openDashboard(`${service.login.newUrl().url}#graph`);
    const page = ui.page;
    try {
      await textShown(page, '[data-testid="graph-count-FINISHED"]', String(SNAPSHOT_TASKS), 120_000);
      line(
        'dashboard_initial_load',
        performance.now() - loadStart,
        'ms',
        `page open to ${SNAPSHOT_TASKS} finished tasks counted and the grouped graph drawn (the head ran them in ${submitS.toFixed(1)} s first)`,
      );

      // Frame deltas from inside the page while the driver streams STREAM_RATE tasks/s.
      await startFrames(page);
      await stream(orrery, noop);
      const total = SNAPSHOT_TASKS + STREAM_RATE * STREAM_SECONDS;
      await page
        .getByTestId('graph-count-FINISHED')
        .filter({ hasText: new RegExp(`^${total}$`) })
        .waitFor({ timeout: 60_000 });
      const frames = await stopFrames(page);
      const note = `task graph view (grouped) with ${SNAPSHOT_TASKS} tasks while ${STREAM_RATE} tasks/s stream in for ${STREAM_SECONDS} s; ${frames.length} frames, headless Chromium`;
      line('dashboard_frame_time_p50', percentile(frames, 50), 'ms', note);
      line('dashboard_frame_time_p95', percentile(frames, 95), 'ms', note);
      line('dashboard_frame_time_max', frames[frames.length - 1] ?? NaN, 'ms', note);

      // The table view with every task, scrolled to the middle: only the visible rows exist.
      await page.getByRole('tab', { name: 'Tables' }).click();
      await page
        .getByTestId('table-count')
        .filter({ hasText: `${total} of ${total} tasks` })
        .waitFor({ timeout: 60_000 });
      const rowsInDom = Number(await page.evaluate('document.querySelectorAll(".vt-body .vt-row").length'));
      line(
        'dashboard_table_rows_in_dom',
        rowsInDom,
        'rows',
        `table of ${total} tasks: rows that exist in the DOM (virtualised)`,
      );

      const cdp = await page.context().newCDPSession(page);
      await cdp.send('Performance.enable');
      const { metrics } = (await cdp.send('Performance.getMetrics')) as { metrics: { name: string; value: number }[] };
      const metric = (n: string) => metrics.find((m) => m.name === n)?.value ?? NaN;
      line(
        'dashboard_js_heap_used',
        metric('JSHeapUsedSize') / 2 ** 20,
        'MiB',
        `page JS heap with ${total} tasks loaded (CDP Performance.getMetrics)`,
      );
      line(
        'dashboard_js_heap_total',
        metric('JSHeapTotalSize') / 2 ** 20,
        'MiB',
        `page JS heap reserved with ${total} tasks loaded`,
      );
      line('dashboard_dom_nodes', metric('Nodes'), 'nodes', `DOM nodes with ${total} tasks loaded`);
    } finally {
      await ui.browser.close();
    }

    // The Runs tab, where a fresh page opens: load until the run counts every task, then frames while tasks stream and the driver logs.
    const before = SNAPSHOT_TASKS + STREAM_RATE * STREAM_SECONDS;
    // A fresh page gets the head's most recent 100,000 tasks (dashboard-events.ts SNAPSHOT_TASKS); later ones stream in.
    const shown = Math.min(before, 100_000);
    const runsStart = performance.now();
    const runsUi = await openDashboard(service.login.newUrl().url);
    try {
      const runs = runsUi.page;
      const progress = runs.locator('tbody[data-run] .name-progress[data-name="noop"] .count');
      await textShown(runs, 'tbody[data-run] .name-progress[data-name="noop"] .count', `${shown}/${shown}`, 120_000);
      line(
        'dashboard_runs_initial_load',
        performance.now() - runsStart,
        'ms',
        `page open (Runs, the default tab) to the run's progress counting the ${shown} finished tasks of the snapshot`,
      );
      await startFrames(runs);
      await stream(orrery, noop, (tick) => orrery.log({ loss: 1 / (tick + 1) }, { step: tick }));
      const total = shown + STREAM_RATE * STREAM_SECONDS;
      await progress.filter({ hasText: `${total}/${total}` }).waitFor({ timeout: 60_000 });
      await runs.locator('figure[data-metric="loss"]').waitFor({ timeout: 30_000 });
      const frames = await stopFrames(runs);
      const note = `Runs tab (progress of ${shown} tasks and a metric curve) while ${STREAM_RATE} tasks/s stream in and the driver logs every 100 ms for ${STREAM_SECONDS} s; ${frames.length} frames, headless Chromium`;
      line('dashboard_runs_frame_time_p50', percentile(frames, 50), 'ms', note);
      line('dashboard_runs_frame_time_p95', percentile(frames, 95), 'ms', note);
      line('dashboard_runs_frame_time_max', frames[frames.length - 1] ?? NaN, 'ms', note);
    } finally {
      await runsUi.browser.close();
    }
  } finally {
    await orrery.shutdown().catch(() => undefined);
    await service.stop();
  }
  return lines;
}

type Page = Awaited<ReturnType<typeof import('../test/e2e/browser.ts')['openDashboard']>>['page'];

/**
 * Waits until the element's text starts with `text`, checked every frame in the page: a load
 * figure must not carry a locator's polling interval (it waits up to 500 ms between checks).
 */
async function textShown(page: Page, selector: string, text: string, timeout: number): Promise<void> {
  type Doc = { querySelector(s: string): { textContent: string | null } | null };
  await page.waitForFunction(
    (a) =>
      ((globalThis as unknown as { document: Doc }).document.querySelector(a.selector)?.textContent ?? '').startsWith(
        a.text,
      ),
    { selector, text },
    { polling: 'raf', timeout },
  );
}

/** Starts recording requestAnimationFrame deltas inside the page. */
async function startFrames(page: Page): Promise<void> {
  await page.evaluate(
    `(() => { window.__frames = []; window.__stopFrames = false; let last = performance.now(); const tick = (t) => { window.__frames.push(t - last); last = t; if (!window.__stopFrames) requestAnimationFrame(tick); }; requestAnimationFrame(tick); })()`,
  );
}

/** Stops recording; the frame deltas, sorted (the first, from before recording, dropped). */
async function stopFrames(page: Page): Promise<number[]> {
  const frames = (await page.evaluate('(() => { window.__stopFrames = true; return window.__frames; })()')) as number[];
  return frames.slice(1).sort((a, b) => a - b);
}

/** Submits STREAM_RATE tasks/s for STREAM_SECONDS, in ten batches a second (`each` runs per batch), and waits for them. */
async function stream(
  orrery: typeof import('../orchestrator/api/index.ts'),
  fn: import('../orchestrator/api/index.ts').RemoteFunction<[number], number>,
  each?: (tick: number) => void,
): Promise<void> {
  const streamed: Promise<unknown>[] = [];
  const perTick = STREAM_RATE / 10;
  const streamStart = performance.now();
  for (let tick = 0; tick < STREAM_SECONDS * 10; tick++) {
    streamed.push(orrery.get(Array.from({ length: perTick }, (_, i) => fn.remote(i))));
    each?.(tick);
    const next = streamStart + (tick + 1) * 100;
    await new Promise((r) => setTimeout(r, Math.max(0, next - performance.now())));
  }
  await Promise.all(streamed);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const l of await runDashboardBench()) process.stdout.write(`${JSON.stringify(l)}\n`);
  process.exit(0);
}
