/**
 * `npm run app` (and `npm start`, which adds `--example vqe-h2`): the desktop app when Electron
 * is installed (node_modules/.bin/electron), else the same dashboard in a browser: it says
 * Electron is missing and runs `orrery dashboard` (which starts or finds the head service,
 * prints the dashboard URL and runs the example, if any).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildElectron } from './build.ts';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const electron = join(repo, 'node_modules', '.bin', 'electron');

function run(cmd: string, args: string[]): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: repo, stdio: 'inherit' });
    child.once('exit', (code) => resolve(code ?? 1));
    for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => child.kill(sig));
  });
}

if (existsSync(electron)) {
  await buildElectron();
  process.exitCode = await run(electron, [join(repo, 'electron', 'dist', 'main.mjs')]);
} else {
  process.stdout.write(
    'Electron is not installed (node_modules/.bin/electron is missing; its binary cannot be downloaded here).\nServing the same dashboard for a browser instead (orrery dashboard):\n',
  );
  process.exitCode = await run(process.execPath, [
    '--import',
    'tsx',
    join(repo, 'orchestrator', 'cli', 'main.ts'),
    'dashboard',
    ...process.argv.slice(2),
  ]);
}
