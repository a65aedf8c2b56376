/** The IPC sender check, apart from Electron so it can be tested under plain Node. */

/** True when `url` is on `origin` (same scheme, host and port); false for anything unparsable. */
export function sameOrigin(url: string | undefined, origin: string): boolean {
  if (!url) return false;
  try {
    return new URL(url).origin === origin;
  } catch {
    return false;
  }
}
