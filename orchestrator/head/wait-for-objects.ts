/** `get` and `wait` on the head: resolve once enough of a list of objects are done. */
import type { ObjectStore } from '../objects/object-store.ts';

/**
 * Resolves with the ids (in input order) done once `count` are done or the timeout passes.
 * `block(true)` is called while it waits (a task caller gives its CPUs back), `block(false)` after.
 */
export function waitForObjects(
  store: ObjectStore,
  block: (blocked: boolean) => void,
  ids: readonly string[],
  count: number,
  timeoutMs: number | undefined,
): Promise<string[]> {
  const doneIds = () => ids.filter((id) => store.isDone(id) || !store.has(id));
  const unknown = ids.filter((id) => !store.has(id));
  if (unknown.length > 0)
    return Promise.reject(new Error(`unknown object(s) ${unknown.join(', ')}: refs must come from this cluster`));
  let n = ids.reduce((acc, id) => acc + (store.isDone(id) ? 1 : 0), 0);
  if (n >= count) return Promise.resolve(doneIds());
  block(true);
  return new Promise((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    const watched: string[] = [];
    const finish = () => {
      if (timer) clearTimeout(timer);
      for (const id of watched) store.unwatch(id, onDone);
      block(false);
      resolve(doneIds());
    };
    // One callback for every id (it only counts), so a wait on many ids makes one closure.
    const onDone = () => {
      n++;
      if (n === count) finish();
    };
    for (const id of ids) {
      if (store.isDone(id)) continue;
      watched.push(id);
      store.whenDone(id, onDone);
    }
    if (timeoutMs !== undefined) timer = setTimeout(finish, timeoutMs);
  });
}
