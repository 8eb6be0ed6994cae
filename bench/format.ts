/** Numbers and tables for people: durations, sizes, counts, and Markdown tables aligned as Prettier would. */

export const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

export const count = (n: number): string => n.toLocaleString('en-US');

export function duration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 100_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)} min ${s % 60} s`;
}

/** MB = 1,000,000 bytes throughout. */
export const megabytes = (bytes: number): string => `${(bytes / 1e6).toFixed(1)} MB`;

export const gigabytes = (bytes: number): string => `${(bytes / 1e9).toFixed(1)} GB`;

/** `38×`, `6.1×`; empty when there is nothing to compare with. */
export const ratio = (r: number | undefined): string =>
  r === undefined ? '' : `${r >= 10 ? Math.round(r) : r.toFixed(1)}×`;

export const verdict = (pass: boolean | undefined): string =>
  pass === undefined ? 'not run' : pass ? 'PASS' : '**FAIL**';

export type Align = 'left' | 'right';

/** A Markdown table with padded cells, so it reads as well in a terminal as rendered. */
export function table(headers: readonly string[], rows: readonly string[][], align: readonly Align[] = []): string {
  const width = (s: string) => [...s].length;
  const widths = headers.map((h, i) => Math.max(3, width(h), ...rows.map((r) => width(r[i] ?? ''))));
  const cell = (text: string, i: number) => {
    const pad = ' '.repeat(widths[i]! - width(text));
    return align[i] === 'right' ? pad + text : text + pad;
  };
  const line = (cells: readonly string[]) => `| ${headers.map((_, i) => cell(cells[i] ?? '', i)).join(' | ')} |`;
  const rule = `| ${widths.map((w, i) => (align[i] === 'right' ? `${'-'.repeat(w - 1)}:` : '-'.repeat(w))).join(' | ')} |`;
  return [line(headers), rule, ...rows.map(line)].join('\n');
}
