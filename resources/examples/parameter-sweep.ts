/**
 * Orrery's first example: a hyper-parameter sweep on the local default. Each task trains a
 * small logistic-regression model on shared synthetic data (put once, passed by ref) and
 * reports to an aggregating actor; the driver prints progress as results arrive.
 *
 *   npm run example
 */
import { init, remote, put, get, wait, shutdown, clusterResources, type ActorHandle } from 'orrery-compute';

/** Synthetic binary classification data: features and labels in typed arrays. */
function makeData(n: number, dims: number, seed: number): { x: Float64Array; y: Uint8Array; dims: number } {
  let s = seed;
  const rand = () => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const w = Array.from({ length: dims }, () => rand() * 2 - 1);
  const x = new Float64Array(n * dims);
  const y = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    let z = 0;
    for (let d = 0; d < dims; d++) {
      const v = rand() * 2 - 1;
      x[i * dims + d] = v;
      z += v * w[d]!;
    }
    y[i] = z + (rand() - 0.5) * 0.4 > 0 ? 1 : 0;
  }
  return { x, y, dims };
}

/** Collects trial results as they finish (a Ray-style aggregating actor). */
class Leaderboard {
  private readonly trials: { lr: number; l2: number; accuracy: number }[] = [];
  report(trial: { lr: number; l2: number; accuracy: number }): number {
    this.trials.push(trial);
    return this.trials.length;
  }
  best(k: number) {
    return [...this.trials].sort((a, b) => b.accuracy - a.accuracy).slice(0, k);
  }
}

/** Trains with plain gradient descent and reports held-out accuracy to the leaderboard. */
const train = remote(
  { name: 'train' },
  async (
    data: { x: Float64Array; y: Uint8Array; dims: number },
    lr: number,
    l2: number,
    board: ActorHandle<Leaderboard>,
  ) => {
    const { x, y, dims } = data;
    const n = y.length;
    const split = Math.floor(n * 0.8);
    const w = new Float64Array(dims);
    for (let epoch = 0; epoch < 60; epoch++) {
      const grad = new Float64Array(dims);
      for (let i = 0; i < split; i++) {
        let z = 0;
        for (let d = 0; d < dims; d++) z += w[d]! * x[i * dims + d]!;
        const err = 1 / (1 + Math.exp(-z)) - y[i]!;
        for (let d = 0; d < dims; d++) grad[d]! += err * x[i * dims + d]!;
      }
      for (let d = 0; d < dims; d++) w[d]! -= lr * (grad[d]! / split + l2 * w[d]!);
    }
    let correct = 0;
    for (let i = split; i < n; i++) {
      let z = 0;
      for (let d = 0; d < dims; d++) z += w[d]! * x[i * dims + d]!;
      if ((z > 0 ? 1 : 0) === y[i]) correct++;
    }
    const accuracy = correct / (n - split);
    const { get } = await import('orrery-compute');
    await get(board.report.remote({ lr, l2, accuracy }));
    return accuracy;
  },
);

await init();
console.log('cluster:', await clusterResources());
const data = put(makeData(4000, 16, 42));
const board = remote(Leaderboard).remote();
const grid = [0.01, 0.03, 0.1, 0.3, 1, 3].flatMap((lr) => [0, 0.001, 0.01, 0.1].map((l2) => ({ lr, l2 })));
let pending = grid.map(({ lr, l2 }) => train.remote(data, lr, l2, board));
const started = Date.now();
while (pending.length > 0) {
  const { ready, notReady } = await wait(pending, { numReturns: Math.min(4, pending.length) });
  pending = notReady;
  console.log(
    `progress: ${grid.length - pending.length}/${grid.length} trials done (${((Date.now() - started) / 1000).toFixed(1)} s)`,
  );
  await get(ready);
}
console.log('best trials:');
console.table(await get(board.best.remote(5)));
await shutdown();
