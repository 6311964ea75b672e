// SPDX-License-Identifier: MIT
// One ILSGAN training iteration (spec §8): phases Gmain, (Greg: a no-op), Dmain and lazy Dreg, then G_ema and
// the ADA strength. The loop (loop.ts) owns data, logging and checkpoints.
import { type Layers, LayeredGenerator, composite } from '../models/layeredGenerator.js';
import { Discriminator } from '../models/discriminator.js';
import type { NetworkConfig } from '../models/config.js';
import type { Device } from '../tensor/device.js';
import { cat, scalar } from '../tensor/ops/creation.js';
import { randn } from '../tensor/ops/random.js';
import { Adam, sanitizeGrads } from '../tensor/optim/adam.js';
import { Ema } from '../tensor/optim/ema.js';
import { keep, noGrad, scope } from '../tensor/scope.js';
import type { Tensor } from '../tensor/tensor.js';
import { AdaPipeline } from './augment/adaPipeline.js';
import { drawShiftEps, shiftLayers } from './layerTransform.js';
import { ilsTerms } from './loss/ils.js';
import { binarization, maskSize, maskDiversity } from './loss/maskTerms.js';
import { r1Penalty } from './loss/r1.js';
import { type TrainOptions, ilsSigmaAt, lazyAdam, lowPrecisionDtype, r1GammaFor } from './options.js';
import { Stats } from './stats.js';

/** The perturbed layers D sees: Tx-shifted foreground and mask recomposed over the background. */
export interface Perturbed {
  fg: Tensor;
  mask: Tensor;
  img: Tensor;
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

  constructor(
    readonly net: NetworkConfig,
    readonly opts: TrainOptions,
    readonly device: Device = 'cpu',
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
    this.ada = new AdaPipeline(undefined, device, opts.seed);
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
    return randn([n, this.net.zDim], { device: this.device });
  }

  /** Gmain (spec §7.6): adversarial + mask terms on the perturbed composite, ILS on the un-perturbed layers. */
  gMain(n: number): void {
    scope(() => {
      const o = this.opts;
      this.D.requiresGrad_(false);
      const layers = this.G.forward(this.z(n));
      const pert = this.perturb(layers);
      const logits = this.D.forward(this.ada.forward(pert.img));
      const adv = logits.neg().softplus().flatten(); // [N]
      const bin = binarization(pert.mask);
      // Without Tx the official loss adds the upper hinge relu(min − (1 − mean m)) itself (spec §7.4): at most 1 − min.
      const msize = maskSize(pert.mask, o.minMaskSize, o.maxMaskSize ?? (o.perturb ? null : 1 - o.minMaskSize));
      let loss = adv.add(bin.mul(o.binWeight)).add(msize.mul(o.msizeWeight)).mean();
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
      const fake = noGrad(() => this.perturb(this.G.forward(this.z(n))).img);
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
    if (this.adaSignSum === null || this.adaSignCount === 0) return;
    const rt = this.adaSignSum.item() / this.adaSignCount;
    this.adaSignSum.dispose();
    this.adaSignSum = null;
    this.adaSignCount = 0;
    if (!this.opts.ada || this.opts.adaFixed) return;
    const adjust = Math.sign(rt - this.opts.adaTarget) * ((n * this.opts.adaInterval) / (this.opts.adaKimg * 1000));
    this.ada.p = Math.max(this.ada.p + adjust, 0);
  }

  /** The ADA sign statistics gathered since the last p update (host sync), for checkpoints. */
  adaSigns(): { sum: number; count: number } {
    return { sum: this.adaSignSum === null ? 0 : this.adaSignSum.item(), count: this.adaSignCount };
  }

  setAdaSigns(s: { sum: number; count: number }): void {
    this.adaSignSum?.dispose();
    this.adaSignSum = s.count > 0 ? keep(scalar(s.sum, { device: this.device })) : null;
    this.adaSignCount = s.count;
  }

  /** One full iteration on a batch of reals [N, 3, S, S] in [−1, 1]. */
  step(reals: Tensor): void {
    const n = reals.shape[0];
    this.G.setKimg(this.curNimg / 1000);
    this.gMain(n);
    // Greg (every gRegInterval iterations) computes nothing: path-length regularisation is off (spec §7.7).
    this.dMain(reals);
    if (this.iteration % this.opts.dRegInterval === 0) this.dReg(reals);
    this.updateEma(n);
    this.curNimg += n;
    this.iteration++;
    this.Gema.setKimg(this.curNimg / 1000); // the mask prior's fade as of the images G_ema now averages
    if (this.iteration % this.opts.adaInterval === 0) this.updateAda(n);
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
