/**
 * The one autoscaling interface: about once a second each elastic backend is told the demand
 * the scheduler could not place that it may serve, and which of its nodes are idle. The backend
 * adds capacity or ends idle nodes (Ray's autoscaler, on top of the cluster manager it wraps).
 */
import type { Backend, IdleNode, ResourceDemand } from '../../backends/types.ts';
import { amountsOf, unitsOf } from '../core/resources.ts';
import type { ClusterScheduler } from '../scheduler/cluster-scheduler.ts';
import type { SchedulerDecision } from '../scheduler/types.ts';

/** What the autoscaler reads from the head. */
export interface AutoscalerView {
  readonly scheduler: ClusterScheduler;
  backends(): Iterable<Backend>;
  /** Live nodes of a backend, with how long each has had no lease (0 when busy). */
  idleNodes(backend: string): IdleNode[];
  apply(decisions: readonly SchedulerDecision[]): void;
}

const TICK_MS = 1000;

/** Drives the elastic backends. */
export class Autoscaler {
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly view: AutoscalerView) {
    this.timer = setInterval(() => this.tick(), TICK_MS);
    this.timer.unref();
  }

  /** Tells the scheduler the shapes an elastic backend could add (feasibility before nodes exist). */
  publishShapes(b: Backend): void {
    if (!b.elastic) return;
    const shapes = b.elastic.shapes().map((s) => ({ resources: unitsOf(s.resources), labels: s.labels }));
    this.view.apply(this.view.scheduler.handle({ type: 'elastic-shapes', backend: b.name, shapes, now: Date.now() }));
  }

  /** One round: demand and idle nodes to every elastic backend. */
  tick(): void {
    const pending = this.view.scheduler.pendingDemand();
    for (const b of this.view.backends()) {
      if (!b.elastic) continue;
      const demand: ResourceDemand[] = pending
        .filter((d) => d.backend === undefined || d.backend === b.name)
        .map((d) => ({
          resources: amountsOf(d.resources),
          labelSelector: d.labelSelector,
          backend: d.backend,
          count: d.count,
          ...(d.separateNodes ? { separateNodes: true } : {}),
          ...(d.group === undefined ? {} : { group: d.group }),
        }));
      try {
        b.elastic.scale(demand, this.view.idleNodes(b.name));
      } catch (err) {
        process.stderr.write(`orrery: backend ${b.name} failed to scale: ${(err as Error).message}\n`);
      }
    }
  }

  /** Stops the loop. */
  stop(): void {
    clearInterval(this.timer);
  }
}
