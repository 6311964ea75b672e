// SPDX-License-Identifier: MIT
// HTML building for the report: a tagged template that escapes every interpolated value unless it is
// already markup (SafeHtml), so no text can reach the page unescaped by accident.

/** Markup that is already safe to insert (built by `html` or explicitly trusted with `trusted`). */
export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

const entities: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for HTML and SVG, in element content and in quoted attribute values alike. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => entities[c]!);
}

/** Marks generated markup as safe. Only for strings this module's callers built themselves, never for input. */
export function trusted(markup: string): SafeHtml {
  return new SafeHtml(markup);
}

function render(value: unknown): string {
  if (value instanceof SafeHtml) return value.value;
  if (Array.isArray(value)) return value.map(render).join('');
  if (value === null || value === undefined || value === false) return '';
  return escapeHtml(String(value));
}

/**
 * Builds markup: strings, numbers and everything else interpolated are escaped; SafeHtml is inserted as it is;
 * arrays are joined; null, undefined and false vanish (for `${cond && html`…`}`).
 * @example html`<td title="${name}">${value}</td>`
 */
export function html(strings: TemplateStringsArray, ...values: unknown[]): SafeHtml {
  let out = strings[0]!;
  values.forEach((v, i) => {
    out += render(v) + strings[i + 1]!;
  });
  return new SafeHtml(out);
}
