/**
 * The config fields of each built-in backend kind, for the dashboard's backend forms
 * (`GET /api/backend-schemas`). The kinds' own validators (backends/<kind>/config.ts) stay the
 * authority: a form built from this list is checked by them when it is submitted. A test keeps
 * the two in step (every field listed here is a key the validator accepts).
 */
import type { BuiltinBackendKind } from '../head/backend-registry.ts';

/** How a field is edited. */
export type SchemaFieldType = 'string' | 'number' | 'boolean' | 'string[]' | 'object';

/** One config field. */
export interface SchemaField {
  readonly name: string;
  readonly type: SchemaFieldType;
  readonly required: boolean;
  /** The field holds the NAME of an OS keychain secret (POST /api/secrets stores its value), never the value. */
  readonly secret?: boolean;
  readonly description: string;
}

/** The fields of one kind. */
export interface BackendSchema {
  readonly fields: readonly SchemaField[];
}

const f = (
  name: string,
  type: SchemaFieldType,
  required: boolean,
  description: string,
  secret?: boolean,
): SchemaField => (secret ? { name, type, required, secret, description } : { name, type, required, description });

const NAME = f(
  'name',
  'string',
  true,
  'Unique backend name; tasks pick it with { backend: name } and placement rules name it.',
);
const LABELS = f(
  'labels',
  'object',
  false,
  'Node labels (string values) for label selectors and placement rules, e.g. { "zone": "lab" }.',
);
const RESOURCES = f('resources', 'object', false, 'Custom resources per node (numbers), e.g. { "licence": 2 }.');
const OBJECT_STORE = f(
  'objectStoreMemory',
  'number',
  false,
  'Bytes of large values a node keeps in memory before spilling them to its disk; default 30% of its RAM.',
);
const TRANSFER = [
  f(
    'objectTransfer',
    'string',
    false,
    "How other nodes fetch this backend's objects: 'auto' (agent to agent, through the head where they cannot connect; default), 'direct' or 'relay' (always through the head).",
  ),
  f(
    'transferBind',
    'string',
    false,
    "Address each node's object transfer server listens on; default 127.0.0.1 for local nodes, 0.0.0.0 elsewhere.",
  ),
];
const SSH_LOGIN = [
  f(
    'identityFile',
    'string',
    false,
    "Private key to log in with (before the ssh config's IdentityFile and the ssh-agent).",
  ),
  f(
    'passphraseSecret',
    'string',
    false,
    "Name of the keychain secret holding the key's passphrase (needs identityFile).",
    true,
  ),
  f('knownHostsFile', 'string', false, 'Known hosts file; default ~/.ssh/known_hosts.'),
  f('sshConfigFile', 'string', false, 'The ssh config to resolve hosts with; default ~/.ssh/config.'),
  f('maxSessions', 'number', false, "Channels per connection (the server's sshd MaxSessions); default 10."),
];

/** The schema of every built-in kind (kind is implied by the key; `name` comes first). */
export const BACKEND_SCHEMAS = {
  local: {
    fields: [
      NAME,
      f('numCpus', 'number', false, "CPUs of the node; default all of this machine's."),
      f('numGpus', 'number', false, 'GPUs of the node; default 0.'),
      RESOURCES,
      LABELS,
      OBJECT_STORE,
      ...TRANSFER,
    ],
  },
  ssh: {
    fields: [
      NAME,
      f('hosts', 'string[]', true, "One node per host: 'user@host:port', 'host', or an alias from the ssh config."),
      ...SSH_LOGIN,
      f('nodePath', 'string', false, 'Node on the hosts; default `node` from the non-interactive SSH PATH.'),
      f('numCpus', 'number', false, 'CPUs per node; default what the agent finds on the host.'),
      f('numGpus', 'number', false, 'GPUs per node (integer); default what the agent finds.'),
      RESOURCES,
      LABELS,
      OBJECT_STORE,
      ...TRANSFER,
    ],
  },
  slurm: {
    fields: [
      NAME,
      f(
        'loginHost',
        'string',
        true,
        "The login node as an ssh host ('user@login.cluster:22' or an ~/.ssh/config alias).",
      ),
      f('partition', 'string', false, 'Slurm partition (--partition).'),
      f('account', 'string', false, 'Slurm account (--account).'),
      f('qos', 'string', false, 'Quality of service (--qos).'),
      f('timeLimit', 'string', false, "Time limit of each allocation (--time), e.g. '2:00:00'."),
      f('cpusPerNode', 'number', false, 'CPUs per allocation (--cpus-per-task); default 1.'),
      f('memPerNode', 'string', false, "Memory per allocation (--mem), e.g. '8G'."),
      f('gres', 'string', false, "Generic resources (--gres), e.g. 'gpu:a100:1'."),
      f('srunArgs', 'string[]', false, "More srun options, e.g. ['--constraint=a100']."),
      f('slurmConf', 'string', false, "The cluster's slurm.conf on the login host (SLURM_CONF), when not the default."),
      f('maxNodes', 'number', false, 'Allocations held at once; default 1.'),
      f('idleTimeoutS', 'number', false, 'An allocation idle this long is released; default 300 s.'),
      ...SSH_LOGIN,
      f('nodePath', 'string', false, 'Node on the cluster (login and compute nodes share it).'),
      LABELS,
      RESOURCES,
      OBJECT_STORE,
      ...TRANSFER,
    ],
  },
  sagemaker: {
    fields: [
      NAME,
      f('region', 'string', true, "AWS region, e.g. 'us-east-1'."),
      f(
        'roleArn',
        'string',
        true,
        "IAM role SageMaker assumes, e.g. 'arn:aws:iam::123456789012:role/SageMakerExecution'.",
      ),
      f('s3Prefix', 'string', true, "Where inputs and outputs go, e.g. 's3://my-bucket/orrery'."),
      f('instanceType', 'string', true, "Training instance type, e.g. 'ml.m5.xlarge'."),
      f('instanceCount', 'number', false, 'Instances per job; default 1.'),
      f('volumeSizeGb', 'number', false, 'ML storage volume per instance, GB; default 30.'),
      f('maxRuntimeS', 'number', false, 'MaxRuntimeInSeconds; default 86400.'),
      f('spot', 'object', false, 'Managed spot training: true, or { maxWaitS?, checkpointS3Uri? }.'),
      f('maxConcurrentJobs', 'number', false, 'Training jobs at once (one virtual node each); default 4.'),
      f(
        'endpoint',
        'string',
        false,
        'Endpoint override for SageMaker, S3 and CloudWatch Logs (an emulator, a VPC endpoint).',
      ),
      f(
        'credentialsSecret',
        'string',
        false,
        'Keychain secret holding {"accessKeyId","secretAccessKey","sessionToken"?}; else the SDK\'s default chain.',
        true,
      ),
      f('profile', 'string', false, 'AWS profile of ~/.aws/config (not together with credentialsSecret).'),
      f('pollIntervalMs', 'number', false, 'DescribeTrainingJob interval, ms; default 10000.'),
      f('idleTimeoutS', 'number', false, 'A virtual node idle this long is removed; default 60 s.'),
      LABELS,
    ],
  },
  'quantum-simulator': {
    fields: [
      NAME,
      f(
        'maxQubits',
        'number',
        false,
        "Largest circuit accepted; default what fits in half of this machine's memory, at most 30.",
      ),
      f('seed', 'number', false, 'Sampling seed: the same circuit gives the same counts; default random.'),
      f('maxConcurrent', 'number', false, 'Circuits simulated at once; default the CPU count.'),
    ],
  },
  'ibm-quantum': {
    fields: [
      NAME,
      f('instanceCrn', 'string', true, "CRN of the Qiskit Runtime instance (starts with 'crn:')."),
      f('apiKeySecret', 'string', true, 'Name of the keychain secret holding the IBM Cloud API key.', true),
      f('device', 'string', false, "'least_busy' (default) or a backend name such as 'ibm_fez'."),
      f('url', 'string', false, 'Runtime API base URL; default the global region.'),
      f('iamUrl', 'string', false, 'IBM Cloud IAM base URL.'),
      f('maxConcurrentJobs', 'number', false, 'Jobs submitted at once; default 5.'),
      f('pollIntervalMs', 'number', false, 'First job-status poll interval, ms; default 1000.'),
      f('mode', 'string', false, "Execution mode: 'job' (default), 'batch' or 'session'."),
      f('sessionMaxTtlS', 'number', false, "max_ttl of the batch or session, s; default the service's."),
      f('sessionIdleS', 'number', false, 'Close the batch or session after this many idle seconds; default 300.'),
      f(
        'ibmOptions',
        'object',
        false,
        'Sampler V2 options for every job, e.g. { "twirling": { "enable_gates": true } }.',
      ),
    ],
  },
  braket: {
    fields: [
      NAME,
      f('region', 'string', true, "AWS region of the Braket endpoint, e.g. 'us-east-1'."),
      f('deviceArn', 'string', true, "Default device, e.g. 'arn:aws:braket:::device/quantum-simulator/amazon/sv1'."),
      f('s3Bucket', 'string', true, "Bucket Braket writes results into, e.g. 'amazon-braket-my-results'."),
      f('s3Prefix', 'string', false, 'Key prefix inside the bucket.'),
      f('endpoint', 'string', false, 'Endpoint override for Braket and S3 (an emulator, a VPC endpoint).'),
      f('maxConcurrentTasks', 'number', false, 'Quantum tasks submitted at once; default 5.'),
      f('pollIntervalMs', 'number', false, 'First GetQuantumTask poll interval, ms; default 1000.'),
      f(
        'credentialsSecret',
        'string',
        false,
        'Keychain secret holding {"accessKeyId","secretAccessKey","sessionToken"?}; else the SDK\'s default chain.',
        true,
      ),
    ],
  },
} as const satisfies Record<BuiltinBackendKind, BackendSchema>;
