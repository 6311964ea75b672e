// SPDX-License-Identifier: MIT
// Command-line flags shared by the benchmark scripts (`--name value`; no library: these are dev tools).
import { type NetworkConfig, type PresetName, presets } from '../src/models/config.js';

/** The value after `--name`, if given. */
export function flag(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
}

/** `--config <preset>` (default tiny32), checked. */
export function presetFlag(): { configName: PresetName; preset: NetworkConfig } {
  const configName = (flag('config') ?? 'tiny32') as PresetName;
  if (!(configName in presets)) throw new Error(`unknown config ${configName}: ${Object.keys(presets).join(', ')}`);
  return { configName, preset: presets[configName] };
}

/** The same topology (every layer, every op) with `channels` channels at every resolution. */
export function withChannels(net: NetworkConfig, channels: number): NetworkConfig {
  return { ...net, channelMax: channels, channelBase: channels * net.resolution };
}
