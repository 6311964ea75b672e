// SPDX-License-Identifier: MIT
// The segmentation stage (spec §10): train a U-Net on synthetic pairs, segment photos (with test-time refinement
// beyond the paper), score against masks.
export { UNet } from '../models/unet.js';
export { type SyntheticSet, loadSyntheticSet, syntheticFiles } from './data.js';
export { type SegTrainOptions, type SegTrainResult, trainSegmenter } from './train.js';
export { type Segmenter, type SegmenterConfig, loadSegmenter, saveSegmenter, foregroundLogit } from './model.js';
export { type SegmentOptions, type SegmentResult, segmentImages, segmentFolders } from './segment.js';
export { type EvaluateOptions, type EvaluateResult, evaluateSegmenter, drcTestPairs, pairImagesWithMasks } from './evaluate.js';
export { type RefineSetting, defaultRefine } from './refineSetting.js';
export { refinedLogits, refinedProbabilities } from './refinePredictions.js';
