/**
 * AWS credentials of the AWS-backed backends (braket, sagemaker): static keys from a keychain
 * secret, or the SDK's default chain (environment, shared config and profiles, SSO, instance
 * roles). Keys are handed to the SDK in memory only, and messages name where they came from,
 * never their values.
 */
import { BackendError } from '../../orchestrator/core/errors.ts';
import { readSecret } from '../../orchestrator/core/keychain.ts';

/** Static keys as stored in a `credentialsSecret`. */
export interface StoredAwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

/** Reads keychain secret `name` of `backend` as JSON keys; `service` names what they are for. */
export async function keychainAwsCredentials(
  backend: string,
  name: string,
  service: string,
): Promise<StoredAwsCredentials> {
  const text = await readSecret(backend, name, `AWS credentials for ${service}`);
  let v: Partial<StoredAwsCredentials> | null;
  try {
    v = JSON.parse(text) as Partial<StoredAwsCredentials> | null;
  } catch {
    v = null;
  }
  if (
    !v ||
    typeof v.accessKeyId !== 'string' ||
    typeof v.secretAccessKey !== 'string' ||
    (v.sessionToken !== undefined && typeof v.sessionToken !== 'string')
  ) {
    throw new BackendError(
      backend,
      `the keychain secret ${name} must hold JSON {"accessKeyId": "...", "secretAccessKey": "...", "sessionToken"?: "..."}; store it again with: orrery secrets set ${name}`,
      false,
    );
  }
  return {
    accessKeyId: v.accessKeyId,
    secretAccessKey: v.secretAccessKey,
    ...(v.sessionToken ? { sessionToken: v.sessionToken } : {}),
  };
}

/** Where the credentials come from, in words (the SDK's default chain is tried in this order). */
export function describeAwsCredentialSource(
  config: { readonly credentialsSecret?: string; readonly profile?: string },
  env: NodeJS.ProcessEnv = process.env,
): string {
  if (config.credentialsSecret !== undefined) return `the keychain secret ${config.credentialsSecret}`;
  if (config.profile !== undefined)
    return `the AWS profile ${config.profile} (~/.aws/config and ~/.aws/credentials, or its SSO session)`;
  if (env.AWS_ACCESS_KEY_ID && !env.AWS_PROFILE) {
    return `the environment variables AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY${env.AWS_SESSION_TOKEN ? ' (with AWS_SESSION_TOKEN)' : ''}`;
  }
  return `the AWS profile ${env.AWS_PROFILE ?? 'default'} (~/.aws/config and ~/.aws/credentials, its SSO session, or an instance or container role)`;
}
