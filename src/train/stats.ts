// SPDX-License-Identifier: MIT
// Training statistics: per-name running sums kept as device tensors and read once per report, so a step
// never waits on the device for logging.
import { stack } from '../tensor/ops/creation.js';
import { noGrad } from '../tensor/scope.js';
import { keep } from '../tensor/scope.js';
import type { Tensor } from '../tensor/tensor.js';

export class Stats {
  private readonly sums = new Map<string, { sum: Tensor; count: number }>();

  /** Adds the mean of `value` (any shape) to the running statistic `name`. */
  report(name: string, value: Tensor): void {
    noGrad(() => {
      const v = value.detach().float().mean();
      const e = this.sums.get(name);
      if (e) {
        e.sum.add_(v);
        e.count++;
      } else {
        this.sums.set(name, { sum: keep(v.clone()), count: 1 });
      }
      v.dispose();
    });
  }

  /**
   * Means since the last read, then reset: the sums packed into one tensor and read back at once (one host
   * sync for all). `reduce`, when given, is applied to that packed tensor in place before it is read: data
   * parallel training averages it over ranks there, one all-reduce for all the statistics. Every rank reports the
   * same names in the same order (they run the same code), so the packed tensors line up; the counts are the
   * same on every rank, so the average of the sums over the count is the average of the ranks' means.
   */
  read(reduce?: (packed: Tensor) => void): Record<string, number> {
    const entries = [...this.sums];
    this.sums.clear();
    if (!entries.length) return {};
    const packed = noGrad(() => stack(entries.map(([, e]) => e.sum)));
    try {
      reduce?.(packed);
      const values = packed.toArray() as number[];
      return Object.fromEntries(entries.map(([name, { count }], i) => [name, values[i] / count]));
    } finally {
      packed.dispose();
      for (const [, { sum }] of entries) sum.dispose();
    }
  }

  dispose(): void {
    for (const { sum } of this.sums.values()) sum.dispose();
    this.sums.clear();
  }
}
