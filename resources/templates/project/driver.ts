/**
 * A first Orrery driver: tasks, an actor and a quantum circuit. Run it with `npm start`
 * (orrery run driver.ts). With `npm run dashboard` open, it runs on that head and its tasks
 * show up live in the dashboard; otherwise it starts a head in this process.
 */
import { init, remote, get, wait, circuit, shutdown } from 'orrery-compute';

// Under a running head (orrery run sets ORRERY_ADDRESS) init() connects to it, and that head
// already read orrery.json; on its own it starts an embedded head with orrery.json's backends.
await init(process.env.ORRERY_ADDRESS ? {} : { config: 'orrery.json' });

// 1. Remote tasks: remote() turns a function into a task; .remote() returns an ObjectRef (a
//    future) at once. Functions travel as source, so they must not use outer variables:
//    pass what they need as arguments.
const square = remote((x: number) => x * x);
const refs = [1, 2, 3, 4, 5, 6].map((i) => square.remote(i));

// wait() returns as soon as some are ready; get() waits for values.
const { ready, notReady } = await wait(refs, { numReturns: 2 });
console.log(`${ready.length} squares ready, ${notReady.length} still running`);
console.log('squares:', await get(refs));

// Refs can be arguments: the task runs once its inputs are ready (a task graph).
const add = remote((a: number, b: number) => a + b);
console.log('3² + 4² =', await get(add.remote(square.remote(3), square.remote(4))));

// 2. An actor: a class instance living in a worker; calls run in order and keep its state.
class Counter {
  total = 0;
  add(k: number): number {
    this.total += k;
    return this.total;
  }
}
const counter = remote(Counter).remote();
for (const k of [1, 2, 3]) counter.add.remote(k);
console.log('counter total:', await get(counter.add.remote(10)));

// 3. A quantum circuit (OpenQASM 3) on the simulator backend "sim" from orrery.json.
const bell = `OPENQASM 3.0;
include "stdgates.inc";
qubit[2] q;
bit[2] c;
h q[0];
cx q[0], q[1];
c = measure q;`;
const sample = circuit({ backend: 'sim', shots: 1000 });
const result = await get(sample.remote(bell));
console.log('Bell state counts:', result.counts); // about half '00', half '11'

// Ends the workers and the embedded head (a running head service stays up).
await shutdown();
