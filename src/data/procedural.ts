// SPDX-License-Identifier: MIT
// The built-in procedural dataset (datasets.md §1): textured, shaded star-convex blobs over textured
// backgrounds with a horizon gradient, with exact masks. Deterministic from a seed; pure JS, no assets.

/** mulberry32: a small, fast, seedable PRNG returning floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let r = Math.imul(a ^ (a >>> 15), 1 | a);
    r = (r + Math.imul(r ^ (r >>> 7), 61 | r)) ^ r;
    return ((r ^ (r >>> 14)) >>> 0) / 4294967296;
  };
}

export interface ProceduralSample {
  /** Interleaved RGB, size·size·3 bytes. */
  rgb: Uint8Array;
  /** Anti-aliased alpha, size·size bytes (0–255). */
  alpha: Uint8Array;
  /** Binary mask (alpha ≥ 0.5), size·size bytes of 0/255. */
  mask: Uint8Array;
}

type Rgb = [number, number, number];

/** Smooth value noise with `octaves` octaves on a size×size grid, values in [0, 1]. */
function fractalNoise(size: number, rand: () => number, baseCells: number, octaves: number): Float32Array {
  const out = new Float32Array(size * size);
  let amp = 1;
  let total = 0;
  for (let o = 0; o < octaves; o++) {
    const cells = baseCells << o;
    const g = new Float32Array((cells + 1) * (cells + 1));
    for (let i = 0; i < g.length; i++) g[i] = rand();
    for (let y = 0; y < size; y++) {
      const fy = (y / size) * cells;
      const y0 = Math.floor(fy);
      const ty = smooth(fy - y0);
      for (let x = 0; x < size; x++) {
        const fx = (x / size) * cells;
        const x0 = Math.floor(fx);
        const tx = smooth(fx - x0);
        const a = g[y0 * (cells + 1) + x0];
        const b = g[y0 * (cells + 1) + x0 + 1];
        const c = g[(y0 + 1) * (cells + 1) + x0];
        const d = g[(y0 + 1) * (cells + 1) + x0 + 1];
        out[y * size + x] += amp * (a + (b - a) * tx + (c - a) * ty + (a - b - c + d) * tx * ty);
      }
    }
    total += amp;
    amp *= 0.5;
  }
  for (let i = 0; i < out.length; i++) out[i] /= total;
  return out;
}

function smooth(t: number): number {
  return t * t * (3 - 2 * t);
}

/** A random colour; foreground and background draw from the same distribution (colour alone cannot separate). */
function randomColour(rand: () => number): Rgb {
  const h = rand() * 6;
  const s = 0.35 + 0.55 * rand();
  const v = 0.3 + 0.65 * rand();
  const i = Math.floor(h);
  const f = h - i;
  const p = v * (1 - s);
  const q = v * (1 - s * f);
  const t = v * (1 - s * (1 - f));
  const table: Rgb[] = [
    [v, t, p],
    [q, v, p],
    [p, v, t],
    [p, q, v],
    [t, p, v],
    [v, p, q],
  ];
  return table[i % 6];
}

function mix(a: Rgb, b: Rgb, t: number): Rgb {
  return [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t];
}

/** One sample of the given side length, from its own seed. */
export function proceduralSample(size: number, seed: number): ProceduralSample {
  const rand = mulberry32(seed * 2654435761 + 12345);
  const n = size * size;

  // Background: two-colour noise field and a vertical gradient (a horizon cue).
  const bgA = randomColour(rand);
  const bgB = randomColour(rand);
  const sky = randomColour(rand);
  const bgNoise = fractalNoise(size, rand, 2 + Math.floor(rand() * 3), 3);
  const horizon = 0.25 + 0.4 * rand();
  const bg = new Float32Array(n * 3);
  for (let y = 0; y < size; y++) {
    const v = y / (size - 1);
    const g = Math.min(1, Math.max(0, (horizon - v) / 0.25 + 0.5)) * 0.6; // sky weight near the top
    for (let x = 0; x < size; x++) {
      const i = y * size + x;
      const c = mix(mix(bgA, bgB, bgNoise[i]), sky, g);
      bg[i * 3] = c[0];
      bg[i * 3 + 1] = c[1];
      bg[i * 3 + 2] = c[2];
    }
  }

  // Object: star-convex blob r(θ) = R·(1 + Σ_{k=2..5} a_k cos(kθ + φ_k)), elongated and rotated.
  const targetFrac = 0.2 + 0.25 * rand();
  const amps = [2, 3, 4, 5].map((k) => ({ k, a: (rand() * 0.22) / (k - 1), phi: rand() * Math.PI * 2 }));
  const elong = 1 + 0.5 * rand();
  const rot = rand() * Math.PI;
  const cx = 0.5 + (rand() - 0.5) * 0.2;
  const cy = 0.5 + (rand() - 0.5) * 0.2;
  // Pick R so the blob covers about targetFrac of the frame (area of the unperturbed ellipse πR²).
  const radius = Math.min(0.33, Math.max(0.22, Math.sqrt(targetFrac / Math.PI)));
  const cosR = Math.cos(rot);
  const sinR = Math.sin(rot);
  const shape = (px: number, py: number): number => {
    // Normalised distance (< 1 inside) in the blob's own frame.
    const dx = px - cx;
    const dy = py - cy;
    const u = (dx * cosR + dy * sinR) / Math.sqrt(elong);
    const v = (-dx * sinR + dy * cosR) * Math.sqrt(elong);
    const theta = Math.atan2(v, u);
    let r = 1;
    for (const { k, a, phi } of amps) r += a * Math.cos(k * theta + phi);
    return Math.hypot(u, v) / (radius * r);
  };
  // 4× supersampled coverage → anti-aliased alpha; the binary mask is alpha ≥ 0.5.
  const ss = 4;
  const alpha = new Float32Array(n);
  const dist = new Float32Array(n);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      let inside = 0;
      for (let sy = 0; sy < ss; sy++) {
        for (let sx = 0; sx < ss; sx++) {
          if (shape((x + (sx + 0.5) / ss) / size, (y + (sy + 0.5) / ss) / size) < 1) inside++;
        }
      }
      alpha[y * size + x] = inside / (ss * ss);
      dist[y * size + x] = shape((x + 0.5) / size, (y + 0.5) / size);
    }
  }

  // Texture: two-colour multi-octave noise, shaded (Lambert) on a dome height map h = sqrt(1 − d²).
  const fgA = randomColour(rand);
  const fgB = randomColour(rand);
  const fgNoise = fractalNoise(size, rand, 3 + Math.floor(rand() * 4), 3);
  const light = normalise([rand() - 0.5, rand() - 0.5 - 0.4, 0.8]);
  const height = (d: number) => Math.sqrt(Math.max(0, 1 - Math.min(d, 1) ** 2));
  const rgb = new Uint8Array(n * 3);
  const a8 = new Uint8Array(n);
  const m8 = new Uint8Array(n);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const i = y * size + x;
      const a = alpha[i];
      let fg: Rgb = [0, 0, 0];
      if (a > 0) {
        const hx = height(shape((x + 1.5) / size, (y + 0.5) / size)) - height(shape((x - 0.5) / size, (y + 0.5) / size));
        const hy = height(shape((x + 0.5) / size, (y + 1.5) / size)) - height(shape((x + 0.5) / size, (y - 0.5) / size));
        const normal = normalise([(-hx * radius * size) / 2, (-hy * radius * size) / 2, 1]);
        const lambert = Math.max(0, normal[0] * light[0] + normal[1] * light[1] + normal[2] * light[2]);
        const shade = 0.35 + 0.75 * lambert;
        fg = mix(fgA, fgB, fgNoise[i]).map((v) => v * shade) as Rgb;
      }
      for (let ch = 0; ch < 3; ch++) {
        const v = a * fg[ch] + (1 - a) * bg[i * 3 + ch];
        rgb[i * 3 + ch] = Math.max(0, Math.min(255, Math.round(v * 255)));
      }
      a8[i] = Math.round(a * 255);
      m8[i] = a >= 0.5 ? 255 : 0;
    }
  }
  return { rgb, alpha: a8, mask: m8 };
}

function normalise(v: [number, number, number]): [number, number, number] {
  const l = Math.hypot(v[0], v[1], v[2]) || 1;
  return [v[0] / l, v[1] / l, v[2] / l];
}

/** The seed of sample i of a split: training and test images never share seeds. */
export function proceduralSeed(split: 'train' | 'test', index: number, seed = 0): number {
  return (split === 'train' ? 1_000_003 : 7_000_019) + seed * 10_000_000 + index;
}
