/**
 * Whether the head that recorded a session is still running. The recorder stores its pid and
 * host in the session; a session marked `running` whose process is gone was left by a crash.
 * A reused pid can make a dead head look alive; that errs on the side of not deleting data.
 */
import { hostname } from 'node:os';

/** True when a process with this pid exists on this machine (EPERM means it exists, owned by another user). */
export function isProcessAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * True when a session stored as `running` is still being recorded: its process is alive here,
 * or it was recorded on another host, where liveness cannot be checked.
 */
export function isRecordingLive(stored: { status: string; pid: number; hostname: string }): boolean {
  if (stored.status !== 'running') return false;
  if (stored.hostname !== hostname()) return true;
  return isProcessAlive(stored.pid);
}
