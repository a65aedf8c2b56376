import { before, after } from 'node:test';
import { init, shutdown } from 'orrery-compute';
import { conformance } from './conformance.ts';

before(async () => {
  await init({
    numCpus: 2,
    logToDriver: false,
    backends: [{ name: 'example', kind: 'module:./resources/examples/example-backend.ts', nodes: 1, numCpus: 2 }],
  });
});
after(shutdown);

conformance('local');
conformance('example');
