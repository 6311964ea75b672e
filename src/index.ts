// SPDX-License-Identifier: MIT
// ilsgan: unsupervised foreground/background segmentation with layered GANs, on libtorch.
export * from './tensor/index.js';
export * as seg from './seg/index.js';
