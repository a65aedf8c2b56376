import { init, remote, get, put, wait, shutdown, getActor, state } from 'orrery';
await init({ numCpus: 2 });
const sq = remote((x: number) => x * x);
const refs = Array.from({ length: 10 }, (_, i) => sq.remote(i));
console.log(await get(refs));
const add = remote((a: number, b: number) => a + b);
console.log(await get(add.remote(sq.remote(3), put(4))));
class Counter { n = 0; inc(k: number) { this.n += k; return this.n; } }
const C = remote(Counter);
const c = C.options({ name: 'c1' }).remote();
console.log(await get([c.inc.remote(1), c.inc.remote(2)]));
const c2 = await getActor<Counter>('c1');
console.log(await get(c2.inc.remote(10)));
const nested = remote(async (n: number) => {
  const { remote, get } = await import('orrery');
  const f = remote((x: number) => x + 1);
  return await get(f.remote(n));
});
console.log(await get(nested.remote(41)));
const bad = remote(() => { throw new RangeError('boom'); });
try { await get(bad.remote()); } catch (e) { console.log('caught', (e as Error).name, (e as any).remoteName); }
console.log((await state.summarizeTasks()));
await shutdown();
