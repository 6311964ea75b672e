// SPDX-License-Identifier: MIT
// `ilsgan --version` and the engine part of `ilsgan info`: package, libtorch, device, BLAS, bfloat16.
import { cpuRecipe, recipeCpuPrecision } from '../pipeline/recipes.js';
import { nativeBfloat16 } from '../util/cpuFeatures.js';
import { packageVersion } from '../util/packageInfo.js';

export interface VersionInfo {
  ilsgan: string;
  libtorch: string;
  /** How the build found libtorch: system, python or folder (build/libtorch.json). */
  libtorch_route: string | null;
  device: string;
  threads: number;
  cuda: boolean;
  blas: string;
  bfloat16_native: boolean;
  /** Multi-process training: c10d's process groups built in, 'gloo', 'gloo, nccl' (or 'nccl'), or 'not built'. */
  distributed: string;
  /** The dtype `--precision auto` trains in on the CPU. */
  cpu_training_precision: 'fp32';
  /** The dtype `--recipe cpu` trains the GAN's reduced-precision blocks in on this CPU (bfloat16 where native). */
  recipe_cpu_precision: 'bfloat16' | 'fp32';
}

/** Loads the engine (libtorch) and describes it. */
export async function versionInfo(): Promise<VersionInfo> {
  const { addonBuild } = await import('../tensor/native.js');
  const { buildInfo, cuda, getNumThreads } = await import('../tensor/runtime.js');
  const { distBackends } = await import('../tensor/dist.js');
  const { record } = addonBuild();
  const hasCuda = cuda.isAvailable();
  const devices = hasCuda ? cuda.deviceCount() : 0;
  const threads = getNumThreads();
  return {
    ilsgan: packageVersion(),
    libtorch: buildInfo().torchVersion,
    libtorch_route: record?.route ?? null,
    device: hasCuda ? `cuda (${devices} device${devices === 1 ? '' : 's'}), cpu` : 'cpu',
    threads,
    cuda: hasCuda,
    blas: record?.blas ?? (record ? 'bundled with libtorch' : 'unknown'),
    bfloat16_native: nativeBfloat16(),
    distributed: distBackends().join(', ') || 'not built',
    cpu_training_precision: 'fp32',
    recipe_cpu_precision: recipeCpuPrecision(cpuRecipe),
  };
}

export function formatVersionInfo(v: VersionInfo): string {
  return [
    `ilsgan ${v.ilsgan}`,
    `libtorch ${v.libtorch}${v.libtorch_route ? ` (route: ${v.libtorch_route})` : ''}`,
    `device ${v.device}, ${v.threads} CPU threads`,
    `BLAS ${v.blas}`,
    `distributed: ${v.distributed}`,
    `bfloat16 ${v.bfloat16_native ? 'native on this CPU' : 'not native on this CPU (emulated, slower than float32)'}; CPU training precision: ${v.cpu_training_precision} (--recipe cpu: ${v.recipe_cpu_precision})`,
  ].join('\n');
}
