/** Text on a canvas that never overflows its box: cut to fit, with an ellipsis. */

const cache = new Map<string, string>();
const CACHE_MAX = 5000;

/** `text` as drawn in `maxWidth` pixels with the context's current font: whole, or cut with "…". */
export function fitText(ctx: CanvasRenderingContext2D, text: string, maxWidth: number): string {
  const width = Math.floor(maxWidth);
  const key = `${ctx.font}\u0000${width}\u0000${text}`;
  const hit = cache.get(key);
  if (hit !== undefined) return hit;
  let out = text;
  if (ctx.measureText(text).width > width) {
    // Binary search on the number of characters kept before the ellipsis.
    let lo = 0;
    let hi = text.length;
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2);
      if (ctx.measureText(`${text.slice(0, mid)}…`).width <= width) lo = mid;
      else hi = mid - 1;
    }
    out = lo > 0 ? `${text.slice(0, lo)}…` : '';
  }
  if (cache.size >= CACHE_MAX) cache.clear();
  cache.set(key, out);
  return out;
}
