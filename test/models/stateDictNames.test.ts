// SPDX-License-Identifier: MIT
// Refactors of the layers (issue 15: the discriminator's epilogue as a module, ToRgb in its own file) must keep
// the safetensors parameter names: saved checkpoints are read by name. The lists in stateDictKeys.ts were taken
// from the modules before those changes.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { type NetworkConfig, presets } from '../../src/models/config.js';
import { Discriminator, DiscriminatorEpilogue } from '../../src/models/discriminator.js';
import { LayeredGenerator } from '../../src/models/layeredGenerator.js';
import { ToRgb } from '../../src/nn/layers/toRgb.js';
import type { Module } from '../../src/nn/module.js';
import { noLeak } from '../helpers/noLeak.js';
import { discriminatorKeys, generatorKeys } from './stateDictKeys.js';

const config: NetworkConfig = { ...presets.tiny32, channelBase: 64, channelMax: 8, zDim: 8, wDim: 8 };

/** `name [shape]` for every state-dict entry, in the order the module lists them (the order files are written in). */
const keys = (m: Module) => [...m.stateDict()].map(([k, v]) => `${k} [${v.shape.join(', ')}]`);

describe('state-dict names', () => {
  test('G: the same names, shapes and order as before the refactor', () => {
    noLeak(() => {
      const g = new LayeredGenerator(config);
      try {
        assert.deepEqual(keys(g), generatorKeys);
        const torgbs = g
          .namedModules()
          .filter(([, m]) => m instanceof ToRgb)
          .map(([n]) => n);
        assert.deepEqual(
          torgbs,
          ['bg', 'fg'].flatMap((l) => [4, 8, 16, 32].map((r) => `${l}.synthesis.b${r}.torgb`)),
        );
      } finally {
        g.dispose();
      }
    });
  });

  test('D: the same names, shapes and order; the 4×4 epilogue is one module b4 (as upstream), not dotted children', () => {
    noLeak(() => {
      const d = new Discriminator(config);
      try {
        assert.deepEqual(keys(d), discriminatorKeys);
        const b4 = d.namedModules().find(([n]) => n === 'b4')?.[1];
        assert.ok(b4 instanceof DiscriminatorEpilogue, 'b4 is a DiscriminatorEpilogue');
        assert.deepEqual(
          d
            .namedModules()
            .map(([n]) => n)
            .filter((n) => n.startsWith('b4')),
          ['b4', 'b4.mbstd', 'b4.conv', 'b4.fc', 'b4.out'],
        );
        assert.equal(b4.conv.path(), 'b4.conv');
      } finally {
        d.dispose();
      }
    });
  });
});
