// SPDX-License-Identifier: MIT
// `npm run demo`: the whole method, offline, on the built-in procedural data, within 15 minutes on 2 CPU cores.
// The recipe below deviates from the paper's settings where a 2-core, 15-minute budget needs it; every
// deviation is listed in `demoDeviations` (shown in the report and the README) with the measurement behind it.
import { type PipelineOptions, type PipelineResult, runPipeline } from './pipeline.js';
import { type Recipe, demoNetwork, demoTrainOptions, recipeFacts, recipeTrainOptions } from './recipes.js';

export { demoNetwork, demoTrainOptions } from './recipes.js';

/** Why each setting differs from the paper (spec §16), for the report and the README. */
export const demoDeviations: { setting: string; paper: string; demo: string; why: string }[] = [
  {
    setting: 'network',
    paper: '64² or 128², up to 256 channels, z/w 512, 8 mapping layers',
    demo: '32², 32 channels, z/w 128, 2 mapping layers',
    why: 'about 6× more images per second on 2 CPU cores',
  },
  { setting: 'training length', paper: '8000 kimg', demo: '20 kimg', why: 'the 15-minute budget' },
  {
    setting: 'mask prior',
    paper: 'none',
    demo: 'a centred bump (±4) added to the alpha logit, fading linearly to 0 over the first 10 kimg',
    why: 'without it, short runs settled on masks covering a corner, an edge, half the frame or nothing (measured)',
  },
  {
    setting: 'mask size',
    paper: '≥ 25 %',
    demo: '25–50 % (an upper hinge, weight 2)',
    why: 'keeps the all-foreground solution out of reach',
  },
  {
    setting: 'segmenter',
    paper: 'U-Net width 64 at 64², batch 64, 6000 iterations',
    demo: 'width 16 at 32², batch 32, 400 iterations',
    why: 'the budget; validation IoU has flattened by then on this data',
  },
];

export interface DemoRecipe {
  kimg: number;
  demoCount: number;
  synthetic: number;
  seg: NonNullable<PipelineOptions['seg']>;
  testCount: number;
}

/** The full demo, and the ~10-second smoke run of the same path (`--quick`, used by CI). */
export function demoRecipe(quick: boolean): DemoRecipe {
  return quick
    ? { kimg: 0.256, demoCount: 512, synthetic: 256, seg: { iterations: 30, batch: 32, width: 8, size: 32, valEvery: 15 }, testCount: 64 }
    : {
        kimg: 20,
        demoCount: 4000,
        synthetic: 2000,
        seg: { iterations: 400, batch: 32, width: 16, size: 32, valEvery: 100 },
        testCount: 300,
      };
}

export interface DemoOptions {
  out: string;
  quick?: boolean;
  /** Run a named recipe (e.g. the CPU recipe) on the procedural data instead of the demo's own settings. */
  recipe?: Recipe;
  progress?: boolean;
  log?: (line: string) => void;
  /** The live report's hooks (PipelineOptions). */
  live?: Pick<PipelineOptions, 'onStage' | 'onSnapshot'>;
}

export async function runDemo(o: DemoOptions): Promise<PipelineResult> {
  if (o.recipe) {
    const rc = o.recipe;
    return runPipeline({
      data: 'demo',
      out: o.out,
      config: rc.network,
      kimg: rc.kimg,
      gans: rc.gans,
      recipeTrain: recipeTrainOptions(rc, 'cpu'), // the demo runs on the CPU (runPipeline's default device)
      demoCount: 4000,
      synthetic: rc.synthetic,
      seg: rc.seg,
      adapt: rc.adapt,
      refine: rc.refine,
      testCount: 300,
      route: `trained from scratch with --recipe ${rc.name}`,
      title: `ilsgan demo: procedural objects, recipe ${rc.name}`,
      facts: recipeFacts(rc),
      progress: o.progress,
      log: o.log,
      ...o.live,
    });
  }
  const r = demoRecipe(Boolean(o.quick));
  return runPipeline({
    data: 'demo',
    out: o.out,
    config: demoNetwork,
    kimg: r.kimg,
    recipeTrain: demoTrainOptions,
    demoCount: r.demoCount,
    synthetic: r.synthetic,
    seg: r.seg,
    testCount: r.testCount,
    route: o.quick ? 'smoke run (--quick): trained from scratch for a few iterations; the numbers mean nothing' : 'trained from scratch',
    title: o.quick ? 'ilsgan demo (quick smoke run)' : 'ilsgan demo: procedural objects',
    facts: demoDeviations.map((d) => ({ label: `deviation: ${d.setting}`, value: `${d.demo} (paper: ${d.paper}): ${d.why}` })),
    progress: o.progress,
    log: o.log,
    ...o.live,
  });
}
