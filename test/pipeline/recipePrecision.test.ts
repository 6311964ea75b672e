// SPDX-License-Identifier: MIT
// `--recipe cpu` trains the GAN's reduced-precision blocks in bfloat16 on a CPU with native bfloat16 and in float32
// on other CPUs and leaves a GPU at 'auto' (float16); a --precision flag still wins; the report and --version say
// which was chosen.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { formatVersionInfo, type VersionInfo } from '../../src/cli/versionInfo.js';
import { describePrecision } from '../../src/pipeline/pipeline.js';
import { cpuRecipe, recipeCpuPrecision, recipeFacts, recipeTrainOptions } from '../../src/pipeline/recipes.js';
import { lowPrecisionDtype } from '../../src/train/options.js';
import { runOptions } from '../../src/train/loop.js';
import { nativeBfloat16 } from '../../src/util/cpuFeatures.js';

const sapphireRapids = new Set(['sse4_2', 'avx512f', 'avx512_bf16', 'amx_bf16']);
const skylake = new Set(['sse4_2', 'avx2', 'avx512f']);
const armWithBf16 = new Set(['fp', 'asimd', 'bf16']);

describe('recipe precision', () => {
  test('bfloat16 on a CPU with native bfloat16, float32 on one without', () => {
    assert.equal(recipeTrainOptions(cpuRecipe, 'cpu', sapphireRapids).precision, 'bfloat16');
    assert.equal(recipeTrainOptions(cpuRecipe, 'cpu', armWithBf16).precision, 'bfloat16');
    assert.equal(recipeTrainOptions(cpuRecipe, 'cpu', skylake).precision, undefined);
    assert.equal(lowPrecisionDtype(recipeTrainOptions(cpuRecipe, 'cpu', skylake).precision, 'cpu'), null, 'float32 throughout');
    assert.equal(recipeCpuPrecision(cpuRecipe, sapphireRapids), 'bfloat16');
    assert.equal(recipeCpuPrecision(cpuRecipe, skylake), 'fp32');
    assert.equal(recipeCpuPrecision(cpuRecipe, new Set()), 'fp32', 'no /proc/cpuinfo: nothing claimed');
  });

  test("a GPU keeps 'auto' (float16, the paper's), whatever the CPU has", () => {
    for (const device of ['cuda', 'cuda:1']) {
      const o = recipeTrainOptions(cpuRecipe, device, sapphireRapids);
      assert.equal(o.precision, undefined);
      assert.equal(lowPrecisionDtype(o.precision, device), 'float16');
    }
  });

  test("the recipe's other training options are kept, and the recipe itself is not changed", () => {
    const o = recipeTrainOptions(cpuRecipe, 'cpu', sapphireRapids);
    assert.equal(o.maskBorderWeight, 2);
    assert.equal(o.maxMaskSize, 0.5);
    assert.equal(o.batch, 32);
    assert.equal(cpuRecipe.train.precision, undefined);
  });

  test('a --precision flag wins over the recipe', () => {
    const recipe = recipeTrainOptions(cpuRecipe, 'cpu', sapphireRapids);
    assert.equal(runOptions({ options: { precision: 'fp32' }, recipeOptions: recipe }, null).precision, 'fp32');
    assert.equal(runOptions({ recipeOptions: recipe }, null).precision, 'bfloat16');
  });

  test('this machine: the choice follows /proc/cpuinfo', () => {
    assert.equal(recipeCpuPrecision(cpuRecipe), nativeBfloat16() ? 'bfloat16' : 'fp32');
  });

  test('the deviation is listed with the flag that switches it back', () => {
    const fact = recipeFacts(cpuRecipe).find((f) => f.label === 'deviation: precision on the CPU');
    assert.ok(fact, 'listed');
    assert.match(fact.value, /bfloat16/);
    assert.match(fact.value, /\[--precision fp32\]/);
  });

  test("the report's fact and --version name the precision", () => {
    assert.equal(describePrecision('bfloat16', 'cpu'), 'bfloat16 in the reduced-precision blocks (spec §3.7), float32 elsewhere');
    assert.equal(describePrecision(undefined, 'cpu'), 'float32 throughout');
    assert.match(describePrecision(undefined, 'cuda:0'), /^float16 /);
    const v: VersionInfo = {
      ilsgan: '0.0.0',
      libtorch: '1.13.0',
      libtorch_route: 'system',
      device: 'cpu',
      threads: 2,
      cuda: false,
      blas: 'OpenBLAS',
      bfloat16_native: true,
      distributed: 'gloo',
      cpu_training_precision: 'fp32',
      recipe_cpu_precision: 'bfloat16',
    };
    assert.match(formatVersionInfo(v), /CPU training precision: fp32 \(--recipe cpu: bfloat16\)/);
  });
});
