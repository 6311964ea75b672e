// SPDX-License-Identifier: MIT
// `ilsgan export` (issue 16, item 4): an inference bundle from a training run or a pipeline output — G_ema as
// generator.safetensors + generator.json, the U-Net (when there is one) as segmenter/ (a model folder `ilsgan
// segment --model` takes), and a model card README.md (data, config, metrics, how to load it in PyTorch).
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { NetworkConfig } from '../models/config.js';
import { configFile, loadSegmenter, readSegmenterConfig, type SegmenterConfig, weightsFile } from '../seg/model.js';
import { describeRefine, refineIsActive } from '../seg/refineSetting.js';
import { InputError } from '../util/errors.js';
import { saveSafetensors } from '../tensor/safetensors.js';
import type { Tensor } from '../tensor/tensor.js';
import { noGrad, scope } from '../tensor/scope.js';
import { type CheckpointState, findTrainingRun, listCheckpoints, loadGeneratorEma } from '../run/checkpoint.js';
import { pipelineGanDir } from '../run/layout.js';
import { writeFileAtomic } from '../util/atomicWrite.js';

export const generatorFormat = 'ilsgan-generator';

export interface ExportOptions {
  /** A training run folder or a pipeline output folder. */
  run: string;
  /** Bundle folder (default `<run>/export`). */
  out?: string;
  /** Checkpoint name; default: the pipeline's selected one, else the latest. */
  checkpoint?: string;
}

export interface ExportResult {
  out: string;
  checkpoint: string;
  kimg: number;
  /** Files written, relative to `out`. */
  files: string[];
  segmenter: boolean;
}

/** generator.json: what rebuilds G_ema and where it came from. */
export interface GeneratorCard {
  format: typeof generatorFormat;
  version: 1;
  weights: 'generator.safetensors';
  weightsSha256: string;
  net: NetworkConfig;
  configName: string;
  checkpoint: string;
  kimg: number;
  seed: number;
  data: string;
  /** Why this checkpoint (the pipeline's selection), when known. */
  selection?: string;
}

/** A JSON file's value, or undefined when absent or unreadable (optional extras of the model card). */
function readOptionalJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return undefined;
  }
}

/** The pipeline's selected checkpoint (stages/select.json), if it recorded one that still exists. */
function selectedCheckpoint(pipelineDir: string, runDir: string): { name: string; reason: string } | null {
  const rec = readOptionalJson(join(pipelineDir, 'stages', 'select.json')) as { result?: { name?: unknown; reason?: unknown } } | undefined;
  const name = rec?.result?.name;
  if (typeof name !== 'string' || !listCheckpoints(runDir).includes(name)) return null;
  return { name, reason: typeof rec?.result?.reason === 'string' ? rec.result.reason : 'selected by the pipeline' };
}

const fmt = (v: unknown): string =>
  typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(4)) : v === null || v === undefined ? '–' : String(v);

/**
 * Writes the inference bundle; see ExportOptions.
 * @throws InputError ERR_NO_CHECKPOINT when `run` holds no training run, ERR_OUT_NOT_EMPTY when `out` holds other files.
 */
export function exportBundle(o: ExportOptions): ExportResult {
  if (!existsSync(o.run) || !statSync(o.run).isDirectory()) {
    throw new InputError(`--run ${o.run}: no such folder`, 'ERR_NO_RUN', 'give the --out folder of ilsgan train or ilsgan pipeline');
  }
  const found = findTrainingRun(o.run);
  if (!found)
    throw new InputError(
      `--run ${o.run}: no checkpoint in this folder (nor in ${pipelineGanDir(o.run)})`,
      'ERR_NO_CHECKPOINT',
      'give the --out folder of ilsgan train or ilsgan pipeline',
    );
  const out = o.out ?? join(o.run, 'export');
  if (existsSync(out)) {
    if (!statSync(out).isDirectory()) throw new InputError(`--out ${out} is a file, not a folder`, 'ERR_OUT_PATH');
    if (readdirSync(out).length > 0 && !existsSync(join(out, 'generator.json'))) {
      throw new InputError(
        `--out ${out} holds other files`,
        'ERR_OUT_NOT_EMPTY',
        'give a new or empty folder (an earlier bundle is overwritten)',
      );
    }
  }
  const selected = found.pipeline && o.checkpoint === undefined ? selectedCheckpoint(o.run, found.runDir) : null;
  // Segmenter: the adapted one when the pipeline made it, else the synthetic-trained one. Checked before writing.
  const segDir = found.pipeline
    ? [join(o.run, 'segmenter-adapted'), join(o.run, 'segmenter')].find((d) => existsSync(join(d, configFile)))
    : undefined;
  let segConfig: SegmenterConfig | undefined;
  if (segDir) {
    loadSegmenter(segDir).dispose(); // verifies the weights' SHA-256 and finiteness before they are copied
    segConfig = readSegmenterConfig(segDir);
  }

  mkdirSync(out, { recursive: true });
  const { name, state, G } = loadGeneratorEma(found.runDir, o.checkpoint ?? selected?.name);
  let sha: string;
  try {
    sha = noGrad(() =>
      scope(() => {
        const tensors = new Map<string, Tensor>();
        for (const [k, v] of G.stateDict()) tensors.set(k, v.detach().cpu().contiguous());
        return saveSafetensors(join(out, 'generator.safetensors'), tensors, {
          format: generatorFormat,
          version: '1',
          config: JSON.stringify(state.net),
          kimg: String(state.curNimg / 1000),
          seed: String(state.options.seed),
        });
      }),
    );
  } finally {
    G.dispose();
  }
  const card: GeneratorCard = {
    format: generatorFormat,
    version: 1,
    weights: 'generator.safetensors',
    weightsSha256: sha,
    net: state.net,
    configName: state.configName,
    checkpoint: name,
    kimg: state.curNimg / 1000,
    seed: state.options.seed,
    data: state.data,
    selection: selected?.reason,
  };
  writeFileAtomic(join(out, 'generator.json'), Buffer.from(`${JSON.stringify(card, null, 1)}\n`));
  const files = ['generator.safetensors', 'generator.json'];
  if (segDir && segConfig) {
    mkdirSync(join(out, 'segmenter'), { recursive: true });
    copyFileSync(join(segDir, segConfig.weights), join(out, 'segmenter', weightsFile));
    writeFileAtomic(
      join(out, 'segmenter', configFile),
      Buffer.from(`${JSON.stringify({ ...segConfig, weights: weightsFile }, null, 1)}\n`),
    );
    files.push(`segmenter/${weightsFile}`, `segmenter/${configFile}`);
  }
  const evaluation = found.pipeline ? (readOptionalJson(join(o.run, 'eval.json')) as Record<string, unknown> | undefined) : undefined;
  writeFileAtomic(join(out, 'README.md'), Buffer.from(modelCard({ run: resolve(o.run), card, state, segConfig, evaluation })));
  files.push('README.md');
  return { out, checkpoint: name, kimg: card.kimg, files, segmenter: segConfig !== undefined };
}

/** The model card: data, configuration, metrics where known, and how to load the files. */
export function modelCard(x: {
  run: string;
  card: GeneratorCard;
  state: CheckpointState;
  segConfig?: SegmenterConfig;
  evaluation?: Record<string, unknown>;
}): string {
  const { card, state, segConfig, evaluation } = x;
  const o = state.options;
  const lines = [
    '# ILSGAN inference bundle',
    '',
    `Exported by \`ilsgan export\` from \`${x.run}\`: a layered GAN (ILSGAN) whose generator draws a foreground, its mask and a background${segConfig ? ', and a U-Net trained on its synthetic image/mask pairs that segments photos' : ''}.`,
    '',
    '## Data',
    '',
    `* GAN training data: \`${card.data}\`, shown ${fmt(card.kimg)} kimg (${Math.round(state.trainSeconds / 60)} min of training).`,
  ];
  if (segConfig) {
    lines.push(
      `* U-Net: ${segConfig.data.n} synthetic pairs from \`${segConfig.data.synthetic}\`${segConfig.data.checkpoint ? ` (${segConfig.data.checkpoint})` : ''}, ${segConfig.training.iterations} iterations, batch ${segConfig.training.batch}${segConfig.adapted ? `; then self-trained on ${segConfig.adapted.photos} photos from \`${segConfig.adapted.from}\`` : ''}.`,
    );
  }
  lines.push(
    '',
    '## Configuration',
    '',
    `* Generator: \`${card.configName}\` at ${card.net.resolution}², z/w ${card.net.zDim}/${card.net.wDim}, ${card.net.mappingLayers} mapping layers, channels min(${card.net.channelBase}/r, ${card.net.channelMax}); checkpoint \`${card.checkpoint}\`${card.selection ? ` (${card.selection})` : ''}.`,
    `* Training: batch ${o.batch}, G/D learning rate ${o.gLr}/${o.dLr}, R1 γ ${fmt(o.r1Gamma)}, ILS ${o.ils ? `on (${o.ilsDistribution}, σ ${o.ilsSigma})` : 'off'}, ADA ${o.ada ? 'on' : 'off'}, seed ${o.seed}. The full settings are in \`generator.json\` (network) and the run's checkpoint JSON.`,
  );
  if (segConfig)
    lines.push(
      `* U-Net: width ${segConfig.width}, input ${segConfig.size}² RGB in [-1, 1], 2 classes (foreground where logit 1 > logit 0), protocol ${segConfig.protocol}.`,
    );
  if (segConfig && refineIsActive(segConfig.refine))
    lines.push(
      `* Test-time refinement (\`refine\` in \`segmenter/model.json\`; \`ilsgan segment\` and \`eval\` apply it, \`--refine off\` skips it): ${describeRefine(segConfig.refine)}, per photo at the U-Net's input size. The PyTorch lines below give the unrefined prediction.`,
    );
  lines.push('', '## Metrics', '');
  const metrics: string[] = [];
  if (evaluation && 'DRC_IoU' in evaluation) {
    const b = evaluation.baselines as Record<string, Record<string, unknown>> | undefined;
    metrics.push(
      `* Test set (${fmt(evaluation.images)} images): DRC_IoU ${fmt(evaluation.DRC_IoU)}, DICE ${fmt(evaluation.DRC_DICE)}, mIoU ${fmt(evaluation.mIoU)}, pixel accuracy ${fmt(evaluation.pACC)}.`,
    );
    if (b)
      metrics.push(
        `* Baselines on the same masks: all-foreground DRC_IoU ${fmt(b.all_foreground?.DRC_IoU)}, centred ellipse ${fmt(b.centred_ellipse?.DRC_IoU)}.`,
      );
  }
  if (segConfig?.bestValIoU !== undefined && segConfig.bestValIoU !== null)
    metrics.push(
      `* U-Net validation IoU on held-out synthetic pairs: ${fmt(segConfig.bestValIoU)} (iteration ${segConfig.bestIteration}).`,
    );
  lines.push(
    ...(metrics.length ? metrics : ['No test metrics were recorded with this run (run `ilsgan eval` with test masks to measure).']),
  );
  lines.push(
    '',
    '## Files',
    '',
    `* \`generator.safetensors\`: G_ema weights (SHA-256 ${card.weightsSha256}), names as in the official StyleGAN2 code (\`mapping.*\`, \`synthesis.*\`); \`generator.json\`: its network config.`,
  );
  if (segConfig)
    lines.push(
      `* \`segmenter/model.safetensors\` and \`segmenter/model.json\`: the U-Net, a model folder for \`ilsgan segment --model segmenter in.jpg out.png\`.`,
    );
  lines.push(
    '',
    '## Loading in PyTorch',
    '',
    '```python',
    'import json',
    'from safetensors.torch import load_file',
    '',
    'G_ema = load_file("generator.safetensors")        # {name: tensor}',
    'net = json.load(open("generator.json"))["net"]     # resolution, zDim, wDim, channelBase, ...',
  );
  if (segConfig) {
    lines.push(
      'unet = load_file("segmenter/model.safetensors")  # U-Net state dict',
      'cfg = json.load(open("segmenter/model.json"))     # size, width, input: RGB / 127.5 - 1',
      '# model.load_state_dict(unet) for a U-Net built as spec §10.1; foreground = logits[:, 1] > logits[:, 0]',
    );
  }
  lines.push('```', '');
  return lines.join('\n');
}
