// SPDX-License-Identifier: MIT
// `ilsgan segment`: foreground masks and cut-outs for photos of any size, format and mode, with a trained U-Net;
// one photo (`segment in.jpg out.png`, `-` for stdin/stdout) or a folder (masks/ and cutouts/ mirroring it).
import { statSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { Command, InvalidArgumentError } from '@commander-js/extra-typings';
import { InputError } from '../../util/errors.js';
import { type Background, parseBackground } from '../../seg/cutout.js';
import { checkOutputFile, choice, deviceFlag, num, refineFlagHelp, onOff, resolveDevice, writeOutputFile } from '../parse.js';
import { ProgressBar } from '../../util/progress.js';

function background(v: string): Background {
  const b = parseBackground(v);
  if (b === null) throw new InvalidArgumentError(`expected #RRGGBB (e.g. #ffffff) or transparent, got ${JSON.stringify(v)}`);
  return b;
}

/** Whether a path is an existing folder (false when absent or unreadable: the read reports that). */
function isFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** All of stdin as bytes. */
async function readStdin(): Promise<Buffer> {
  if (process.stdin.isTTY) {
    throw new InputError(
      'input "-" reads an image from stdin, but stdin is a terminal',
      'ERR_INPUT',
      'pipe an image in: ilsgan segment --model M - out.png < in.jpg',
    );
  }
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

export function makeSegmentCommand() {
  return new Command('segment')
    .description(
      'segment photos with a trained model: one photo to one PNG (cut-out or mask), or a folder to out/masks/<name>.png and out/cutouts/<name>.png',
    )
    .argument('[input]', 'an image file, a folder of images (searched recursively), or - for image bytes on stdin')
    .argument('[output]', 'for one image: the .png to write, or - for stdout; for a folder: the output folder')
    .requiredOption('--model <dir>', 'model directory (the --out of ilsgan seg-train, or <pipeline out>/segmenter)')
    .option('--input <path>', 'as [input]; with --out, one file is written as a folder (out/masks/, out/cutouts/)')
    .option('--out <dir>', "output folder; masks/ and cutouts/ mirror the input folder's layout")
    .option(
      '--alpha <mode>',
      'binary: 0/255 masks (the argmax, as eval scores); soft: foreground probability as 0-255',
      choice(['binary', 'soft'] as const),
      'binary' as const,
    )
    .option(
      '--background <colour>',
      'cut-out background: transparent (RGBA PNG) or #RRGGBB (RGB PNG)',
      background,
      'transparent' as Background,
    )
    .option('--refine <on|off>', refineFlagHelp, onOff)
    .option('--mask-only', 'write the mask only (one image: the .png is the grey mask; a folder: masks/ only)')
    .option('--batch <n>', 'images per forward pass', num('batch'), 32)
    .option('--no-cutouts', 'write masks only (as --mask-only, for folders)')
    .option('--device <d>', 'auto (CUDA when present, else the CPU), cpu, cuda or cuda:N', deviceFlag, 'auto' as const)
    .option('--no-progress', 'no progress bar')
    .option('--json', 'stdout: only the result as one JSON line (as by default; not with output -, where stdout is the PNG)')
    .addHelpText(
      'after',
      `
Examples:
  ilsgan segment --model run/segmenter photo.jpg cutout.png
  ilsgan segment --model run/segmenter --mask-only --alpha soft photo.jpg mask.png
  cat photo.jpg | ilsgan segment --model run/segmenter --background '#ffffff' - - > on-white.png
  ilsgan segment --model run/segmenter photos/ results/     (results/masks/, results/cutouts/)`,
    )
    .action(async (inputArg, outputArg, o) => {
      if (inputArg !== undefined && o.input !== undefined) throw new InputError('give the input once: as [input] or as --input', 'ERR_ARG');
      if (outputArg !== undefined && o.out !== undefined) throw new InputError('give the output once: as [output] or as --out', 'ERR_ARG');
      const input = inputArg ?? o.input;
      const output = outputArg ?? o.out;
      if (input === undefined || output === undefined) {
        throw new InputError(
          `missing ${input === undefined ? 'the input' : 'the output'}`,
          'ERR_ARG',
          'ilsgan segment --model M in.jpg out.png, or ilsgan segment --model M photos/ results/',
        );
      }
      const maskOnly = o.maskOnly === true || !o.cutouts;
      if (maskOnly && o.background !== 'transparent') {
        throw new InputError('--background colours cut-outs, but --mask-only writes masks only', 'ERR_ARG', 'leave out one of the two');
      }
      // One photo to one file: `-`, or a file given as a positional (--input FILE --out DIR keeps the folder layout).
      const single = input === '-' || (o.input === undefined && !isFolder(input));
      if (!single && output === '-')
        throw new InputError(`output "-" (stdout) takes one image, but ${input} is a folder`, 'ERR_ARG', 'give an output folder');
      if (o.json && output === '-')
        throw new InputError(
          '--json prints the result on stdout, but output "-" writes the PNG there',
          'ERR_ARG',
          'give an output file, or leave out --json',
        );
      if (single && output !== '-') {
        checkOutputFile(output, 'output');
        if (extname(output).toLowerCase() !== '.png') {
          throw new InputError(
            `output ${output}: segment writes PNG, so its name must end in .png`,
            'ERR_OUT_PATH',
            'or give - to write the PNG to stdout',
          );
        }
        if (input !== '-' && resolve(input) === resolve(output)) {
          throw new InputError(`output ${output} is the input photo: it would be overwritten`, 'ERR_OUT_PATH', 'give another file name');
        }
      }
      const device = await resolveDevice(o.device);
      // Loaded here, not at the top: `--help` and flag errors never load libtorch.
      const { segmentImages, segmentPhoto } = await import('../../seg/segment.js');
      if (single) {
        const r = await segmentPhoto({
          model: o.model,
          input: input === '-' ? await readStdin() : input,
          label: input === '-' ? 'stdin' : input,
          alpha: o.alpha,
          background: o.background,
          maskOnly,
          refine: o.refine,
          device,
        });
        if (output === '-') {
          // stdout holds the PNG and nothing else.
          await new Promise<void>((res, rej) => process.stdout.write(r.png, (e) => (e ? rej(e) : res())));
        } else {
          writeOutputFile(output, 'output', r.png);
          process.stdout.write(
            `${JSON.stringify({ out: output, written: 1, width: r.width, height: r.height, mean_foreground: Number(r.foreground.toFixed(4)) })}\n`,
          );
        }
        return;
      }
      const bar = new ProgressBar('segmenting {bar} {value}/{total} | ETA {eta_formatted}', o.progress);
      try {
        const r = await segmentImages({
          model: o.model,
          input,
          out: output,
          batch: o.batch,
          cutouts: !maskOnly,
          alpha: o.alpha,
          background: o.background,
          refine: o.refine,
          device,
          onProgress: (done, total) => bar.update(done, { total }),
          warn: (m) => {
            bar.stop();
            process.stderr.write(`warning: ${m}\n`);
          },
        });
        bar.stop();
        process.stdout.write(
          `${JSON.stringify({ out: output, written: r.written, skipped: r.skipped.length, mean_foreground: Number(r.meanForeground.toFixed(4)) })}\n`,
        );
      } finally {
        bar.stop();
      }
    });
}
