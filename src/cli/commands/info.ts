// SPDX-License-Identifier: MIT
// `ilsgan info`: the networks of a config (parameter counts, num_ws) and the engine's build (as `--version`).
import { Command } from '@commander-js/extra-typings';
import { type PresetName, presets, blockResolutions, channelsAt } from '../../models/config.js';
import { choice } from '../parse.js';
import { formatVersionInfo, versionInfo } from '../versionInfo.js';

export function makeInfoCommand() {
  return new Command('info')
    .description('print parameter counts of a configuration and the engine build')
    .option('--config <name>', 'network preset', choice(Object.keys(presets) as PresetName[]), 'ils64' as PresetName)
    .option('--json', 'one JSON line on stdout')
    .action(async (o) => {
      // Loaded here, not at the top: `--help` and flag errors never load libtorch.
      const { Discriminator } = await import('../../models/discriminator.js');
      const { LayeredGenerator } = await import('../../models/layeredGenerator.js');
      const net = presets[o.config];
      const g = new LayeredGenerator(net);
      const d = new Discriminator(net);
      const engine = await versionInfo();
      const info = {
        config: o.config,
        resolution: net.resolution,
        g_params: g.numParameters(),
        d_params: d.numParameters(),
        g_mapping_params: g.bg.mapping.numParameters(),
        g_bg_synthesis_params: g.bg.synthesis.numParameters(),
        g_fg_synthesis_params: g.fg.synthesis.numParameters(),
        num_ws: g.bg.synthesis.numWs,
        channels: Object.fromEntries(blockResolutions(net).map((r) => [r, channelsAt(net, r)])),
        ...engine,
        torch: engine.libtorch,
      };
      g.dispose();
      d.dispose();
      if (o.json) {
        process.stdout.write(`${JSON.stringify(info)}\n`);
        return;
      }
      const fmt = (v: number) => v.toLocaleString('en-US');
      process.stdout.write(
        [
          `config ${info.config}: ${info.resolution}×${info.resolution}, num_ws ${info.num_ws} per branch`,
          `  G  ${fmt(info.g_params)} parameters (mapping ${fmt(info.g_mapping_params)} ×2, bg synthesis ${fmt(info.g_bg_synthesis_params)}, fg synthesis ${fmt(info.g_fg_synthesis_params)})`,
          `  D  ${fmt(info.d_params)} parameters`,
          `  channels ${Object.entries(info.channels)
            .map(([r, c]) => `${r}:${c}`)
            .join(' ')}`,
          formatVersionInfo(engine),
          '',
        ].join('\n'),
      );
    });
}
