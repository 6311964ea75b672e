// SPDX-License-Identifier: MIT
// Issue 15 item 2: one table of GAN training flags (src/cli/trainFlags.ts) for `train` and `pipeline`. The two
// commands' shared flags have the same help and the same parser (they had drifted: `pipeline --seed` once refused 0,
// `--batch` and `--seed` read differently); the table's values reach TrainOptions; the preset's default batch
// comes from presetTrainOptions for both commands; the mask-range check is the same.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Command, type CommandUnknownOpts, InvalidArgumentError, type Option } from '@commander-js/extra-typings';
import { makeProgram } from '../../src/cli/program.js';
import { addTrainFlags, checkMaskRange, filledTrainOptions, trainFlags, trainOptionsFromFlags } from '../../src/cli/trainFlags.js';
import { defaultTrainOptions, presetTrainOptions, trainOptionFlags } from '../../src/train/options.js';
import { InputError } from '../../src/util/errors.js';

function command(name: string): CommandUnknownOpts {
  const c = makeProgram().commands.find((x) => x.name() === name);
  assert.ok(c, name);
  return c;
}

const longNames = (c: CommandUnknownOpts) => new Map(c.options.map((o) => [o.long!, o as Option]));

/** What a parser makes of a value: the value, or the error message. */
function parsed(o: Option, v: string): unknown {
  if (!o.parseArg) return `switch ${o.flags}`;
  try {
    return o.parseArg(v, undefined);
  } catch (e) {
    assert.ok(e instanceof InvalidArgumentError, String(e));
    return `refused: ${e.message}`;
  }
}

describe('train and pipeline: one table of GAN training flags', () => {
  test('every flag they share has the same spelling, help text and parser', () => {
    const train = longNames(command('train'));
    const pipeline = longNames(command('pipeline'));
    const shared = [...train.keys()].filter((k) => pipeline.has(k) && !['--help', '--json', '--no-progress'].includes(k));
    assert.ok(shared.length >= trainFlags.length, `${shared.length} shared flags`);
    const samples = ['0', '1', '0.5', '16', '-1', '1e300', '', 'on', 'off', 'laplace', 'cos', 'fp32', 'abc'];
    for (const name of shared) {
      const [a, b] = [train.get(name)!, pipeline.get(name)!];
      if (['--data', '--out', '--recipe', '--config', '--kimg', '--device'].includes(name)) continue; // each command's own subject
      assert.equal(a.flags, b.flags, name);
      assert.equal(a.description, b.description, `${name}: the same help text`);
      for (const v of samples) assert.deepEqual(parsed(a, v), parsed(b, v), `${name} ${JSON.stringify(v)}: the same parse`);
    }
  });

  test('both commands carry every flag of the table, named by train/options.ts (the names a --resume conflict uses)', () => {
    for (const c of [command('train'), command('pipeline')]) {
      const names = longNames(c);
      for (const f of trainFlags) assert.ok(names.has(trainOptionFlags[f.field]), `${c.name()} ${trainOptionFlags[f.field]}`);
    }
    // Every option with a flag name is in the table (adaFixed rides on --aug-p).
    const inTable = new Set(trainFlags.flatMap((f) => [f.field, ...Object.keys(f.also ?? {})]));
    for (const field of Object.keys(trainOptionFlags)) assert.ok(inTable.has(field as never), field);
  });

  test("pipeline --seed 0 is accepted (it was refused), as train's", () => {
    assert.equal(parsed(longNames(command('pipeline')).get('--seed')!, '0'), 0);
    assert.equal(parsed(longNames(command('train')).get('--seed')!, '0'), 0);
  });

  test('help texts state the defaults of defaultTrainOptions and presetTrainOptions', () => {
    const help = command('pipeline').helpInformation().replace(/\s+/g, ' ');
    assert.match(
      help,
      new RegExp(`--batch <n> GAN minibatch size \\(${defaultTrainOptions.batch}; 16 with --config tiny32 or small64; a --recipe's own\\)`),
    );
    assert.match(help, new RegExp(`--ils-switch-kimg <k> kimg of the σ switch \\(${defaultTrainOptions.ilsSwitchKimg}\\)`));
    assert.match(help, /--seed <n> random seed of GAN training \(0\)/);
  });
});

describe('flag values → TrainOptions', () => {
  const parse = (args: string[]) => {
    const c = addTrainFlags(new Command('x').exitOverride());
    c.parse(args, { from: 'user' });
    return trainOptionsFromFlags(c.opts());
  };

  test('each given flag sets its field; absent flags are left out', () => {
    assert.deepEqual(parse([]), {});
    assert.deepEqual(
      parse(['--seed', '0', '--glr', '0.001', '--ils', 'off', '--ils-dist', 'gaussian', '--shift', '0.25', '--tf32', '--max-mask', '0.5']),
      { seed: 0, gLr: 0.001, ils: false, ilsDistribution: 'gaussian', xintMax: 0.25, tf32: true, maxMaskSize: 0.5 },
    );
  });

  test('--min-mask-end and --min-mask-ramp (not in the paper): a fraction and a kimg span a,b; bad spans refused', () => {
    assert.deepEqual(parse(['--min-mask-end', '0.15', '--min-mask-ramp', '10,40']), { minMaskSizeEnd: 0.15, minMaskRampKimg: [10, 40] });
    for (const bad of ['40,10', '10', '10,20,30', 'a,b', '-1,5', '']) {
      assert.throws(() => parse(['--min-mask-ramp', bad]), /two kimg values a,b/, bad);
    }
    assert.throws(() => parse(['--min-mask-end', '1.5']), /--min-mask-end/);
  });

  test('--aug-p fixes p (adaFixed) as well', () => {
    assert.deepEqual(parse(['--aug-p', '0.3']), { adaInitialP: 0.3, adaFixed: true });
  });

  test("filled in: the preset's batch (16 for tiny32/small64), then a recipe's own; no preset's on --resume", () => {
    assert.equal(presetTrainOptions.tiny32.batch, 16);
    assert.deepEqual(filledTrainOptions({ preset: 'tiny32' }), { batch: 16 });
    assert.deepEqual(filledTrainOptions({ preset: 'small64' }), { batch: 16 });
    assert.deepEqual(filledTrainOptions({ preset: 'ils64' }), {});
    assert.deepEqual(filledTrainOptions({}), {});
    assert.deepEqual(filledTrainOptions({ preset: 'tiny32', recipe: { batch: 32, maxMaskSize: 0.5 } }), { batch: 32, maxMaskSize: 0.5 });
    assert.deepEqual(filledTrainOptions({ preset: 'tiny32', resume: true }), {});
  });

  test('the mask range: --min-mask named when given, else the minimum in effect', () => {
    assert.doesNotThrow(() => checkMaskRange({ minMaskSize: 0.1, maxMaskSize: 0.2 }));
    assert.doesNotThrow(() => checkMaskRange({}, { maxMaskSize: 0.5 }));
    assert.throws(
      () => checkMaskRange({ minMaskSize: 0.5, maxMaskSize: 0.4 }),
      (e) => e instanceof InputError && e.message === '--min-mask 0.5 must be below --max-mask 0.4',
    );
    assert.throws(
      () => checkMaskRange({ maxMaskSize: 0.2 }),
      (e) => e instanceof InputError && e.message === '--max-mask 0.2 must be above the minimum mask fraction 0.25',
    );
    assert.throws(() => checkMaskRange({ minMaskSize: 0.6 }, { maxMaskSize: 0.5 }), /--min-mask 0\.6 must be below --max-mask 0\.5/);
    // The relaxed minimum must stay below the maximum too.
    assert.doesNotThrow(() => checkMaskRange({}, { maxMaskSize: 0.5, minMaskSizeEnd: 0.15 }));
    assert.throws(
      () => checkMaskRange({ minMaskSizeEnd: 0.6 }, { maxMaskSize: 0.5 }),
      (e) => e instanceof InputError && e.message === '--min-mask-end 0.6 must be below the maximum mask fraction 0.5',
    );
  });
});
