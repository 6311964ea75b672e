// SPDX-License-Identifier: MIT
// Training statistics: per-name running sums kept as device tensors and read once per report, so a step
// never waits on the device for logging.
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

  /** Means since the last read (one host sync for all), then reset. */
  read(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [name, { sum, count }] of this.sums) {
      out[name] = sum.item() / count;
      sum.dispose();
    }
    this.sums.clear();
    return out;
  }

  dispose(): void {
    for (const { sum } of this.sums.values()) sum.dispose();
    this.sums.clear();
  }
}
