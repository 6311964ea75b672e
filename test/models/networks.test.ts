// SPDX-License-Identifier: MIT
// The networks against the spec: parameter counts (§3.8, and an independent count from the layer layout of
// §3.2/§3.3/§5 for every preset), output shapes and ranges of G and D (§17), the composite identity (§3.4), and
// the `info` command's JSON.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import * as t from '../../src/index.js';
import { type NetworkConfig, presets } from '../../src/models/config.js';
import { Discriminator } from '../../src/models/discriminator.js';
import { LayeredGenerator, centredBump, jitteredBumps } from '../../src/models/layeredGenerator.js';
import { assertClose } from '../helpers/assertClose.js';
import { repoRoot } from '../helpers/childProcess.js';
import { noLeak } from '../helpers/noLeak.js';

/** The spec's table (§3.8). */
const specCounts = {
  ils64: { mapping: 2_101_248, bgSynthesis: 7_157_272, fgSynthesis: 7_158_557, g: 18_518_325, d: 6_625_281, numWs: 10 },
  ils128: { mapping: 2_101_248, bgSynthesis: 7_862_941, fgSynthesis: 7_864_355, g: 19_929_792, d: 7_100_289, numWs: 12 },
};

/** Channels at r (spec §3.2): min(channelBase // r, channelMax). */
const ch = (c: NetworkConfig, r: number) => Math.min(Math.floor(c.channelBase / r), c.channelMax);

/**
 * Parameter counts written out from the layer layout of the spec, independently of the modules:
 * FC = in·out + out; modulated conv = W (O·I·k²) + bias O + affine (wDim·I + I) + noise strength 1;
 * ToRGB = W (img·I) + bias img + affine (wDim·I + I); D conv = O·I·k² (+ O bias).
 */
function countFromLayout(c: NetworkConfig) {
  const fc = (i: number, o: number) => i * o + o;
  const mapping = Array.from({ length: c.mappingLayers }, (_, i) => fc(i === 0 ? c.zDim : c.wDim, c.wDim)).reduce((a, b) => a + b, 0);
  const synthLayer = (i: number, o: number) => o * i * 9 + o + fc(c.wDim, i) + 1;
  const toRgb = (i: number, img: number) => img * i + img + fc(c.wDim, i);
  const synthesis = (img: number) => {
    let n = 0;
    for (let r = 4; r <= c.resolution; r *= 2) {
      const cr = ch(c, r);
      if (r === 4) n += cr * 16 + synthLayer(cr, cr);
      else n += synthLayer(ch(c, r / 2), cr) + synthLayer(cr, cr);
      n += toRgb(cr, img);
    }
    return n;
  };
  const conv = (i: number, o: number, k: number, bias = true) => o * i * k * k + (bias ? o : 0);
  let d = 0;
  for (let r = c.resolution; r > 4; r /= 2) {
    const cr = ch(c, r);
    const cout = ch(c, r / 2);
    if (r === c.resolution) d += conv(3, cr, 1);
    d += conv(cr, cr, 3) + conv(cr, cout, 3) + conv(cr, cout, 1, false);
  }
  const c4 = ch(c, 4);
  d += conv(c4 + c.mbstdChannels, c4, 3) + fc(c4 * 16, c4) + fc(c4, 1);
  const log2 = Math.log2(c.resolution);
  return {
    mapping,
    bgSynthesis: synthesis(3),
    fgSynthesis: synthesis(4),
    g: 2 * mapping + synthesis(3) + synthesis(4),
    d,
    numWs: 1 + 2 * (log2 - 2) + 1,
  };
}

describe('parameter counts', () => {
  test('the layout count reproduces the spec table (so it can stand in for the table on the small presets)', () => {
    for (const name of ['ils64', 'ils128'] as const) assert.deepEqual(countFromLayout(presets[name]), specCounts[name], name);
  });

  for (const name of ['ils64', 'ils128'] as const) {
    test(`${name}: G ${specCounts[name].g.toLocaleString('en-US')}, D ${specCounts[name].d.toLocaleString('en-US')} (spec §3.8)`, () => {
      noLeak(() => {
        const g = new LayeredGenerator(presets[name]);
        const d = new Discriminator(presets[name]);
        try {
          const sum = (ps: t.Tensor[]) => ps.reduce((n, p) => n + p.numel, 0);
          const want = specCounts[name];
          assert.equal(sum(g.parameters()), want.g);
          assert.equal(sum(d.parameters()), want.d);
          assert.equal(sum(g.bg.mapping.parameters()), want.mapping);
          assert.equal(sum(g.fg.mapping.parameters()), want.mapping);
          assert.equal(sum(g.bg.synthesis.parameters()), want.bgSynthesis);
          assert.equal(sum(g.fg.synthesis.parameters()), want.fgSynthesis);
          assert.equal(g.bg.synthesis.numWs, want.numWs);
          assert.equal(g.fg.synthesis.numWs, want.numWs);
          // Buffers (FIR filters, noise_const, w_avg) are not parameters, and every parameter is trainable.
          for (const [n, p] of g.namedParameters()) assert.ok(p.requiresGrad, `${n} requires grad`);
          const params = new Set(g.parameters());
          for (const [n, b] of g.namedBuffers()) assert.ok(!params.has(b), `${n} is a buffer, not a parameter`);
          assert.ok(g.namedBuffers().some(([n]) => n.endsWith('mapping.w_avg')));
        } finally {
          g.dispose();
          d.dispose();
        }
      }, name);
    });
  }

  test('tiny32 and small64 match the layout count', () => {
    for (const name of ['tiny32', 'small64'] as const) {
      const g = new LayeredGenerator(presets[name]);
      const d = new Discriminator(presets[name]);
      try {
        const want = countFromLayout(presets[name]);
        assert.equal(g.numParameters(), want.g, `${name} G`);
        assert.equal(d.numParameters(), want.d, `${name} D`);
        assert.equal(g.bg.synthesis.numWs, want.numWs, `${name} num_ws`);
      } finally {
        g.dispose();
        d.dispose();
      }
    }
  });
});

describe('tiny32 forward', () => {
  const net = presets.tiny32;
  const s = net.resolution;
  const n = 4;

  test('G: layer shapes, mask = sigmoid(4th fg channel) in [0, 1], composite = (1 − m)·bg + m·fg', () => {
    noLeak(() => {
      t.manualSeed(1);
      const g = new LayeredGenerator(net);
      try {
        t.scope(() => {
          const z = t.randn([n, net.zDim]);
          const l = g.forward(z, 'const');
          assert.deepEqual(l.bg.shape, [n, 3, s, s]);
          assert.deepEqual(l.fg.shape, [n, 3, s, s]);
          assert.deepEqual(l.mask.shape, [n, 1, s, s]);
          assert.deepEqual(l.img.shape, [n, 3, s, s]);
          for (const v of [l.bg, l.fg, l.mask, l.img]) assert.equal(v.isfinite().all().item(), 1);
          const m = l.mask.toArray();
          assert.ok(
            m.every((v) => v >= 0 && v <= 1),
            'mask in [0, 1]',
          );
          assert.ok(Math.max(...m) > Math.min(...m), 'mask is not constant');
          // The branches on their own (same z, const noise): bg is the 3-channel branch, the fg branch has 4
          // channels, the mask is the sigmoid of its 4th.
          const bgAlone = g.bg.forward(z, 'const');
          const fgAlone = g.fg.forward(z, 'const');
          assert.deepEqual(fgAlone.shape, [n, 4, s, s]);
          assertClose(l.bg, bgAlone, { rtol: 1e-6, atol: 1e-6 });
          assertClose(l.fg, fgAlone.narrow(1, 0, 3), { rtol: 1e-6, atol: 1e-6 });
          const logit = fgAlone.narrow(1, 3, 1).toArray();
          assertClose(
            m,
            logit.map((v) => 1 / (1 + Math.exp(-v))),
            { rtol: 1e-5, atol: 1e-6 },
          );
          // Composite, element by element in JS (mask broadcast over the 3 channels).
          const bg = l.bg.toArray();
          const fg = l.fg.toArray();
          const img = l.img.toArray();
          const hw = s * s;
          const expected = img.map((_, i) => {
            const b = Math.floor(i / (3 * hw));
            const p = i % hw;
            const mv = m[b * hw + p];
            return (1 - mv) * bg[i] + mv * fg[i];
          });
          assertClose(img, expected, { rtol: 1e-5, atol: 1e-5 });
          // ws: every synthesis layer gets [N, num_ws, wDim].
          assert.equal(g.bg.synthesis.numWs, 1 + 2 * (Math.log2(s) - 2) + 1);
          // Same z drives both branches (spec §3.1): a different z changes both.
          const l2 = g.forward(t.randn([n, net.zDim]), 'const');
          assert.ok(l2.bg.sub(l.bg).abs().sum().item() > 0);
          assert.ok(l2.fg.sub(l.fg).abs().sum().item() > 0);
        });
      } finally {
        g.dispose();
      }
    });
  });

  test('maskPriorJitter: one bump per sample, a function of z (centre, size, aspect), the centred bump at z = 0', () => {
    const size = 32;
    const centred = centredBump(size, 4).toArray();
    const zero = jitteredBumps(new Float32Array(4), 4, size, 4, 0.15);
    assertClose(t.tensor(zero), t.tensor(centred), { atol: 1e-5 });
    // z₀ > 0 moves the bump right, z₁ > 0 down; z₂ > 0 makes it bigger; z₃ > 0 wider than tall.
    const zs = new Float32Array([1.5, 0, 0, 0, 0, -1.5, 0, 0, 0, 0, 1.5, 0, 0, 0, 0, 1.5]);
    const b = jitteredBumps(zs, 4, size, 4, 0.15);
    const plane = size * size;
    const peak = (i: number) => {
      let best = 0;
      for (let k = 1; k < plane; k++) if (b[i * plane + k]! > b[i * plane + best]!) best = k;
      return { x: best % size, y: Math.floor(best / size) };
    };
    const area = (i: number) => b.subarray(i * plane, (i + 1) * plane).filter((v) => v > 0).length / plane;
    const extent = (i: number, axis: 'x' | 'y') => {
      let n = 0;
      for (let k = 0; k < size; k++) n += b[i * plane + (axis === 'x' ? (size / 2) * size + k : k * size + size / 2)]! > 0 ? 1 : 0;
      return n;
    };
    assert.ok(peak(0).x > size / 2 + 2, `moved right: ${JSON.stringify(peak(0))}`);
    assert.ok(peak(1).y < size / 2 - 2, `moved up: ${JSON.stringify(peak(1))}`);
    assert.ok(area(2) > area(3) * 1.3, `bigger: ${area(2)} against ${area(3)}`);
    assert.ok(extent(3, 'x') > extent(3, 'y') + 2, `wider than tall: ${extent(3, 'x')} × ${extent(3, 'y')}`);
    // The generator uses it per sample: two latents that differ only in z₀ get different masks at prior scale 1.
    noLeak(() => {
      t.manualSeed(3);
      const g = new LayeredGenerator({ ...net, maskPrior: 4, maskPriorKimg: 10, maskPriorJitter: 0.15 });
      try {
        t.scope(() => {
          const z = t.randn([1, net.zDim]).expand([2, -1]).contiguous();
          const shift = t.tensor(
            new Float32Array(2 * net.zDim).map((_, k) => (k === 0 ? -1.5 : k === net.zDim ? 1.5 : 0)),
            { shape: [2, net.zDim] },
          );
          const logit = g.fg.forward(z.add(shift), 'const').narrow(1, 3, 1);
          const mask = g.forward(z.add(shift), 'const').mask;
          const expected = logit
            .add(
              t.tensor(jitteredBumps(z.add(shift).narrow(1, 0, 4).contiguous().data() as Float32Array, 4, s, 4, 0.15), {
                shape: [2, 1, s, s],
              }),
            )
            .sigmoid();
          assertClose(mask, expected, { rtol: 1e-5, atol: 1e-6 });
          g.setKimg(10);
          assertClose(g.forward(z.add(shift), 'const').mask, logit.sigmoid(), { rtol: 1e-5, atol: 1e-6 });
        });
      } finally {
        g.dispose();
      }
    });
  });

  test('demo deviation: maskPrior adds a centred bump to the alpha logit and fades to nothing over maskPriorKimg', () => {
    noLeak(() => {
      t.manualSeed(2);
      const g = new LayeredGenerator({ ...net, maskPrior: 4, maskPriorKimg: 10 });
      try {
        t.scope(() => {
          const plain = new LayeredGenerator(net);
          assert.equal(g.numParameters(), plain.numParameters()); // a buffer, not a parameter
          plain.dispose();
          const bump = centredBump(s, 4);
          const b = bump.toArray();
          assert.equal(Math.max(...b), b[(s / 2) * s + s / 2]); // peak at the centre
          assert.equal(b[0], -4); // corners at −β
          const area = b.filter((v) => v > 0).length / b.length;
          assert.ok(Math.abs(area - 0.3) < 0.02, `positive area ${area}`);
          const z = t.randn([n, net.zDim]);
          const logit = g.fg.forward(z, 'const').narrow(1, 3, 1);
          for (const [kimg, scale] of [
            [0, 1],
            [2.5, 0.75],
            [10, 0],
            [30, 0],
          ] as const) {
            g.setKimg(kimg);
            assert.equal(g.priorScale, scale);
            assertClose(g.forward(z, 'const').mask, logit.add(bump.mul(scale)).sigmoid(), { rtol: 1e-5, atol: 1e-6 });
          }
        });
      } finally {
        g.dispose();
      }
    });
  });

  test('D: logits [N, 1], finite; a wrong input shape is a ShapeError', () => {
    noLeak(() => {
      t.manualSeed(2);
      const d = new Discriminator(net);
      try {
        t.scope(() => {
          const logits = d.forward(t.rand([n, 3, s, s]).mul(2).sub(1));
          assert.deepEqual(logits.shape, [n, 1]);
          assert.equal(logits.isfinite().all().item(), 1);
          assert.throws(
            () => d.forward(t.rand([n, 3, s / 2, s / 2])),
            (e: Error) => e instanceof t.ShapeError,
          );
          assert.throws(
            () => d.forward(t.rand([n, 4, s, s])),
            (e: Error) => e instanceof t.ShapeError,
          );
        });
      } finally {
        d.dispose();
      }
    });
  });
});

describe('ilsgan info', () => {
  test('--config ils64 --json prints the spec parameter counts', () => {
    const out = execFileSync(process.execPath, [join(repoRoot, 'dist/src/cli/main.js'), 'info', '--config', 'ils64', '--json'], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    const info = JSON.parse(out.trim()) as Record<string, unknown>;
    assert.equal(info.g_params, specCounts.ils64.g);
    assert.equal(info.d_params, specCounts.ils64.d);
    assert.equal(info.g_mapping_params, specCounts.ils64.mapping);
    assert.equal(info.g_bg_synthesis_params, specCounts.ils64.bgSynthesis);
    assert.equal(info.g_fg_synthesis_params, specCounts.ils64.fgSynthesis);
    assert.equal(info.num_ws, 10);
  });
});
