// SPDX-License-Identifier: MIT
// ilsgan: unsupervised foreground/background segmentation with layered GANs, on libtorch.
export * from './tensor/index.js';
export * as seg from './seg/index.js';
export { train, type TrainRun, type TrainResult } from './train/loop.js';
export { synthesize, type SynthesizeOptions } from './gen/synthesize.js';
export { runPipeline, type PipelineOptions, type PipelineResult } from './pipeline/pipeline.js';
export { runDemo } from './pipeline/demo.js';
export { writeReport } from './report/index.js';
