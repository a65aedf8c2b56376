/** Layering rules of DESIGN.md, checked by `npm run lint`. */
module.exports = {
  forbidden: [
    { name: 'no-cycles', severity: 'error', comment: 'Import cycles make load order fragile.', from: {}, to: { circular: true, dependencyTypesNot: ['type-only'] } },
    { name: 'orchestrator-not-ui', severity: 'error', comment: 'orchestrator/ never imports Electron or renderer code.', from: { path: '^orchestrator/' }, to: { path: '^(electron|renderer)/' } },
    { name: 'backend-not-other-backend', severity: 'error', comment: 'A backend imports only the contract, core types and shared transports (backends/transport/), never another backend.', from: { path: '^backends/([^/]+)/' }, to: { path: '^backends/([^/]+)/', pathNot: ['^backends/$1/', '^backends/transport/'] } },
    { name: 'backend-only-core', severity: 'error', comment: 'Backends see the head only through backends/types.ts.', from: { path: '^backends/' }, to: { path: '^orchestrator/', pathNot: '^orchestrator/(core|protocol)/' } },
    { name: 'renderer-only-protocol', severity: 'error', comment: 'The renderer talks to the head only over the protocol; of its code it shares only the row types (state-rows.ts).', from: { path: '^renderer/' }, to: { path: '^(orchestrator|backends)/', pathNot: '^orchestrator/protocol/state-rows\\.ts$' } },
    { name: 'state-rows-standalone', severity: 'error', comment: 'protocol/state-rows.ts is bundled into the browser dashboard as it is: it imports nothing.', from: { path: '^orchestrator/protocol/state-rows\\.ts$' }, to: {} },
    { name: 'no-electron-anywhere-else', severity: 'error', from: { pathNot: '^electron/' }, to: { path: '^node_modules/electron/' } },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // `await import('orrery')` inside shipped task code runs on a worker, not at module load.
    exclude: { dynamic: true },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
