/**
 * HTTP with the retry policy every IBM call shares: network failures, 429 and 5xx are retried
 * with growing waits (honouring Retry-After); other statuses are the caller's to judge.
 */
import { BackendError } from '../../../orchestrator/core/errors.ts';

/** How one call retries. */
export interface RetryPolicy {
  /** Orrery backend name, for error messages. */
  readonly backend: string;
  /** What the call does, for error messages ("list IBM Quantum devices"). */
  readonly what: string;
  /** Attempts in all (default 5). */
  readonly tries?: number;
  /** First wait in ms (default 250); doubles per attempt up to 8 s. */
  readonly firstDelayMs?: number;
  /** Stops the waits between attempts (the request itself is not aborted: a job POST must not be orphaned). */
  readonly signal?: AbortSignal;
}

/** A response with its body already read as text. */
export interface TextResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
}

/**
 * Sends the request until it gets an answer other than 429/5xx or the tries run out. Exhausted
 * tries give a retryable BackendError: the service or the network may recover.
 */
export async function requestWithRetry(url: string, init: RequestInit, policy: RetryPolicy): Promise<TextResponse> {
  const tries = policy.tries ?? 5;
  let delay = policy.firstDelayMs ?? 250;
  let last = '';
  for (let attempt = 1; ; attempt++) {
    let waitMs = delay;
    try {
      const res = await fetch(url, init);
      const text = await res.text();
      if (res.status !== 429 && res.status < 500) return { status: res.status, headers: res.headers, text };
      last = `HTTP ${res.status}${text ? `: ${text.slice(0, 300)}` : ''}`;
      const after = Number(res.headers.get('retry-after'));
      if (Number.isFinite(after) && after > 0) waitMs = Math.min(after * 1000, 60_000);
    } catch (err) {
      last = describeNetworkError(err);
    }
    if (attempt >= tries) {
      throw new BackendError(
        policy.backend,
        `could not ${policy.what} after ${tries} attempts (last: ${last}); check the network and the service status at https://quantum.cloud.ibm.com/status, then retry`,
        true,
      );
    }
    await abortableSleep(waitMs, policy.signal);
    delay = Math.min(delay * 2, 8000);
  }
}

/** Waits `ms`; rejects with the signal's reason as soon as it aborts. */
export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function describeNetworkError(err: unknown): string {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  const cause = e.cause?.code ?? e.cause?.message;
  return cause ? `${e.message} (${cause})` : String(e?.message ?? err);
}
