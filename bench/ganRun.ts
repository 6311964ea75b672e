// SPDX-License-Identifier: MIT
// One GAN training run with every checkpoint kept, for snapshotting a quality curve from one long run
// (docs/quality.md). The network is the demo's (src/pipeline/demo.ts) unless --config names a preset.
//
//   node dist/bench/ganRun.js --data data/tux/TuxComposite-animals-64/train/images --out data/tux/runs/a-ils-s0 \
//        --kimg 60 --every 10 [--ils on|off] [--seed 0] [--threads 2] [--config demo|tiny32|small64] [--resolution 64]
//        [--cmax 64] [--mask-prior 0] [--mask-prior-kimg 10] [--resume on] [--xint 0.25] [--mbstd-group 8] [--mbstd-ch 4]
//        [--border 2 --border-max 0.2]   (the frame-border hinge, not in the paper: TrainOptions.maskBorderWeight)
//        [--div 4 --div-target 0.15]   (the mask-diversity hinge, not in the paper: TrainOptions.maskDivWeight)
//        [--precision bfloat16|fp32|auto] [--min-mask 0.25] [--max-mask 0.5] [--min-mask-end 0.1 --min-mask-ramp '[15,30]']
import * as t from '../src/index.js';
import { type NetworkConfig, type PresetName, presets } from '../src/models/config.js';
import { demoNetwork, demoTrainOptions } from '../src/pipeline/demo.js';
import { train } from '../src/train/loop.js';
import type { TrainOptions } from '../src/train/options.js';
import { flag } from './flags.js';

const data = flag('data') ?? 'data/tux/TuxComposite-animals-64/train/images';
const out = flag('out');
if (!out) throw new Error('--out is required');
const kimg = Number(flag('kimg') ?? 60);
const every = Number(flag('every') ?? 10);
const config = flag('config') ?? 'demo';
const net: NetworkConfig = config === 'demo' ? { ...demoNetwork } : { ...presets[config as PresetName] };
if (flag('resolution')) net.resolution = Number(flag('resolution'));
if (flag('cmax')) net.channelMax = Number(flag('cmax'));
if (flag('mask-prior')) net.maskPrior = Number(flag('mask-prior'));
if (flag('mbstd-group')) net.mbstdGroupSize = Number(flag('mbstd-group'));
if (flag('mbstd-ch')) net.mbstdChannels = Number(flag('mbstd-ch'));
if (flag('mask-prior-kimg')) net.maskPriorKimg = Number(flag('mask-prior-kimg'));
if (flag('prior-jitter')) net.maskPriorJitter = Number(flag('prior-jitter'));
t.setNumThreads(Number(flag('threads') ?? 2));
const r = await train({
  data,
  out,
  config: net,
  kimg,
  resume: flag('resume') === 'on',
  options: {
    ...(config === 'demo' ? demoTrainOptions : {}),
    ils: (flag('ils') ?? 'on') === 'on',
    seed: Number(flag('seed') ?? 0),
    ...(flag('xint') ? { xintMax: Number(flag('xint')) } : {}),
    ...(flag('border') ? { maskBorderWeight: Number(flag('border')), maskBorderMax: Number(flag('border-max') ?? 0.2) } : {}),
    ...(flag('precision') ? { precision: flag('precision') as TrainOptions['precision'] } : {}),
    ...(flag('min-mask') ? { minMaskSize: Number(flag('min-mask')) } : {}),
    ...(flag('min-mask-end')
      ? {
          minMaskSizeEnd: Number(flag('min-mask-end')),
          ...(flag('min-mask-ramp') ? { minMaskRampKimg: JSON.parse(flag('min-mask-ramp')!) as [number, number] } : {}),
        }
      : {}),
    ...(flag('max-mask') ? { maxMaskSize: Number(flag('max-mask')) } : {}),
    ...(flag('div') ? { maskDivWeight: Number(flag('div')), maskDivTarget: Number(flag('div-target') ?? 0.15) } : {}),
  },
  snapshotKimg: every,
  checkpointKimg: every,
  keepCheckpoints: 1000,
  progress: false,
  onTick: (m) => process.stderr.write(`${JSON.stringify(m)}\n`),
});
console.log(JSON.stringify(r));
