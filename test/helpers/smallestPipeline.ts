// SPDX-License-Identifier: MIT
// The smallest whole pipeline, for tests of the pipeline's own behaviour (recovery, pooled GANs): 2 GAN iterations,
// 32 synthetic pairs, 4 U-Net iterations, 8 test images, 2 examples, on the procedural data.
import type { PipelineOptions } from '../../src/pipeline/pipeline.js';

export function smallestPipelineOptions(out: string, lines: string[]): PipelineOptions {
  return {
    data: 'demo',
    out,
    config: 'tiny32',
    kimg: 0.008,
    train: { batch: 4 },
    demoCount: 16,
    testCount: 8,
    synthetic: 32,
    seg: { iterations: 4, batch: 8, width: 4, size: 32, valEvery: 2 },
    examples: 2,
    progress: false,
    log: (l) => lines.push(l),
  };
}
