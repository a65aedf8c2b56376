import { init, shutdown, remote, get, cancel, state } from 'orrery';
await init({ numCpus: 2, logToDriver: false });
const quick = remote({ maxRetries: 0, name: 'shared-worker' }, (ms: number, v: number) => {
  if (ms > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
  return v;
});
for (let round = 0; round < 3; round++) {
await get(Array.from({ length: 200 }, (_, i) => quick.remote(0, i)));
const keep = [quick.remote(600, 1), quick.remote(600, 2)];
const victims = Array.from({ length: 6 }, (_, i) => quick.remote(0, 10 + i));
console.log((await state.listTasks({ filters: [['state', '=', 'RUNNING']] })).length);
for (const v of victims) await cancel(v, { force: true });
console.log((await Promise.all([...keep, ...victims].map(r => get(r).then((x) => JSON.stringify(x), (e) => e.name)))).join(' '));
}
await shutdown();
