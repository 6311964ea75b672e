// SPDX-License-Identifier: MIT
// Beyond the paper: the test-time refinement setting a segmenter's model.json may carry (`refine`), its schema, and
// which setting a call uses. The work itself is refinePredictions.ts; this module loads no libtorch (the CLI and the
// recipes read it).
import type { ColourRefineOptions } from './colourRefine.js';
import { type Schema, bool, int, num, object, optional, refine } from '../util/schema.js';

/** Test-time refinement of a segmenter's foreground probabilities, per photo, at the network's size; no masks. */
export interface RefineSetting {
  /** Average the foreground probability of the photo and of its mirror image, mirrored back (false). */
  flip?: boolean;
  /** Then refine by the photo's own colours, GrabCut-style (colourRefine.ts); absent: no colour step. */
  colour?: ColourRefineOptions;
}

/**
 * The setting measured on TuxComposite-animals with 32² U-Nets (bench/refineCheck.ts, 2000 test images, three
 * segmenters: DRC_IoU +0.014 to +0.03): what `--refine on` uses for a model whose model.json has none. The CPU
 * recipe's 64² U-Net writes a finer one into its model.json (pipeline/recipes.ts: 16 levels per channel, 3 EM rounds).
 */
export const defaultRefine: RefineSetting = { flip: true, colour: { strength: 2, pairwise: 2 } };

/** Whether the setting changes anything (a setting without flip and colour is today's prediction). */
export function refineIsActive(s: RefineSetting | null | undefined): s is RefineSetting {
  return s !== null && s !== undefined && (s.flip === true || s.colour !== undefined);
}

/**
 * The setting a call uses: `option` undefined → the model's (model.json `refine`, none without it); false → none;
 * true → the model's, or `defaultRefine` for a model without one; a setting → that setting.
 */
export function chooseRefine(modelSetting: RefineSetting | undefined, option: boolean | RefineSetting | undefined): RefineSetting | null {
  if (option === false) return null;
  if (option === true) return modelSetting ?? defaultRefine;
  return option ?? modelSetting ?? null;
}

/** One line for logs and the report: "flip average + colour (strength 2, pairwise 2)", or "none". */
export function describeRefine(s: RefineSetting | null | undefined): string {
  if (!refineIsActive(s)) return 'none';
  const parts: string[] = [];
  if (s.flip) parts.push('flip average');
  if (s.colour) {
    const c = Object.entries(s.colour).map(([k, v]) => `${k} ${v}`);
    parts.push(c.length ? `colour (${c.join(', ')})` : 'colour');
  }
  return parts.join(' + ');
}

/** Refuses fields a schema does not know: a misspelt setting would otherwise be ignored without a word. */
function onlyKnown<T extends object>(s: Schema<T>, known: readonly string[]): Schema<T> {
  return refine(s, (v) => {
    const extra = Object.keys(v).find((k) => !known.includes(k));
    return extra === undefined ? null : { path: extra, reason: `is not a setting here (known: ${known.join(', ')})` };
  });
}

/** A number in (0, max]: num(0, max) that refuses 0. */
const positive = (max: number) => refine(num(0, max), (v) => (v > 0 ? null : { path: '', reason: 'must be above 0, got 0' }));

const colourFields = {
  levels: optional(int(1, 64)),
  strength: optional(num(0, 1e3)),
  rounds: optional(int(0, 100)),
  // The pseudo-count keeps empty histogram bins finite: it must be positive.
  smoothing: optional(positive(1e6)),
  pairwise: optional(num(0, 1e3)),
  meanField: optional(int(0, 100)),
  balanced: optional(bool()),
  saliency: optional(num(0, 1e3)),
  saliencyThreshold: optional(num(0, 1)),
  bilateral: optional(num(0, 1e3)),
  // The bilateral term's widths divide: they must be positive.
  bilateralSpatial: optional(positive(1e3)),
  bilateralColour: optional(positive(1e3)),
};

/** model.json's `refine`: only known fields, each range-checked. */
export const refineSettingSchema: Schema<RefineSetting> = onlyKnown(
  object({
    flip: optional(bool()),
    colour: optional(onlyKnown(object(colourFields), Object.keys(colourFields)) as Schema<ColourRefineOptions>),
  }),
  ['flip', 'colour'],
);
