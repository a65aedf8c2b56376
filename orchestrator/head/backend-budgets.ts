/**
 * Budgets of backends, kept by instance: `budgetUsd` is a key every backend config may have
 * (checked in backend-configs.ts), taken out by createBackend (backend-registry.ts) before the
 * kind's own validator sees the config, and enforced by the head (control/spend-ledger.ts).
 */
import type { Backend } from '../../backends/types.ts';

const budgets = new WeakMap<Backend, number>();

/** Remembers the `budgetUsd` of the config `backend` was made from. */
export function setBackendBudget(backend: Backend, usd: number): void {
  budgets.set(backend, usd);
}

/** The `budgetUsd` of a backend's config, if it had one. */
export function backendBudget(backend: Backend): number | undefined {
  return budgets.get(backend);
}
