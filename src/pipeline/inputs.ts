// SPDX-License-Identifier: MIT
// The pipeline's inputs, checked before its first expensive stage: a mistyped mask folder or an empty data folder
// is reported in a second, not after an hour of GAN training.
import { existsSync, statSync } from 'node:fs';
import { detectLayout, trainingFiles } from '../data/imageFolder.js';
import { listSome } from '../eval/maskFiles.js';
import { drcTestPairs, pairImagesWithMasks } from '../seg/evaluate.js';
import { InputError } from '../util/errors.js';

/**
 * Checks what the pipeline will read: the training data (a readable folder with images, a DRC layout whose listed
 * files exist, or 'demo'), and the test set (images and masks paired one to one by name, or a DRC folder's test
 * split with every file present). Lists folders only; decodes nothing.
 * @throws InputError naming the folder and what is wrong (ERR_NO_IMAGES, ERR_MASK_FOLDER, ERR_MASK_MISMATCH, ERR_ARG).
 */
export function checkPipelineInputs(data: string, test: { images: string; masks?: string } | undefined): void {
  if (data !== 'demo') {
    if (!existsSync(data) || !statSync(data).isDirectory()) {
      throw new InputError(`data folder not found: ${data}`, 'ERR_NO_IMAGES', 'give a folder of images, a DRC dataset folder, or "demo"');
    }
    const { files, source } = trainingFiles(data);
    if (files.length === 0) throw new InputError(`no images in ${data}`, 'ERR_NO_IMAGES', 'the folder is searched recursively');
    if (source !== 'folder' && !files.some((f) => existsSync(f))) {
      throw new InputError(
        `none of the ${files.length} training files the ${source} lists in ${data} exist (e.g. ${files[0]})`,
        'ERR_NO_IMAGES',
      );
    }
  }
  // Without --test-images, a DRC data folder is scored on its own test split (as runPipeline does).
  const t = test ?? (data !== 'demo' && detectLayout(data) !== 'folder' ? { images: data } : undefined);
  if (!t) return;
  if (t.masks !== undefined) {
    pairImagesWithMasks(t.images, t.masks);
    return;
  }
  if (!existsSync(t.images)) throw new InputError(`test image folder not found: ${t.images}`, 'ERR_MASK_FOLDER');
  const drc = drcTestPairs(t.images);
  if (!drc)
    throw new InputError(`${t.images} is not a DRC CUB/Dogs/Cars folder; give --test-masks <dir> with its ground-truth masks`, 'ERR_ARG');
  if (drc.pairs.length === 0) throw new InputError(`no test images in ${t.images}`, 'ERR_NO_IMAGES');
  const missing = drc.pairs.flatMap((p) => [p.image, p.mask]).filter((f) => !existsSync(f));
  if (missing.length > 0) {
    throw new InputError(
      `${missing.length} test file${missing.length === 1 ? ' is' : 's are'} missing from ${t.images}: ${listSome(missing)}`,
      'ERR_NO_IMAGES',
    );
  }
}
