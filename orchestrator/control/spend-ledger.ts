/**
 * The head's account of what paid jobs cost, and the budgets they must stay within: the
 * session's (`init({ budget: { usd } })`) and each backend's (`budgetUsd` in its config).
 *
 * A worker about to submit a paid job asks the head to reserve the job's estimate (op
 * `budget-reserve`); the head is one thread, so a reservation is checked and taken at once
 * and concurrent submissions cannot all pass. Actual charges arrive as the `costUsd` a task
 * records about itself; while the task runs it counts the larger of its estimate and its
 * charge, once it ended only its charge. What tasks of earlier heads of a resumed session
 * cost is carried in by {@link SpendLedger.carry}. No I/O: the head wires the ports.
 */
import { BudgetExceededError } from '../core/errors.ts';
import type { BudgetRow } from '../protocol/state-rows.ts';

/** What the ledger asks of the head. */
export interface SpendLedgerPorts {
  /** Whether a task that reserved is still running (its reservation still stands). */
  isRunning(taskId: string): boolean;
}

/** One task's part of the spend. */
interface TaskSpend {
  readonly backend: string;
  /** Its latest `costUsd`, once known. */
  charged: number;
  /** Estimates it reserved; released when it ends. */
  reserved: number;
}

/** Spend and budgets of one head (session), per backend and in all. */
export class SpendLedger {
  private sessionBudget: number | undefined;
  /** Backend budgets by backend name (a Map: names come from users). */
  private readonly backendBudgets = new Map<string, number>();
  /** Per task that reserved or was charged. */
  private readonly tasks = new Map<string, TaskSpend>();

  constructor(private readonly ports: SpendLedgerPorts) {}

  /** Sets (or with undefined, removes) the session's budget in US dollars. */
  setSessionBudget(usd: number | undefined): void {
    this.sessionBudget = usd;
  }

  /** Sets (or with undefined, removes) a backend's budget. */
  setBackendBudget(backend: string, usd: number | undefined): void {
    if (usd === undefined) this.backendBudgets.delete(backend);
    else this.backendBudgets.set(backend, usd);
  }

  /**
   * What a task of an earlier head of this session cost (read from the session). Kept by task,
   * so a task this head adopts and that reports its cost again replaces it rather than adding to it.
   */
  carry(taskId: string, backend: string, usd: number): void {
    this.charge(taskId, backend, usd);
  }

  /**
   * Reserves `estimateUsd` for a job of `taskId` on `backend`, or throws BudgetExceededError
   * when the spend so far, the jobs in flight and this estimate together would cross the
   * session's or the backend's budget. `what` names the job in the message.
   */
  reserve(taskId: string, backend: string, estimateUsd: number, what: string): void {
    if (!Number.isFinite(estimateUsd) || estimateUsd < 0)
      throw new TypeError(`budget reservation: estimateUsd must be a number >= 0 (got ${estimateUsd})`);
    this.releaseEnded();
    const limits: [string, number | undefined, (b: string) => boolean][] = [
      ['session', this.sessionBudget, () => true],
      [backend, this.backendBudgets.get(backend), (b) => b === backend],
    ];
    for (const [scope, budget, counts] of limits) {
      if (budget === undefined) continue;
      const { spent, reserved } = this.totals(counts);
      if (round(spent + reserved + estimateUsd) > budget)
        throw new BudgetExceededError(scope, budget, spent, reserved, round(estimateUsd), what);
    }
    const t = this.entry(taskId, backend);
    t.reserved = round(t.reserved + estimateUsd);
  }

  /** A task recorded its (latest) cost: it replaces what the task reported before. */
  charge(taskId: string, backend: string, costUsd: number): void {
    if (!Number.isFinite(costUsd) || costUsd < 0) return;
    this.entry(taskId, backend).charged = round(costUsd);
  }

  /** Spend, reservations and budgets, in all and per backend (the State API's `cost` query). */
  summary(): BudgetRow {
    this.releaseEnded();
    const names = new Set<string>(this.backendBudgets.keys());
    for (const t of this.tasks.values()) names.add(t.backend);
    const byBackend = [...names]
      .map((backend) => {
        const { spent, reserved, tasks } = this.totals((b) => b === backend);
        const budgetUsd = this.backendBudgets.get(backend);
        return {
          backend,
          spentUsd: spent,
          reservedUsd: reserved,
          tasks,
          ...(budgetUsd !== undefined && { budgetUsd }),
        };
      })
      .sort((a, b) => b.spentUsd - a.spentUsd || a.backend.localeCompare(b.backend));
    const all = this.totals(() => true);
    return {
      spentUsd: all.spent,
      reservedUsd: all.reserved,
      tasks: all.tasks,
      ...(this.sessionBudget !== undefined && { budgetUsd: this.sessionBudget }),
      byBackend,
    };
  }

  private entry(taskId: string, backend: string): TaskSpend {
    let t = this.tasks.get(taskId);
    if (!t) this.tasks.set(taskId, (t = { backend, charged: 0, reserved: 0 }));
    return t;
  }

  /** Reservations of tasks that ended are dropped: what they cost is in their charge. */
  private releaseEnded(): void {
    for (const [id, t] of this.tasks) {
      if (t.reserved === 0 || this.ports.isRunning(id)) continue;
      t.reserved = 0;
      if (t.charged === 0) this.tasks.delete(id);
    }
  }

  /** Spent (charged, also to earlier heads) and reserved beyond the charges, over the backends `counts` accepts. */
  private totals(counts: (backend: string) => boolean): { spent: number; reserved: number; tasks: number } {
    let spent = 0;
    let reserved = 0;
    let tasks = 0;
    for (const t of this.tasks.values()) {
      if (!counts(t.backend)) continue;
      spent += t.charged;
      reserved += Math.max(0, t.reserved - t.charged);
      if (t.charged > 0) tasks++;
    }
    return { spent: round(spent), reserved: round(reserved), tasks };
  }
}

/** Micro-dollars, free of float noise. */
function round(usd: number): number {
  return Math.round(usd * 1e6) / 1e6;
}
