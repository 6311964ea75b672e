// SPDX-License-Identifier: MIT
// Demo-configuration search: trains ILSGAN on the procedural demo data with a given small network and option
// overrides for a fixed kimg, logging mask statistics against wall time, so that configurations can be
// compared by how fast their layers separate (README, "How the demo configuration was chosen").
//
//   node dist/bench/demoSearch.js --out /tmp/ds/a --kimg 20 --net '{"channelMax":32}' --opts '{"batch":32}'
import { rmSync } from 'node:fs';
import { presets } from '../src/models/config.js';
import { train } from '../src/train/loop.js';
import * as t from '../src/index.js';

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
}
if (flag('threads')) t.setNumThreads(Number(flag('threads')));
const out = flag('out') ?? '/tmp/demo-search';
rmSync(out, { recursive: true, force: true });
const net = { ...presets.tiny32, ...JSON.parse(flag('net') ?? '{}') };
const options = JSON.parse(flag('opts') ?? '{}');
const kimg = Number(flag('kimg') ?? 10);
const started = performance.now();
await train({
  data: 'demo', out, config: net, kimg, options, progress: false, demoCount: Number(flag('n') ?? 4000),
  tickKimg: Number(flag('tick') ?? 1), snapshotKimg: Number(flag('snap') ?? 5), keepCheckpoints: 1,
  onTick: (m) => {
    const s = ((performance.now() - started) / 1000).toFixed(0);
    console.log(JSON.stringify({ s: Number(s), kimg: m.kimg, ips: Number(m.img_per_s?.toFixed(1)), mask: m['Mask/mean'], G: m['Loss/G/adv'], D: m['Loss/D/adv'], p: m.ada_p }));
  },
});
