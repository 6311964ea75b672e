// SPDX-License-Identifier: MIT
// One ILSGAN training iteration (spec §8): phases Gmain, (Greg: a no-op), Dmain and lazy Dreg, then G_ema and
// the ADA strength. The loop (loop.ts) owns data, logging and checkpoints.
import { type Layers, LayeredGenerator, composite } from '../models/layeredGenerator.js';
import type { NoiseMode } from '../nn/layers/synthesisLayer.js';
import { Discriminator } from '../models/discriminator.js';
import type { NetworkConfig } from '../models/config.js';
import type { Device } from '../tensor/device.js';
import { cat, scalar, tensor } from '../tensor/ops/creation.js';
import { allReduce_, broadcast_ } from '../tensor/dist.js';
import { randn } from '../tensor/ops/random.js';
import { Adam, sanitizeGrads } from '../tensor/optim/adam.js';
import { Ema } from '../tensor/optim/ema.js';
import { keep, noGrad, scope } from '../tensor/scope.js';
import type { Tensor } from '../tensor/tensor.js';
import { AdaPipeline } from './augment/adaPipeline.js';
import { drawShiftEps, shiftLayers } from './layerTransform.js';
import { ilsTerms } from './loss/ils.js';
import { binarization, maskBorder, maskSize, maskDiversity } from './loss/maskTerms.js';
import { r1Penalty } from './loss/r1.js';
import { type TrainOptions, ilsSigmaAt, lazyAdam, lowPrecisionDtype, minMaskSizeAt, r1GammaFor } from './options.js';
import { Stats } from './stats.js';

/** The perturbed layers D sees: Tx-shifted foreground and mask recomposed over the background. */
export interface Perturbed {
  fg: Tensor;
  mask: Tensor;
  img: Tensor;
}

/**
 * Data-parallel training over a c10d process group (tensor/dist.ts), as StyleGAN2-ADA's training_loop: each rank
 * steps on its share of the batch, gradients are averaged over ranks before every optimiser step, the ADA sign
 * statistic is summed over ranks, the logged statistics are averaged over ranks (readStats), and every rank starts
 * from rank 0's weights (syncFromRank0).
 */
export interface DataParallel {
  /** This process's rank, 0 … worldSize − 1. */
  rank: number;
  /** How many ranks train together. */
  worldSize: number;
}

export class IlsTrainer {
  readonly G: LayeredGenerator;
  readonly D: Discriminator;
  readonly Gema: LayeredGenerator;
  readonly optG: Adam;
  readonly optD: Adam;
  readonly ada: AdaPipeline;
  readonly stats = new Stats();
  private readonly ema: Ema;
  private readonly emaBuffers: { src: Tensor[]; dst: Tensor[] };
  readonly r1Gamma: number;
  /** Images shown to D so far, and iterations done. */
  curNimg = 0;
  iteration = 0;
  private adaSignSum: Tensor | null = null;
  private adaSignCount = 0;
  /**
   * Where the latents z [n, zDim] come from (default: randn from the rank's generator). The data-parallel
   * equivalence test sets it to draw one global batch and slice this rank's rows.
   */
  latentSource: ((n: number) => Tensor) | null = null;
  /** G's per-pixel noise while training: 'random' (upstream), or 'const' where a test needs G deterministic. */
  noiseMode: NoiseMode = 'random';

  constructor(
    readonly net: NetworkConfig,
    readonly opts: TrainOptions,
    readonly device: Device = 'cpu',
    readonly parallel: DataParallel | null = null,
  ) {
    this.G = new LayeredGenerator(net);
    this.D = new Discriminator(net);
    this.Gema = new LayeredGenerator(net);
    for (const m of [this.G, this.D, this.Gema]) m.to(device);
    // Mixed precision (spec §3.7) for the trained networks; G_ema, which only renders outputs, stays float32.
    const low = lowPrecisionDtype(opts.precision, device);
    this.G.setPrecision(low);
    this.D.setPrecision(low);
    this.Gema.loadStateDict(this.G.stateDict());
    this.Gema.eval().requiresGrad_(false);
    this.ema = new Ema(this.G.parameters(), this.Gema.parameters());
    this.emaBuffers = { src: this.G.buffersList(), dst: this.Gema.buffersList() };
    const g = lazyAdam(opts.gLr, opts.betas, opts.gRegInterval);
    const d = lazyAdam(opts.dLr, opts.betas, opts.dRegInterval);
    this.optG = new Adam(this.G.parameters(), { lr: g.lr, betas: g.betas, eps: opts.eps });
    this.optD = new Adam(this.D.parameters(), { lr: d.lr, betas: d.betas, eps: opts.eps });
    // Seeds differ per rank, as upstream's `random_seed * num_gpus + rank`.
    this.ada = new AdaPipeline(undefined, device, parallel ? opts.seed * parallel.worldSize + parallel.rank : opts.seed);
    this.ada.p = opts.ada ? opts.adaInitialP : 0;
    this.r1Gamma = r1GammaFor(opts, net.resolution);
  }

  get kimg(): number {
    return this.curNimg / 1000;
  }

  /** Tx of the foreground and mask (or none), recomposed. */
  perturb(layers: Layers): Perturbed {
    if (!this.opts.perturb) return { fg: layers.fg, mask: layers.mask, img: layers.img };
    const n = layers.fg.shape[0];
    const shifted = shiftLayers(cat([layers.fg, layers.mask], 1), drawShiftEps(n, this.device), this.opts.xintMax);
    const fg = shifted.narrow(1, 0, 3);
    const mask = shifted.narrow(1, 3, 1);
    return { fg, mask, img: composite(layers.bg, fg, mask) };
  }

  private z(n: number): Tensor {
    return this.latentSource ? this.latentSource(n) : randn([n, this.net.zDim], { device: this.device });
  }

  /** The images one iteration shows D over all ranks, for a local batch of n. */
  private globalBatch(n: number): number {
    return n * (this.parallel?.worldSize ?? 1);
  }

  /** Gradients averaged over ranks (upstream: all_reduce of the flattened grads, then / num_gpus), in place. */
  private averageGrads(params: Tensor[]): void {
    if (!this.parallel) return;
    // Only parameters that have a gradient: the same on every rank, since every rank runs the same graph.
    const grads = params.map((p) => p.grad).filter((g): g is Tensor => g !== null);
    allReduce_(grads, { average: true });
  }

  /**
   * The training statistics since the last read (Stats.read), averaged over ranks when data parallel, so that
   * metrics.jsonl describes the whole batch and not rank 0's share: one all-reduce of the packed values, at the
   * intervals the loop reads them only (a collective: every rank calls it at the same point). A NaN on any rank
   * makes the average NaN, so every rank stops on it together.
   */
  readStats(): Record<string, number> {
    if (!this.parallel) return this.stats.read();
    return this.stats.read((packed) => allReduce_([packed], { average: true }));
  }

  /** Makes G, D and G_ema (parameters and buffers) equal to rank 0's on every rank. */
  syncFromRank0(): void {
    if (!this.parallel) return;
    noGrad(() => {
      for (const m of [this.G, this.D, this.Gema]) {
        // One flat broadcast per dtype: the buffers may hold integer tensors.
        const all = [...m.parameters(), ...m.buffersList()];
        for (const dtype of new Set(all.map((t) => t.dtype))) broadcast_(all.filter((t) => t.dtype === dtype));
      }
    });
  }

  /** Gmain (spec §7.6): adversarial + mask terms on the perturbed composite, ILS on the un-perturbed layers. */
  gMain(n: number): void {
    scope(() => {
      const o = this.opts;
      this.D.requiresGrad_(false);
      const layers = this.G.forward(this.z(n), this.noiseMode);
      const pert = this.perturb(layers);
      const logits = this.D.forward(this.ada.forward(pert.img));
      const adv = logits.neg().softplus().flatten(); // [N]
      const bin = binarization(pert.mask);
      // Without Tx the official loss adds the upper hinge relu(min − (1 − mean m)) itself (spec §7.4): at most 1 − min.
      const msize = maskSize(pert.mask, minMaskSizeAt(o, this.curNimg), o.maxMaskSize ?? (o.perturb ? null : 1 - o.minMaskSize));
      let loss = adv.add(bin.mul(o.binWeight)).add(msize.mul(o.msizeWeight)).mean();
      if ((o.maskBorderWeight ?? 0) > 0) {
        const border = maskBorder(layers.mask, o.maskBorderMax ?? 0.2); // not in the paper, off unless asked (a recipe's)
        this.stats.report('Loss/G/border', border);
        loss = loss.add(border.mean().mul(o.maskBorderWeight ?? 0));
      }
      if ((o.maskDivWeight ?? 0) > 0 && n > 1) {
        const div = maskDiversity(layers.mask, o.maskDivTarget ?? 0.15); // not in the paper, off unless asked
        this.stats.report('Loss/G/maskdiv', div);
        loss = loss.add(div.mean().mul(o.maskDivWeight ?? 0));
      }
      this.stats.report('Loss/G/adv', adv);
      this.stats.report('Loss/G/bin', bin);
      this.stats.report('Loss/G/msize', msize);
      this.stats.report('Loss/scores/fake', logits);
      this.stats.report('Mask/mean', layers.mask);
      // How much the mask differs between the samples of a batch (per-pixel std over the batch, averaged): near 0
      // when every sample has the same silhouette (mask mode collapse, seen on photos at small scales).
      if (n > 1)
        this.stats.report(
          'Mask/diversity',
          noGrad(() => layers.mask.detach().std(0, false, { unbiased: false })),
        );
      if (o.ils) {
        // σ uses the integer kimg counted before this step (spec §7.5).
        const sigma = ilsSigmaAt(o, this.curNimg);
        const ils = ilsTerms(layers.fg, layers.bg, layers.mask, { distribution: o.ilsDistribution, negWeight: o.ilsNegWeight });
        if (sigma !== 0) loss = loss.add(ils.total.mul(sigma));
        this.stats.report('Loss/G/ils', ils.total);
        this.stats.report('Loss/G/ils_ub1', ils.ub1);
        this.stats.report('Loss/G/ils_ub2', ils.ub2);
      }
      this.stats.report('Loss/G/total', loss);
      this.optG.zeroGrad();
      loss.backward();
      this.averageGrads(this.G.parameters());
      sanitizeGrads(this.G.parameters());
      this.optG.step();
      this.D.requiresGrad_(true);
    });
  }

  private recordRealSigns(logits: Tensor): void {
    noGrad(() => {
      const s = logits.detach().sign().sum();
      if (this.adaSignSum === null) this.adaSignSum = keep(s);
      else {
        this.adaSignSum.add_(s);
        s.dispose();
      }
      this.adaSignCount += logits.numel;
    });
  }

  /** Dmain (spec §7.2): fakes from a fresh z and ε with G frozen, reals. */
  dMain(reals: Tensor): void {
    scope(() => {
      const n = reals.shape[0];
      const fake = noGrad(() => this.perturb(this.G.forward(this.z(n), this.noiseMode)).img);
      const fakeLogits = this.D.forward(this.ada.forward(fake));
      const realLogits = this.D.forward(this.ada.forward(reals));
      const lossFake = fakeLogits.softplus().mean();
      const lossReal = realLogits.neg().softplus().mean();
      this.recordRealSigns(realLogits);
      this.stats.report('Loss/D/fake', lossFake);
      this.stats.report('Loss/D/real', lossReal);
      this.stats.report('Loss/scores/real', realLogits);
      this.stats.report('Loss/signs/real', realLogits.sign());
      this.optD.zeroGrad();
      lossFake.add(lossReal).backward();
      this.averageGrads(this.D.parameters());
      sanitizeGrads(this.D.parameters());
      this.optD.step();
    });
  }

  /** Dreg (spec §7.3): lazy R1 on the reals through the augmentation, × the interval. */
  dReg(reals: Tensor): void {
    scope(() => {
      const x = reals.detach().requiresGrad_(true);
      const logits = this.D.forward(this.ada.forward(x));
      const penalty = r1Penalty(x, logits); // [N]
      this.recordRealSigns(logits);
      this.stats.report('Loss/r1_penalty', penalty);
      const loss = penalty
        .mul(this.r1Gamma / 2)
        .mean()
        .mul(this.opts.dRegInterval);
      this.stats.report('Loss/D/reg', loss);
      this.optD.zeroGrad();
      loss.backward();
      this.averageGrads(this.D.parameters());
      sanitizeGrads(this.D.parameters());
      this.optD.step();
    });
  }

  /** G_ema (spec §8): β = 0.5^(N / max(emaNimg, 1e-8)), emaNimg = min(emaKimg·1000, curNimg·rampup). */
  updateEma(n: number): void {
    const emaKimg = this.opts.emaKimg ?? (n * 10) / 32;
    let emaNimg = emaKimg * 1000;
    if (this.opts.emaRampup !== null) emaNimg = Math.min(emaNimg, this.curNimg * this.opts.emaRampup);
    const beta = 0.5 ** (n / Math.max(emaNimg, 1e-8));
    this.ema.update(beta);
    this.ema.copyFrom(this.emaBuffers.src, this.emaBuffers.dst);
  }

  /** ADA (spec §6): every adaInterval iterations, p += sign(r_t − target)·N·interval/(adaKimg·1000), p ≥ 0. */
  private updateAda(n: number): void {
    const { sum, count } = this.adaSigns(); // summed over ranks: every rank gets the same p
    if (count === 0) return;
    const rt = sum / count;
    this.adaSignSum?.dispose();
    this.adaSignSum = null;
    this.adaSignCount = 0;
    if (!this.opts.ada || this.opts.adaFixed) return;
    const adjust = Math.sign(rt - this.opts.adaTarget) * ((n * this.opts.adaInterval) / (this.opts.adaKimg * 1000));
    this.ada.p = Math.max(this.ada.p + adjust, 0);
  }

  /**
   * The ADA sign statistics gathered since the last p update (host sync), for checkpoints and the p update;
   * with several ranks, summed over them (a collective: every rank calls it at the same point).
   */
  adaSigns(): { sum: number; count: number } {
    const local = { sum: this.adaSignSum === null ? 0 : this.adaSignSum.item(), count: this.adaSignCount };
    if (!this.parallel) return local;
    const both = tensor([local.sum, local.count], { dtype: 'float64' });
    try {
      allReduce_([both]);
      const [sum, count] = both.toArray() as number[];
      return { sum, count };
    } finally {
      both.dispose();
    }
  }

  /** Restores adaSigns(); with several ranks, rank 0 holds the (global) sums and the others start from zero. */
  setAdaSigns(s: { sum: number; count: number }): void {
    this.adaSignSum?.dispose();
    const own = !this.parallel || this.parallel.rank === 0 ? s : { sum: 0, count: 0 };
    this.adaSignSum = own.count > 0 ? keep(scalar(own.sum, { device: this.device })) : null;
    this.adaSignCount = own.count;
  }

  /**
   * One full iteration on a batch of reals [N, 3, S, S] in [−1, 1]: this rank's share of the batch when data
   * parallel (the counters, G_ema's β and ADA's step then use the global batch N × worldSize, as upstream).
   */
  step(reals: Tensor): void {
    const n = reals.shape[0];
    const global = this.globalBatch(n);
    this.G.setKimg(this.curNimg / 1000);
    this.gMain(n);
    // Greg (every gRegInterval iterations) computes nothing: path-length regularisation is off (spec §7.7).
    this.dMain(reals);
    if (this.iteration % this.opts.dRegInterval === 0) this.dReg(reals);
    this.updateEma(global);
    this.curNimg += global;
    this.iteration++;
    this.Gema.setKimg(this.curNimg / 1000); // the mask prior's fade as of the images G_ema now averages
    if (this.iteration % this.opts.adaInterval === 0) this.updateAda(global);
  }

  dispose(): void {
    for (const m of [this.G, this.D, this.Gema]) m.dispose();
    this.optG.dispose();
    this.optD.dispose();
    this.ada.dispose();
    this.stats.dispose();
    this.adaSignSum?.dispose();
  }
}
