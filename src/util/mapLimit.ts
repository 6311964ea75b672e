// SPDX-License-Identifier: MIT
// A small promise pool: decoding and encoding with sharp run on libvips threads, so a few in flight keep the
// cores busy without starting thousands of decodes at once.

/** Runs fn over items with at most `limit` in flight, in order of start; results keep the input order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  });
  await Promise.all(workers);
  return out;
}
