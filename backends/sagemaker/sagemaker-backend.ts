/**
 * The sagemaker backend: command tasks with an image run as SageMaker training jobs.
 *
 * Nodes: one virtual node per job slot, up to `maxConcurrentJobs`. Each is a local agent whose
 * resources are one job's instances (vCPUs, GPUs, memory of `instanceType` x `instanceCount`,
 * from resources/sagemaker-instances.json) and whose labels carry the GPU model (`accelerator`)
 * and the instance type, so `numGpus`, `accelerator` and label selectors place tasks here as on a
 * real GPU host. The nodes are exclusive (EXCLUSIVE_NODE_LABEL): only work that names this
 * backend (the `backend` option or a placement rule's `require`) is placed on them, so ordinary
 * function tasks never land on rented instances. The workers of these nodes do not run the command: the shipped command runner
 * sees ORRERY_COMMAND_RUNNER and hands the call to training-job.ts, which submits the job and
 * follows it. Nodes are added when the scheduler has demand that fits the shape and removed
 * after `idleTimeoutS` without work.
 *
 * Every task is its own training job, billed for whole instances. The scheduler may still place
 * two tasks that each ask for less than an instance on one node; each then runs as its own job,
 * so at most `maxConcurrentJobs` x (tasks fitting one node) jobs run at once. Tasks asking for
 * a whole instance (e.g. its GPUs) are held to one job per node.
 */
import { EXCLUSIVE_NODE_LABEL } from '../../orchestrator/core/node-labels.ts';
import { demandFitsShape } from '../../orchestrator/core/shape-fit.ts';
import { ListTrainingJobsCommand } from '@aws-sdk/client-sagemaker';
import { HeadBucketCommand } from '@aws-sdk/client-s3';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Backend, BackendHost, ElasticBackend, IdleNode, LocalNode, NodeShape, ResourceDemand } from '../types.ts';
import { openAws, toBackendError } from './aws-access.ts';
import { parseS3Uri, type SageMakerConfig } from './config.ts';
import { instanceType } from './instance-types.ts';
import { SAGEMAKER_CONFIG_ENV } from './training-job.ts';

/** Node label naming the SageMaker instance type of a virtual node. */
export const INSTANCE_TYPE_LABEL = 'orrery.io/instance-type';

/** The environment variable telling a command task's worker which module runs its calls. */
export const COMMAND_RUNNER_ENV = 'ORRERY_COMMAND_RUNNER';

/** The runner module, with the extension this file has (`.ts` under tsx, `.js` from dist). */
const RUNNER_URL = new URL(`./training-job${extname(fileURLToPath(import.meta.url))}`, import.meta.url).href;

const GiB = 1024 ** 3;

/** SageMaker training jobs as elastic virtual nodes. */
export class SageMakerBackend implements Backend, ElasticBackend {
  readonly kind = 'sagemaker';
  readonly elastic = this;
  private host: BackendHost | undefined;
  private readonly nodes = new Map<string, LocalNode>();
  private starting = 0;
  private stopping = false;
  private serial = 0;
  /** Nodes started so far (for tests). */
  started = 0;

  constructor(private readonly config: SageMakerConfig) {}

  get name(): string {
    return this.config.name;
  }

  async start(host: BackendHost): Promise<void> {
    this.host = host;
  }

  /** One job's instances: what a task placed here may ask for. */
  shapes(): readonly NodeShape[] {
    const c = this.config;
    const t = instanceType(c.instanceType)!;
    const n = c.instanceCount ?? 1;
    const resources: Record<string, number> = { CPU: t.vcpus * n, memory: t.memoryGiB * n * GiB };
    if (t.gpus > 0) resources.GPU = t.gpus * n;
    const labels: Record<string, string> = {
      ...c.labels,
      [INSTANCE_TYPE_LABEL]: c.instanceType,
      [EXCLUSIVE_NODE_LABEL]: 'true',
    };
    if (t.gpuModel) labels.accelerator = t.gpuModel;
    return [{ resources, labels }];
  }

  scale(demand: readonly ResourceDemand[], idle: readonly IdleNode[]): void {
    if (this.stopping) return;
    const [shape] = this.shapes();
    let fitting = 0;
    for (const d of demand) if (demandFitsShape(d, shape!, this.name)) fitting += d.count;
    const room = (this.config.maxConcurrentJobs ?? 4) - this.nodes.size - this.starting;
    // Each pending task is a job of its own, so each asks for a node of its own.
    const wanted = Math.min(room, fitting - this.starting);
    for (let i = 0; i < wanted; i++) void this.addNode();
    const idleMs = (this.config.idleTimeoutS ?? 60) * 1000;
    for (const n of idle) {
      const node = this.nodes.get(n.nodeId);
      if (!node || n.idleMs < idleMs) continue;
      this.nodes.delete(n.nodeId);
      this.host?.retire(n.nodeId);
      void node.kill();
    }
  }

  /** `orrery backends test`: credentials, the SageMaker API in the region, and the S3 bucket. */
  async check(): Promise<string[]> {
    const c = this.config;
    const aws = await openAws(c);
    try {
      const lines = [`credentials from ${aws.credentialSource}`];
      const jobs = await aws.sagemaker
        .send(new ListTrainingJobsCommand({ MaxResults: 5, SortBy: 'CreationTime', SortOrder: 'Descending' }))
        .catch((err: unknown) => {
          throw toBackendError(c, aws.credentialSource, `ListTrainingJobs in ${c.region}`, err);
        });
      lines.push(
        `SageMaker in ${c.region}: reachable; latest jobs: ${(jobs.TrainingJobSummaries ?? []).map((j) => `${j.TrainingJobName} (${j.TrainingJobStatus})`).join(', ') || 'none'}`,
      );
      const loc = parseS3Uri(c.s3Prefix)!;
      await aws.s3.send(new HeadBucketCommand({ Bucket: loc.bucket })).catch((err: unknown) => {
        throw toBackendError(c, aws.credentialSource, `HeadBucket ${loc.bucket}`, err);
      });
      const t = instanceType(c.instanceType)!;
      lines.push(`bucket ${loc.bucket}: reachable`);
      lines.push(
        `${c.instanceType}: ${t.vcpus} vCPUs, ${t.memoryGiB} GiB, ${t.gpus} GPU${t.gpuModel ? ` ${t.gpuModel}` : ''}, $${t.usdPerHour}/h; up to ${c.maxConcurrentJobs ?? 4} jobs at once`,
      );
      return lines;
    } finally {
      aws.close();
    }
  }

  async shutdown(): Promise<void> {
    this.stopping = true;
    const all = [...this.nodes.values()];
    this.nodes.clear();
    await Promise.all(all.map((n) => n.kill()));
  }

  private async addNode(): Promise<void> {
    const host = this.host;
    if (!host) return;
    this.starting++;
    this.started++;
    const [shape] = this.shapes();
    const { CPU, GPU, memory } = shape!.resources;
    try {
      const node = await host.startLocalAgent(
        { numCpus: CPU, numGpus: GPU ?? 0, resources: { memory: memory! }, labels: shape!.labels },
        { [COMMAND_RUNNER_ENV]: RUNNER_URL, [SAGEMAKER_CONFIG_ENV]: JSON.stringify(this.config) },
        `sagemaker-${this.config.name}-${this.serial++}`,
      );
      if (this.stopping) void node.kill();
      else {
        this.nodes.set(node.nodeId, node);
        void node.exited.then(() => this.nodes.delete(node.nodeId));
      }
    } catch (err) {
      host.log(`orrery: sagemaker backend ${this.name} could not start a virtual node: ${(err as Error).message}`);
    } finally {
      this.starting--;
    }
  }
}
