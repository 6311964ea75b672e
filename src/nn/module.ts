// SPDX-License-Identifier: MIT
// Module: named parameters, buffers and children (official state-dict names), train/eval, state dicts.
import { ShapeError } from '../tensor/errors.js';
import { keep, noGrad, scope } from '../tensor/scope.js';
import type { Device } from '../tensor/device.js';
import type { Tensor } from '../tensor/tensor.js';

export class Module {
  private readonly params = new Map<string, Tensor>();
  private readonly buffers = new Map<string, Tensor>();
  private readonly children = new Map<string, Module>();
  private parentPath = '';
  /** Training mode (noise, batch-norm statistics, EMA of w_avg); eval() turns it off. */
  training = true;

  /** Registers a trainable tensor (kept, requiresGrad on) under `name`. */
  protected addParameter(name: string, t: Tensor): Tensor {
    this.checkName(name);
    keep(t).requiresGrad_(true);
    this.params.set(name, t);
    return t;
  }

  /** Registers a non-trainable tensor that belongs to the state (filters, running stats, w_avg). */
  protected addBuffer(name: string, t: Tensor): Tensor {
    this.checkName(name);
    keep(t);
    this.buffers.set(name, t);
    return t;
  }

  protected addModule<M extends Module>(name: string, m: M): M {
    this.checkName(name);
    m.setPath(this.path(name));
    this.children.set(name, m);
    return m;
  }

  private checkName(name: string): void {
    if (this.params.has(name) || this.buffers.has(name) || this.children.has(name)) {
      throw new Error(`${this.path(name)} is registered twice`);
    }
  }

  private setPath(p: string): void {
    this.parentPath = p;
    for (const [name, child] of this.children) child.setPath(this.path(name));
  }

  /** Dotted path of this module (or of a name inside it), for messages: `synthesis.b16.conv0.x`. */
  path(name?: string): string {
    if (name === undefined) return this.parentPath || '<root>';
    return this.parentPath ? `${this.parentPath}.${name}` : name;
  }

  namedParameters(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [n, p] of this.params) out.push([prefix + n, p]);
    for (const [n, c] of this.children) out.push(...c.namedParameters(`${prefix}${n}.`));
    return out;
  }

  parameters(): Tensor[] {
    return this.namedParameters().map(([, p]) => p);
  }

  namedBuffers(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [n, b] of this.buffers) out.push([prefix + n, b]);
    for (const [n, c] of this.children) out.push(...c.namedBuffers(`${prefix}${n}.`));
    return out;
  }

  buffersList(): Tensor[] {
    return this.namedBuffers().map(([, b]) => b);
  }

  namedModules(prefix = ''): [string, Module][] {
    const out: [string, Module][] = [[prefix.replace(/\.$/, ''), this]];
    for (const [n, c] of this.children) out.push(...c.namedModules(`${prefix}${n}.`));
    return out;
  }

  /** Number of trainable scalars. */
  numParameters(): number {
    return this.parameters().reduce((n, p) => n + p.numel, 0);
  }

  /** Parameters and buffers by their dotted names (the tensors themselves, not copies). */
  stateDict(prefix = ''): Map<string, Tensor> {
    return new Map([...this.namedParameters(prefix), ...this.namedBuffers(prefix)]);
  }

  /**
   * Copies values in place from `state` (shapes must match). With strict (default), missing and unexpected
   * keys are errors.
   */
  loadStateDict(state: Map<string, Tensor>, o: { strict?: boolean; prefix?: string } = {}): void {
    const prefix = o.prefix ?? '';
    const own = this.stateDict(prefix);
    const missing = [...own.keys()].filter((k) => !state.has(k));
    const unexpected = [...state.keys()].filter((k) => k.startsWith(prefix) && !own.has(k));
    if ((o.strict ?? true) && (missing.length || unexpected.length)) {
      throw new ShapeError(
        `loadStateDict: ${missing.length ? `missing ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', …' : ''}` : ''}` +
          `${missing.length && unexpected.length ? '; ' : ''}` +
          `${unexpected.length ? `unexpected ${unexpected.slice(0, 5).join(', ')}${unexpected.length > 5 ? ', …' : ''}` : ''}`,
      );
    }
    noGrad(() => {
      for (const [k, dst] of own) {
        const src = state.get(k);
        if (!src) continue;
        if (src.shape.join(',') !== dst.shape.join(',')) {
          throw new ShapeError(`loadStateDict: ${k} has shape [${src.shape}], expected [${dst.shape}]`);
        }
        dst.copy_(src);
      }
    });
  }

  /** Sets training mode here and in every child; returns this. */
  train(on = true): this {
    for (const [, m] of this.namedModules()) m.training = on;
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /** Moves every parameter and buffer to `device` in place (their identities stay); returns this. */
  to(device: Device): this {
    noGrad(() =>
      scope(() => {
        for (const [, t] of this.stateDict()) {
          if (t.device === device || (device === 'cuda' && t.device === 'cuda:0')) continue;
          t.setData_(t.detach().to(device));
        }
      }),
    );
    return this;
  }

  /** Turns requiresGrad on or off for every parameter (freezing D during G phases, etc.). */
  requiresGrad_(on: boolean): this {
    for (const p of this.parameters()) p.requiresGrad_(on);
    return this;
  }

  /** Frees every parameter and buffer. */
  dispose(): void {
    for (const [, t] of this.stateDict()) t.dispose();
  }
}
