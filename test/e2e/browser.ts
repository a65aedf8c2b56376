/**
 * Debian's Chromium driven by playwright-core for the dashboard tests and benchmark: the flags
 * this machine needs (closed network, root, no GPU), a fresh profile, and a record of console
 * errors and page errors so a test can assert there were none.
 */
import { chromium, type Browser, type Page } from 'playwright-core';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

/** Where Debian installs Chromium (test/services/install.sh). */
export const CHROMIUM = process.env.ORRERY_CHROMIUM ?? '/usr/bin/chromium';

/** Screenshots of the main views go here (gitignored). */
export const SCREENSHOTS = join('test-output', 'screenshots');

/** Chromium is missing: say how to install it. */
export class ChromiumMissingError extends Error {
  override readonly name = 'ChromiumMissingError';
  constructor() {
    super(
      `${CHROMIUM} not found: install Debian's chromium (sudo bash test/services/install.sh) or set ORRERY_CHROMIUM`,
    );
  }
}

/** The window sizes every dashboard view is checked and photographed at. */
export const VIEWPORTS = [
  { width: 1440, height: 900 },
  { width: 1024, height: 700 },
] as const;

/** A page on the dashboard and every console error / page error it produced. */
export interface DashboardPage {
  readonly browser: Browser;
  readonly page: Page;
  readonly errors: string[];
}

/** Launches headless Chromium and opens `url`. */
export async function openDashboard(url: string, viewport = { width: 1400, height: 900 }): Promise<DashboardPage> {
  if (!existsSync(CHROMIUM)) throw new ChromiumMissingError();
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--enable-precise-memory-info',
    ],
    // playwright starts Chromium with a fresh temporary profile of its own (--user-data-dir).
  });
  const context = await browser.newContext({ viewport, acceptDownloads: true });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  await page.goto(url);
  return { browser, page, errors };
}

/** Waits until the page's event socket is open (the header says "live"). */
export async function waitLive(page: Page, timeout?: number): Promise<void> {
  await page.getByTestId('connection').filter({ hasText: 'live' }).waitFor({ timeout });
}

/** Opens the dashboard at `url` (a one-time login link) and waits until it is live. */
export async function openLiveDashboard(
  url: string,
  viewport?: { width: number; height: number },
): Promise<DashboardPage> {
  const ui = await openDashboard(url, viewport);
  await waitLive(ui.page);
  return ui;
}

/** Runs `check` at each of VIEWPORTS, with a screenshot `<name>-<width>.png` after it. */
export async function atEachSize(page: Page, name: string, check: () => Promise<void>): Promise<void> {
  for (const size of VIEWPORTS) {
    await page.setViewportSize(size);
    await check();
    await screenshot(page, `${name}-${size.width}`);
  }
}

/** Saves a screenshot of the page as test-output/screenshots/<name>.png. */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`) });
}

/** GET /api/<path> of a head with its token, straight from the test: the expectation the UI is checked against. */
export async function headGet<T>(head: { readonly url: string; readonly token: string }, path: string): Promise<T> {
  const res = await fetch(`${head.url}/api/${path}`, { headers: { Authorization: `Bearer ${head.token}` } });
  if (res.status !== 200) throw new Error(`GET /api/${path} answered ${res.status}`);
  return (await res.json()) as T;
}
