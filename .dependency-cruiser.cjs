/**
 * Layering, checked by `npm run lint` (docs/architecture.md describes the layers). An
 * allow-list: each folder names what it may import, and any import no rule allows is an
 * error, so a new leak fails the lint instead of slipping past a deny-list. Node built-ins
 * and npm packages are allowed everywhere except Electron's (see the forbidden rules).
 */

/** Files of these orchestrator folders (e.g. `orch('core', 'protocol')`). */
const orch = (...folders) => `^orchestrator/(${folders.join('|')})/`;

/** `from` folder may import `to` paths (and its own folder). */
const layer = (from, to, comment) => ({ comment, from: { path: from }, to: { path: [from, ...to] } });

const BELOW_HEAD = ['core', 'protocol', 'scheduler', 'objects', 'control', 'sessions', 'agent', 'client'];

module.exports = {
  allowedSeverity: 'error',
  allowed: [
    {
      comment: 'Node built-ins and npm packages (Electron only in electron/, below).',
      from: {},
      to: { dependencyTypes: ['core', 'npm', 'npm-dev', 'npm-optional', 'npm-peer'] },
    },
    layer(
      orch('core'),
      [],
      'ids, errors, resources, options, names, serialization: the bottom layer imports nothing of Orrery.',
    ),
    layer(orch('protocol'), [orch('core')], 'Messages, frames, channels: core types only.'),
    layer(orch('scheduler'), [orch('core')], 'The pure scheduler sees only core types.'),
    layer(
      orch('objects'),
      [orch('core', 'protocol')],
      'The object store reads the task table through ports (lineage.ts, object-plane.ts), never control/.',
    ),
    layer(
      orch('control'),
      [orch('core', 'protocol', 'scheduler', 'objects')],
      'Task, actor, lease and placement group tables.',
    ),
    layer(orch('sessions'), [orch('core', 'protocol')], 'Session recording and reading.'),
    layer(
      orch('client'),
      [orch('core', 'protocol')],
      'Client-side transport to a head service: WebSocket channel, head.json, HTTP client, client errors.',
    ),
    layer(
      orch('agent'),
      [orch('core', 'protocol', 'objects'), '^orchestrator/api/(runtime|ref-tracker|objects)\\.ts$'],
      'The node agent and its workers; a worker process installs the API runtime bound to its task (its slot, ref tracker and reviver).',
    ),
    layer(
      orch('head'),
      [orch(...BELOW_HEAD), '^backends/types\\.ts$'],
      'The head assembles everything below it; backends only through their contract.',
    ),
    {
      comment:
        'backend-registry.ts is the one place that knows the built-in backends (and what the API takes from them).',
      from: { path: '^orchestrator/head/backend-registry\\.ts$' },
      to: { path: '^backends/' },
    },
    layer(
      orch('api'),
      [
        orch('core', 'protocol', 'client', 'head'),
        '^orchestrator/scheduler/placement-rules\\.ts$',
        '^orchestrator/sessions/session-paths\\.ts$',
      ],
      'The public API: an embedded head, or a client of a head service; backends only through head/backend-registry.ts.',
    ),
    layer(
      orch('service'),
      [orch(...BELOW_HEAD, 'head'), '^backends/types\\.ts$'],
      'The head as a service: head and below.',
    ),
    layer(
      orch('remote-head'),
      [orch('core', 'client', 'sessions'), '^backends/transport/'],
      'The head on another machine (orrery start --on): ships it and tunnels to it over the shared SSH transport.',
    ),
    layer(
      orch('cli'),
      [orch(...BELOW_HEAD, 'head', 'service', 'api', 'remote-head')],
      'The orrery command: the service, the API, the remote head and below.',
    ),
    layer(
      orch('testing'),
      [orch('core', 'head'), '^backends/types\\.ts$', '^backends/local/'],
      'LocalCluster: a head with local (and elastic local) backends.',
    ),
    layer('^backends/types\\.ts$', [orch('core', 'protocol')], 'The Backend contract.'),
    layer(
      '^backends/transport/',
      [orch('core', 'protocol')],
      'Transports shared by backends (ssh, AWS, shell quoting).',
    ),
    {
      comment:
        'A backend imports its own folder, the contract, core, protocol and shared transports; never another backend or the head.',
      from: { path: '^backends/([^/]+)/' },
      to: { path: ['^backends/$1/', '^backends/types\\.ts$', '^backends/transport/', orch('core', 'protocol')] },
    },
    layer(
      '^renderer/',
      ['^orchestrator/protocol/state-rows\\.ts$'],
      'The dashboard talks to the head only over the protocol; of its code it shares only the row types (state-rows.ts, which imports nothing).',
    ),
    layer(
      '^electron/',
      ['^orchestrator/core/package-root\\.ts$'],
      'The desktop shell starts the head as a child process; of its code it shares only the package-root lookup.',
    ),
    {
      comment: 'Electron itself (provided by the electron binary, not an npm dependency).',
      from: { path: '^electron/' },
      to: { couldNotResolve: true, path: '^electron$' },
    },
    { comment: 'Tests and benchmarks may import anything.', from: { path: '^(test|bench)/' }, to: {} },
  ],
  forbidden: [
    {
      name: 'no-cycles',
      severity: 'error',
      comment: 'Import cycles make load order fragile.',
      from: {},
      to: { circular: true, dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'no-electron-anywhere-else',
      severity: 'error',
      comment: 'Only the desktop shell loads Electron.',
      from: { pathNot: '^electron/' },
      to: { path: '^(node_modules/electron/|electron$)' },
    },
    {
      name: 'state-rows-standalone',
      severity: 'error',
      comment: 'protocol/state-rows.ts is bundled into the browser dashboard as it is: it imports nothing.',
      from: { path: '^orchestrator/protocol/state-rows\\.ts$' },
      to: {},
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // `await import('orrery-compute')` inside shipped task code runs on a worker, not at module load.
    exclude: { dynamic: true },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
