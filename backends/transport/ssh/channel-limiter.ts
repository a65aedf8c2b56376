/**
 * A counting semaphore for SSH channels. OpenSSH refuses channel opens beyond `MaxSessions`
 * (10 by default) on one connection with "open failed"; queueing ours instead turns a burst
 * (an agent, a version check, an SFTP upload, a GPU probe) into a short wait, not an error.
 */

/** Hands out at most `limit` slots; the rest wait in FIFO order. */
export class ChannelLimiter {
  private used = 0;
  private readonly waiting: { resolve: (release: () => void) => void; reject: (err: Error) => void }[] = [];
  private closedWith: Error | undefined;

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1)
      throw new RangeError(`channel limit must be an integer >= 1 (got ${limit})`);
  }

  /** Slots in use now. */
  get active(): number {
    return this.used;
  }

  /** Opens waiting for a slot now. */
  get queued(): number {
    return this.waiting.length;
  }

  /** Resolves with a release function once a slot is free; calling release more than once is harmless. */
  acquire(): Promise<() => void> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    if (this.used < this.limit) {
      this.used++;
      return Promise.resolve(this.releaser());
    }
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  /** Fails every waiting and later acquire with `err` (the connection is gone). */
  close(err: Error): void {
    this.closedWith = err;
    for (const w of this.waiting.splice(0)) w.reject(err);
  }

  private releaser(): () => void {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const next = this.waiting.shift();
      if (next) next.resolve(this.releaser());
      else this.used--;
    };
  }
}
