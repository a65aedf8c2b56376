/** `get` and `wait` on the head: resolve once enough of a list of objects are done. */
import type { ObjectStore } from '../objects/object-store.ts';

/**
 * Resolves with the ids (in input order) done once `count` are done or the timeout passes.
 * `block(true)` is called while it waits (a task caller gives its CPUs back), `block(false)` after.
 */
export function waitForObjects(store: ObjectStore, block: (blocked: boolean) => void, ids: readonly string[], count: number, timeoutMs: number | undefined): Promise<string[]> {
  const doneIds = () => ids.filter((id) => store.isDone(id) || !store.has(id));
  const unknown = ids.filter((id) => !store.has(id));
  if (unknown.length > 0) return Promise.reject(new Error(`unknown object(s) ${unknown.join(', ')}: refs must come from this cluster`));
  let n = ids.reduce((acc, id) => acc + (store.isDone(id) ? 1 : 0), 0);
  if (n >= count) return Promise.resolve(doneIds());
  block(true);
  return new Promise((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    const watchers: [string, () => void][] = [];
    const finish = () => {
      if (timer) clearTimeout(timer);
      for (const [id, w] of watchers) store.unwatch(id, w);
      block(false);
      resolve(doneIds());
    };
    for (const id of ids) {
      if (store.isDone(id)) continue;
      const w = () => {
        n++;
        if (n === count) finish();
      };
      watchers.push([id, w]);
      store.whenDone(id, w);
    }
    if (timeoutMs !== undefined) timer = setTimeout(finish, timeoutMs);
  });
}
