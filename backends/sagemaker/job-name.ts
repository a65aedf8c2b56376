/**
 * Training job names. SageMaker wants 1-63 characters matching `^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}`,
 * unique per account and region forever (a finished job's name stays taken), so a name is the
 * task's name for people plus the task id and a per-attempt suffix for uniqueness.
 */
import { randomBytes } from 'node:crypto';

/** SageMaker's TrainingJobName pattern. */
export const JOB_NAME = /^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/;

const MAX = 63;

/**
 * `<task name>-<task id>-<attempt>`: the name squeezed to letters, digits and single hyphens and
 * shortened so the whole stays within 63 characters; the id keeps its last 12 characters.
 * `attempt` defaults to 6 random base-36 characters (a retried task needs a new name).
 */
export function trainingJobName(taskName: string, taskId: string, attempt: string = randomAttempt()): string {
  const clean = (s: string) => s.replace(/[^a-zA-Z0-9]+/g, '-').replace(/^-+|-+$/g, '');
  const id = clean(taskId).slice(-12).replace(/^-+/, '');
  const tail = [id, clean(attempt)].filter(Boolean).join('-');
  const room = MAX - tail.length - 1;
  let head = clean(taskName).slice(0, Math.max(0, room)).replace(/-+$/, '');
  if (!/^[a-zA-Z0-9]/.test(head)) head = 'orrery';
  const name = tail ? `${head}-${tail}` : head;
  return name.slice(0, MAX).replace(/-+$/, '');
}

function randomAttempt(): string {
  return BigInt(`0x${randomBytes(5).toString('hex')}`)
    .toString(36)
    .padStart(6, '0')
    .slice(-6);
}
