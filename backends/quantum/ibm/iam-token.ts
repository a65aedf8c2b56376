/**
 * IBM Cloud IAM bearer tokens: an API key is exchanged at `POST {iamUrl}/identity/token` for a
 * token that lives about an hour. Tokens are cached per process (by key and IAM URL, the key
 * itself only hashed) and renewed ahead of expiry, so concurrent circuit tasks share one.
 * Neither the key nor a token ever enters a message.
 */
import { createHash } from 'node:crypto';
import { BackendError } from '../../../orchestrator/core/errors.ts';
import { requestWithRetry } from './http-retry.ts';

interface CachedToken {
  readonly token: string;
  /** Renew from here on: 80% of the lifetime IAM granted, as IBM's own SDKs do. */
  readonly refreshAtMs: number;
}

const cache = new Map<string, CachedToken>();
const inFlight = new Map<string, Promise<CachedToken>>();

/** Where to get tokens, and how to name the key in messages. */
export interface IamSource {
  /** Orrery backend name. */
  readonly backend: string;
  readonly iamUrl: string;
  readonly apiKey: string;
  /** Keychain secret the key came from (messages say which secret to replace). */
  readonly secretName: string;
}

/** A valid bearer token for `source`, fetched from IAM when none is cached or the cached one is due for renewal. */
export async function iamToken(source: IamSource): Promise<string> {
  const id = cacheId(source);
  const hit = cache.get(id);
  if (hit && Date.now() < hit.refreshAtMs) return hit.token;
  let pending = inFlight.get(id);
  if (!pending) {
    pending = exchangeKey(source).finally(() => inFlight.delete(id));
    inFlight.set(id, pending);
  }
  const fresh = await pending;
  cache.set(id, fresh);
  return fresh.token;
}

/** Forgets `token` (the service answered 401 with it), so the next {@link iamToken} asks IAM again. */
export function dropIamToken(source: IamSource, token: string): void {
  const id = cacheId(source);
  if (cache.get(id)?.token === token) cache.delete(id);
}

/** Replaces every occurrence of a secret in text from a service, in case it echoes the request. */
export function scrubSecret(text: string, secret: string): string {
  return secret.length >= 4 ? text.split(secret).join('***') : text;
}

async function exchangeKey(source: IamSource): Promise<CachedToken> {
  const url = `${source.iamUrl.replace(/\/+$/, '')}/identity/token`;
  const body = new URLSearchParams({ grant_type: 'urn:ibm:params:oauth:grant-type:apikey', apikey: source.apiKey });
  const res = await requestWithRetry(
    url,
    {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
      body: body.toString(),
    },
    { backend: source.backend, what: `get an IBM Cloud IAM token from ${source.iamUrl}` },
  );
  if (res.status === 400 || res.status === 401 || res.status === 403) {
    const detail = scrubSecret(iamErrorText(res.text), source.apiKey);
    throw new BackendError(
      source.backend,
      `IBM Cloud IAM refused the API key in secret ${source.secretName} (${detail}). Create a new key at https://cloud.ibm.com/iam/apikeys and store it with: orrery secrets set ${source.secretName}`,
      false,
    );
  }
  let reply: { access_token?: unknown; expires_in?: unknown; expiration?: unknown };
  try {
    reply = JSON.parse(res.text) as typeof reply;
  } catch {
    reply = {};
  }
  if (res.status !== 200 || typeof reply.access_token !== 'string') {
    throw new BackendError(
      source.backend,
      `IBM Cloud IAM at ${source.iamUrl} answered HTTP ${res.status} without a token; check iamUrl in the backend config`,
      true,
    );
  }
  const now = Date.now();
  const lifetimeMs =
    typeof reply.expires_in === 'number'
      ? reply.expires_in * 1000
      : typeof reply.expiration === 'number'
        ? reply.expiration * 1000 - now
        : 3_600_000;
  return { token: reply.access_token, refreshAtMs: now + Math.max(0, lifetimeMs) * 0.8 };
}

function iamErrorText(text: string): string {
  try {
    const e = JSON.parse(text) as { errorMessage?: unknown; errorCode?: unknown };
    if (typeof e.errorMessage === 'string')
      return typeof e.errorCode === 'string' ? `${e.errorCode}: ${e.errorMessage}` : e.errorMessage;
  } catch {
    // not JSON: fall through to the raw text
  }
  return text.slice(0, 200) || 'no detail given';
}

function cacheId(source: IamSource): string {
  return createHash('sha256').update(source.iamUrl).update('\0').update(source.apiKey).digest('hex');
}
