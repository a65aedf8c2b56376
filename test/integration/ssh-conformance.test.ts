/** The backend conformance suite on the ssh backend, against the test sshd (test/services). */
import { before, after } from 'node:test';
import { init, shutdown } from 'orrery-compute';
import { Head } from '../../orchestrator/head/head.ts';
import { createSshBackend } from '../../backends/ssh/index.ts';
import { requireService, sshService } from '../services/env.ts';
import { conformance } from './conformance.ts';

let head: Head | undefined;
if (requireService('ssh')) {
  before(async () => {
    head = new Head({ log: () => {} });
    await head.addBackend(
      createSshBackend({
        name: 'ssh',
        kind: 'ssh',
        hosts: [`${sshService.user}@${sshService.host}:${sshService.port}`],
        identityFile: sshService.keyPath,
        knownHostsFile: sshService.knownHostsPath,
        numCpus: 2,
      }),
    );
    await init({ cluster: { head }, logToDriver: false });
  });
  after(async () => {
    await shutdown();
    await head?.shutdown();
  });
  conformance('ssh');
}
