/** The `braket` backend kind: its config check, its runner, and what `orrery backends test` shows. */
import { GetDeviceCommand } from '@aws-sdk/client-braket';
import { HeadBucketCommand } from '@aws-sdk/client-s3';
import { BackendError } from '../../../orchestrator/core/errors.ts';
import { openAws, toBackendError } from './aws-access.ts';
import { s3PrefixOf, type BraketConfig } from './config.ts';
import { describeDevice, deviceFacts } from './device.ts';

export { checkBraketConfig, type BraketConfig } from './config.ts';
export { runOnBraket } from './braket-runner.ts';
export { runBraketBatch } from './program-set-runner.ts';
export { runSweepOnBraket } from './sweep-runner.ts';
export { reserveBraketTask } from './pricing.ts';
export { DEFAULT_BATCH_WINDOW_MS as DEFAULT_BRAKET_BATCH_WINDOW_MS } from './config.ts';
export { checkBraketOptions, deviceParametersFor, type BraketOptions } from './device-parameters.ts';

/** `orrery backends test`: the default device's state and size, and whether the results bucket is reachable. */
export async function describeBraket(config: BraketConfig): Promise<string[]> {
  const aws = await openAws(config);
  let doing = `GetDevice ${config.deviceArn}`;
  try {
    const device = deviceFacts(await aws.braket.send(new GetDeviceCommand({ deviceArn: config.deviceArn })));
    doing = `HeadBucket ${config.s3Bucket}`;
    await aws.s3.send(new HeadBucketCommand({ Bucket: config.s3Bucket }));
    return [
      describeDevice(device),
      `results go to s3://${config.s3Bucket}/${s3PrefixOf(config)}/ (region ${config.region})`,
      `credentials from ${aws.credentialSource}`,
    ];
  } catch (err) {
    const name = (err as Error)?.name;
    if (doing.startsWith('HeadBucket') && (name === 'NotFound' || name === 'NoSuchBucket')) {
      throw new BackendError(
        config.name,
        `the results bucket ${config.s3Bucket} does not exist in region ${config.region}; create it (aws s3 mb s3://${config.s3Bucket} --region ${config.region}) or fix s3Bucket`,
        false,
      );
    }
    throw toBackendError(config.name, aws, doing, err);
  } finally {
    aws.close();
  }
}
