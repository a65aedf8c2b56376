/**
 * The instance table (resources/sagemaker-instances.json), the node shape the backend offers,
 * cost estimates, and the CreateTrainingJob request a command becomes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  estimateJobCost,
  instanceType,
  loadInstanceTable,
  parseInstanceTable,
} from '../../backends/sagemaker/instance-types.ts';
import { validateSageMakerConfig } from '../../backends/sagemaker/config.ts';
import { SageMakerBackend } from '../../backends/sagemaker/sagemaker-backend.ts';
import { buildCreateRequest } from '../../backends/sagemaker/training-job.ts';

const raw = JSON.parse(readFileSync(new URL('../../resources/sagemaker-instances.json', import.meta.url), 'utf8'));

test('the table lists the families the backend promises, with source and date', () => {
  const t = loadInstanceTable();
  assert.match(t.source, /^https:\/\/aws\.amazon\.com\/sagemaker\/pricing/);
  assert.match(t.asOf, /^\d{4}-\d{2}-\d{2}$/);
  for (const family of ['ml.g5.', 'ml.g4dn.', 'ml.p3.', 'ml.m5.', 'ml.c5.'])
    assert.ok(
      Object.keys(t.instances).some((k) => k.startsWith(family)),
      family,
    );
  assert.deepEqual(instanceType('ml.p4d.24xlarge'), raw.instances['ml.p4d.24xlarge']);
  assert.equal(instanceType('ml.p4d.24xlarge')!.gpus, 8);
  assert.equal(instanceType('ml.p5.48xlarge')!.gpuModel, 'H100');
  assert.equal(instanceType('ml.g5.xlarge')!.gpuModel, 'A10G');
  assert.equal(instanceType('constructor'), undefined);
  for (const [name, i] of Object.entries(t.instances)) assert.equal(i.gpus > 0, i.gpuModel !== undefined, name);
});

test('a malformed table is refused with the entry named', () => {
  assert.throws(
    () =>
      parseInstanceTable(
        { source: 's', asOf: 'd', instances: { 'ml.g5.xlarge': { vcpus: 4, memoryGiB: 16, gpus: 1, usdPerHour: 1 } } },
        'x.json',
      ),
    /instances\[ml\.g5\.xlarge\] has GPUs but no gpuModel/,
  );
  assert.throws(
    () =>
      parseInstanceTable(
        { source: 's', asOf: 'd', instances: { 'ml.m5.large': { vcpus: -2, memoryGiB: 8, gpus: 0, usdPerHour: 1 } } },
        'x.json',
      ),
    /ml\.m5\.large/,
  );
  assert.throws(() => parseInstanceTable({ instances: {} }, 'x.json'), /source, asOf/);
});

test('cost is price x instances x billable seconds; spot reports its saving', () => {
  const t = loadInstanceTable();
  const price = raw.instances['ml.g5.xlarge'].usdPerHour as number;
  assert.equal(estimateJobCost(t, 'ml.g5.xlarge', 1, 3600)!.costUsd, price);
  const two = estimateJobCost(t, 'ml.g5.xlarge', 2, 900)!;
  assert.ok(Math.abs(two.costUsd - price * 2 * 0.25) < 1e-6);
  assert.match(two.basis, /2 x ml\.g5\.xlarge .* 900 billable s/);
  assert.equal(two.spotSavings, undefined);
  const spot = estimateJobCost(t, 'ml.g5.xlarge', 1, 300, 1000)!;
  assert.equal(spot.spotSavings, 0.7);
  assert.match(spot.basis, /spot saved 70\.0% of 1000 s/);
  assert.equal(estimateJobCost(t, 'ml.nope.x', 1, 10), undefined);
});

test('a node offers one job: the instance type x count, labelled with GPU model and type', () => {
  const b = new SageMakerBackend(
    validateSageMakerConfig({
      name: 'sm',
      kind: 'sagemaker',
      region: 'us-east-1',
      roleArn: 'arn:aws:iam::123456789012:role/R',
      s3Prefix: 's3://bkt/p',
      instanceType: 'ml.g5.12xlarge',
      instanceCount: 2,
      labels: { team: 'ml' },
    }),
  );
  const [shape] = b.shapes();
  const g = raw.instances['ml.g5.12xlarge'];
  assert.deepEqual(shape!.resources, { CPU: g.vcpus * 2, GPU: g.gpus * 2, memory: g.memoryGiB * 2 * 1024 ** 3 });
  assert.deepEqual(shape!.labels, {
    team: 'ml',
    accelerator: 'A10G',
    'orrery.io/instance-type': 'ml.g5.12xlarge',
    'orrery.io/exclusive': 'true',
  });
  const cpu = new SageMakerBackend(
    validateSageMakerConfig({
      name: 'c',
      kind: 'sagemaker',
      region: 'us-east-1',
      roleArn: 'arn:aws:iam::123456789012:role/R',
      s3Prefix: 's3://bkt/p',
      instanceType: 'ml.c5.xlarge',
    }),
  );
  assert.equal(cpu.shapes()[0]!.resources.GPU, undefined);
  assert.equal(cpu.shapes()[0]!.labels.accelerator, undefined);
});

test('a command becomes a CreateTrainingJob request', () => {
  const config = validateSageMakerConfig({
    name: 'sm',
    kind: 'sagemaker',
    region: 'us-east-1',
    roleArn: 'arn:aws:iam::123456789012:role/R',
    s3Prefix: 's3://bkt/runs/',
    instanceType: 'ml.g5.xlarge',
    instanceCount: 2,
    volumeSizeGb: 50,
    maxRuntimeS: 600,
    spot: { maxWaitS: 1200 },
  });
  const call = {
    argv: ['python3', 'train.py', '--data=data/x.csv', 'data/x.csv', './train.py', 'other.csv'],
    inputs: { 'train.py': 'print(1)', 'data/x.csv': '1,2' },
    env: { LR: '0.1' },
  };
  const r = buildCreateRequest(
    config,
    'train-abc-1',
    call,
    'python:3.11',
    's3://bkt/runs/train-abc-1/input/',
    'task/42',
  );
  assert.deepEqual(r.AlgorithmSpecification, {
    TrainingImage: 'python:3.11',
    TrainingInputMode: 'File',
    ContainerEntrypoint: ['python3'],
    ContainerArguments: [
      '/opt/ml/input/data/inputs/train.py',
      '--data=/opt/ml/input/data/inputs/data/x.csv',
      '/opt/ml/input/data/inputs/data/x.csv',
      '/opt/ml/input/data/inputs/train.py',
      'other.csv',
    ],
  });
  assert.equal(r.RoleArn, 'arn:aws:iam::123456789012:role/R');
  assert.deepEqual(r.Environment, {
    LR: '0.1',
    ORRERY_INPUT_DIR: '/opt/ml/input/data/inputs',
    ORRERY_MODEL_DIR: '/opt/ml/model',
    ORRERY_OUTPUT_DIR: '/opt/ml/output/data',
  });
  assert.deepEqual(r.ResourceConfig, { InstanceType: 'ml.g5.xlarge', InstanceCount: 2, VolumeSizeInGB: 50 });
  assert.deepEqual(r.StoppingCondition, { MaxRuntimeInSeconds: 600, MaxWaitTimeInSeconds: 1200 });
  assert.equal(r.EnableManagedSpotTraining, true);
  assert.deepEqual(r.CheckpointConfig, { S3Uri: 's3://bkt/runs/checkpoints/task-42' });
  assert.deepEqual(r.OutputDataConfig, { S3OutputPath: 's3://bkt/runs' });
  assert.deepEqual(r.InputDataConfig, [
    {
      ChannelName: 'inputs',
      DataSource: {
        S3DataSource: {
          S3DataType: 'S3Prefix',
          S3Uri: 's3://bkt/runs/train-abc-1/input/',
          S3DataDistributionType: 'FullyReplicated',
        },
      },
    },
  ]);
  const plain = buildCreateRequest(
    { ...config, spot: undefined },
    'j',
    { argv: ['nvidia-smi'] },
    'img',
    undefined,
    't',
  );
  assert.equal(plain.EnableManagedSpotTraining, undefined);
  assert.equal(plain.InputDataConfig, undefined);
  assert.equal(plain.AlgorithmSpecification!.ContainerArguments, undefined);
  assert.deepEqual(plain.StoppingCondition, { MaxRuntimeInSeconds: 600 });
  assert.throws(
    () => buildCreateRequest(config, 'j', { argv: ['x'], env: { 'BAD-NAME': '1' } }, 'img', undefined, 't'),
    /BAD-NAME/,
  );
  assert.throws(
    () => buildCreateRequest(config, 'j', { argv: ['x'], env: { BIG: 'x'.repeat(513) } }, 'img', undefined, 't'),
    /BIG is 513 characters; SageMaker allows 512/,
  );
});
