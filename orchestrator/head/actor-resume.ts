/**
 * Actors of a session whose head died (`orrery start --resume`). An actor lives in its agent's
 * worker, and agents outlive their head: the agent tells the new head which actors it hosts,
 * and those the session shows alive are adopted as they are (same worker, same in-memory state;
 * TaskAdoption.actor). Actors no agent reported once the backends are back (their node is gone,
 * or the agents' grace ran out) are created again from the class, constructor arguments and
 * options the session recorded, as a restart counted against their `maxRestarts`; with none
 * left they are dead, and calls on them fail saying why. The session records each adoption,
 * restart and death with its reason (`actor_events`).
 */
import { newId } from '../core/ids.ts';
import type { NormalizedTaskOptions, TaskSubmission } from '../protocol/messages.ts';
import { FINAL_TASK_STATES, type SessionActorLife, type SessionReader } from '../sessions/index.ts';
import type { AdoptableActor } from './head-options.ts';
import type { Head } from './head.ts';
import { actorCreationOf, rebuildOnHead } from './session-resume.ts';

/** Why an actor is created again: what a resumed head knows of its absence. */
const NOT_REPORTED =
  'no agent reported it when the head resumed the session (its node or agent is gone, or the agent grace period ran out)';

/** For HeadOptions.adoption.actor: an actor an agent reports is adopted when the session shows it alive. */
export function actorAdoptionFromSession(reader: SessionReader): (actorId: string) => AdoptableActor | undefined {
  const lives = new Map(reader.actorLives().map((l) => [l.actorId, l]));
  const jobId = `resumed-${reader.metadata().name}`;
  return (actorId) => {
    const life = lives.get(actorId);
    if (!life || !mayLive(life)) return undefined;
    const row = life.creation;
    const creation = actorCreationOf(reader.taskInfo(row.taskId));
    if (!creation) return undefined;
    const spec: TaskSubmission = {
      taskId: row.taskId,
      name: row.name,
      kind: 'actor-create',
      codeHash: row.functionHash ?? undefined,
      actorId,
      args: [],
      options: JSON.parse(row.optionsJson ?? '{}') as NormalizedTaskOptions,
      ...creation,
    };
    return { spec, jobId, attempt: row.attempt, numRestarts: life.numRestarts, created: row.state === 'FINISHED' };
  };
}

/**
 * After the backends are back (so every agent that outlived the last head has reported its
 * actors): each actor the session shows alive that this head did not adopt is created again
 * under a new creation task, as a restart, or is dead when it has no restart left (or its
 * constructor arguments cannot be rebuilt). Returns how many were restarted and how many died.
 */
export function restoreLostActors(
  head: Head,
  reader: SessionReader,
  log: (line: string) => void,
): { restarted: number; died: number } {
  const jobId = head.startJob();
  let restarted = 0;
  let died = 0;
  for (const life of reader.actorLives()) {
    if (!mayLive(life) || head.knowsActor(life.actorId)) continue;
    const row = life.creation;
    const creation = actorCreationOf(reader.taskInfo(row.taskId));
    const what = `actor ${row.name} (${life.actorId})`;
    if (!creation) {
      log(`orrery: ${what} was lost with the head; the session did not record its options, so it is not created again`);
      continue;
    }
    const max = creation.actorOptions!.maxRestarts;
    const args = row.paramsJson === null ? undefined : (JSON.parse(row.paramsJson) as unknown[]);
    const rebuilt = rebuildOnHead(head, reader, row, args, jobId);
    // Its creation was never sent to a node (the dead head queued it): it runs now, as a first creation.
    const neverRan =
      life.numRestarts === 0 && (row.state === 'PENDING_ARGS_AVAIL' || row.state === 'PENDING_NODE_ASSIGNMENT');
    if (neverRan && 'spec' in rebuilt) {
      head.requests.post({ op: 'submit', task: rebuilt.spec }, { jobId });
      log(`orrery: ${what} had not been created when the head was lost; creating it`);
      continue;
    }
    const why =
      'why' in rebuilt
        ? `it cannot be created again: ${rebuilt.why}`
        : life.numRestarts >= max
          ? `it may not restart (maxRestarts ${max}${life.numRestarts > 0 ? `, all used` : ''}); create it again`
          : undefined;
    if (why !== undefined || 'why' in rebuilt) {
      const spec: TaskSubmission = {
        taskId: row.taskId,
        name: row.name,
        kind: 'actor-create',
        actorId: life.actorId,
        args: [],
        options: JSON.parse(row.optionsJson ?? '{}') as NormalizedTaskOptions,
        ...creation,
      };
      head.buryActor(spec, `${NOT_REPORTED}, and ${why}`);
      log(`orrery: ${what} was lost with the head, and ${why}`);
      died++;
      continue;
    }
    // A new creation task: the session keeps the first one as it ended, and this one as the restart.
    head.restartActor({ ...rebuilt.spec, taskId: newId() }, jobId, life.numRestarts, NOT_REPORTED);
    log(
      `orrery: ${what} was lost with the head; restarting it (restart ${life.numRestarts + 1} of maxRestarts ${max})`,
    );
    restarted++;
  }
  return { restarted, died };
}

/** An actor the session does not show dead: its creation did not fail for good and it was not killed. */
function mayLive(life: SessionActorLife): boolean {
  if (life.state === 'DEAD') return false;
  // Recorded before actor states were (or its creation never ran): its creation row decides.
  return life.state !== null || !FINAL_TASK_STATES.includes(life.creation.state) || life.creation.state === 'FINISHED';
}
