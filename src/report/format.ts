// SPDX-License-Identifier: MIT
// Number formatting for the report: metrics, durations, plain values; anything not a finite number is "n/a".

/** True for finite numbers (not null, undefined, NaN or ±Infinity). */
export function isFiniteNumber(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

/** A metric in [0, 1] with four decimals, or "n/a". */
export function formatMetric(v: unknown): string {
  return isFiniteNumber(v) ? v.toFixed(4) : 'n/a';
}

/** A duration: "42 s", "3 min 05 s", "2 h 07 min", or "n/a". */
export function formatSeconds(v: unknown): string {
  if (!isFiniteNumber(v) || v < 0) return 'n/a';
  if (v < 60) return `${v < 10 ? v.toFixed(1) : Math.round(v)} s`;
  const s = Math.round(v);
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
}

/** A plain value for the facts table: numbers to 6 significant digits, null/NaN as "n/a". */
export function formatValue(v: unknown): string {
  if (typeof v === 'number') return Number.isFinite(v) ? String(Number(v.toPrecision(6))) : 'n/a';
  if (v === null || v === undefined) return 'n/a';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}
