// SPDX-License-Identifier: MIT
// Adam (torch.optim.Adam semantics) over parameter groups; one native call per group per step.
import { ArgumentError } from '../errors.js';
import { native } from '../native.js';
import { zerosLike } from '../ops/creation.js';
import { keep, noGrad } from '../scope.js';
import type { Tensor } from '../tensor.js';

export interface AdamOptions {
  lr: number;
  /** (β1, β2); default (0.9, 0.999). StyleGAN2 uses β1 = 0. */
  betas?: readonly [number, number];
  eps?: number;
  /** L2 penalty added to the gradient (Adam, not AdamW); default 0. */
  weightDecay?: number;
}

export interface ParamGroup extends Required<AdamOptions> {
  readonly params: readonly Tensor[];
  readonly expAvg: readonly Tensor[];
  readonly expAvgSq: readonly Tensor[];
  /** Per-parameter step counts, advanced by the native step for parameters that had a gradient. */
  readonly steps: Float64Array;
}

function checkOptions(o: AdamOptions): Required<AdamOptions> {
  const betas = o.betas ?? [0.9, 0.999];
  if (!(o.lr >= 0)) throw new ArgumentError(`Adam: expected lr ≥ 0, got ${o.lr}`);
  if (!(betas[0] >= 0 && betas[0] < 1 && betas[1] >= 0 && betas[1] < 1)) {
    throw new ArgumentError(`Adam: expected betas in [0, 1), got [${betas.join(', ')}]`);
  }
  const eps = o.eps ?? 1e-8;
  if (!(eps >= 0)) throw new ArgumentError(`Adam: expected eps ≥ 0, got ${eps}`);
  return { lr: o.lr, betas: [betas[0], betas[1]], eps, weightDecay: o.weightDecay ?? 0 };
}

/**
 * Adam. State (moments, steps) is kept and updated in place.
 * @example const opt = new Adam(g.parameters(), { lr: 0.002, betas: [0, 0.99] }); loss.backward(); opt.step();
 */
export class Adam {
  readonly groups: ParamGroup[] = [];
  /**
   * Update each group's list with multi-tensor (_foreach_) calls: on CUDA a few fused kernels per update instead
   * of 8 launches per parameter (torch.optim.Adam's default there). Same values either way. Defaults to whether
   * the first parameter is on a GPU (on the CPU the per-parameter loop dispatches less).
   */
  foreach: boolean;

  constructor(params: readonly Tensor[] | readonly ({ params: readonly Tensor[] } & Partial<AdamOptions>)[], defaults: AdamOptions) {
    const groups =
      params.length > 0 && 'params' in (params[0] as object)
        ? (params as { params: readonly Tensor[] }[])
        : [{ params: params as readonly Tensor[] }];
    for (const g of groups) this.addParamGroup({ ...defaults, ...g });
    this.foreach = this.groups.some((g) => onGpu(g.params));
  }

  addParamGroup(g: { params: readonly Tensor[] } & AdamOptions): void {
    const o = checkOptions(g);
    const expAvg = keep(g.params.map((p) => zerosLike(p)));
    const expAvgSq = keep(g.params.map((p) => zerosLike(p)));
    this.groups.push({ ...o, params: [...g.params], expAvg, expAvgSq, steps: new Float64Array(g.params.length) });
  }

  /** One update of every parameter that has a gradient. */
  step(): void {
    for (const g of this.groups) {
      native.adamStep(
        g.params.map((p) => p.handle),
        g.expAvg.map((t) => t.handle),
        g.expAvgSq.map((t) => t.handle),
        g.steps,
        g.lr,
        g.betas[0],
        g.betas[1],
        g.eps,
        g.weightDecay,
        this.foreach,
      );
    }
  }

  /** Sets every parameter's `.grad` to null (PyTorch's zero_grad(set_to_none=True)). */
  zeroGrad(): void {
    for (const g of this.groups) native.clearGrads(g.params.map((p) => p.handle));
  }

  /** State for checkpoints: moments as named tensors, steps and hyper-parameters as JSON. */
  stateDict(prefix = ''): {
    tensors: Map<string, Tensor>;
    json: { groups: { lr: number; betas: number[]; eps: number; weightDecay: number; steps: number[] }[] };
  } {
    const tensors = new Map<string, Tensor>();
    this.groups.forEach((g, gi) => {
      g.expAvg.forEach((t, i) => tensors.set(`${prefix}${gi}.${i}.exp_avg`, t));
      g.expAvgSq.forEach((t, i) => tensors.set(`${prefix}${gi}.${i}.exp_avg_sq`, t));
    });
    return {
      tensors,
      json: {
        groups: this.groups.map((g) => ({
          lr: g.lr,
          betas: [...g.betas],
          eps: g.eps,
          weightDecay: g.weightDecay,
          steps: Array.from(g.steps),
        })),
      },
    };
  }

  /** Restores stateDict() output (moments copied in place; hyper-parameters and steps replaced). */
  loadStateDict(state: ReturnType<Adam['stateDict']>, prefix = ''): void {
    if (state.json.groups.length !== this.groups.length) {
      throw new ArgumentError(`Adam.loadStateDict: ${state.json.groups.length} groups saved, ${this.groups.length} here`);
    }
    noGrad(() => {
      this.groups.forEach((g, gi) => {
        const saved = state.json.groups[gi];
        if (saved.steps.length !== g.params.length) {
          throw new ArgumentError(`Adam.loadStateDict: group ${gi} has ${saved.steps.length} parameters saved, ${g.params.length} here`);
        }
        for (let i = 0; i < g.params.length; i++) {
          for (const [name, dst] of [
            ['exp_avg', g.expAvg[i]],
            ['exp_avg_sq', g.expAvgSq[i]],
          ] as const) {
            const src = state.tensors.get(`${prefix}${gi}.${i}.${name}`);
            if (!src) throw new ArgumentError(`Adam.loadStateDict: missing ${prefix}${gi}.${i}.${name}`);
            dst.copy_(src);
          }
        }
        g.steps.set(saved.steps);
        Object.assign(g, { lr: saved.lr, betas: [saved.betas[0], saved.betas[1]], eps: saved.eps, weightDecay: saved.weightDecay });
      });
    });
  }

  /** Frees the optimiser state. */
  dispose(): void {
    for (const g of this.groups) for (const t of [...g.expAvg, ...g.expAvgSq]) t.dispose();
  }
}

/**
 * Replaces NaN by 0 and ±inf by ±1e5 in every gradient (StyleGAN2-ADA does this before each step). `flat`
 * (default: the parameters are on a GPU) sanitises one concatenated buffer and leaves each .grad a view of it, as
 * upstream: two kernels instead of one per parameter. The values are the same either way.
 */
export function sanitizeGrads(params: readonly Tensor[], nan = 0, posinf = 1e5, neginf = -1e5, flat?: boolean): void {
  native.sanitizeGrads(
    params.map((p) => p.handle),
    nan,
    posinf,
    neginf,
    flat ?? onGpu(params),
  );
}

/** Whether a parameter list lives on a GPU (its list-wise updates then take the multi-tensor paths). */
export function onGpu(params: readonly Tensor[]): boolean {
  return params.length > 0 && params[0].device !== 'cpu';
}
