/**
 * Preloaded (`node --import`) into every process of a profiled run. The runtime ends agents and
 * workers with SIGKILL, which loses their `--cpu-prof` output; this turns those kills into
 * SIGTERM and exits cleanly on SIGTERM, so every process writes its profile.
 */
import { ChildProcess } from 'node:child_process';

const originalKill = process.kill.bind(process);
process.kill = ((pid: number, signal?: string | number) =>
  originalKill(pid, signal === 'SIGKILL' ? 'SIGTERM' : signal)) as typeof process.kill;

const originalChildKill = ChildProcess.prototype.kill;
ChildProcess.prototype.kill = function kill(this: ChildProcess, signal?: NodeJS.Signals | number) {
  return originalChildKill.call(this, signal === 'SIGKILL' ? 'SIGTERM' : signal);
};

process.on('SIGTERM', () => process.exit(0));
