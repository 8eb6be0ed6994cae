/** Markdown from data: escaping and size budgets. Pure. */

/** Escapes text for a Markdown table cell or inline text: no table breaks, no markup, no HTML. */
export function escapeMarkdown(text: string): string {
  return text
    .replace(/[\r\n]+/g, ' ')
    .replace(/[\\`*_[\]<>|#~!]/g, (c) => `\\${c}`)
    .replace(/&/g, '&amp;');
}

export function tableRow(cells: readonly string[]): string {
  return `| ${cells.join(' | ')} |`;
}

export function tableHeader(headings: readonly string[]): string {
  return `${tableRow(headings)}\n${tableRow(headings.map(() => '---'))}`;
}

export function byteLength(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/**
 * As many rows as fit in `budget` bytes, then a line saying how many were left out. Rows are kept
 * in order; `more(n)` renders the closing line for `n` omitted rows.
 */
export function fitLines(
  lines: readonly string[],
  budget: number,
  more: (omitted: number) => string,
  measure: (line: string) => number = (line) => byteLength(line) + 1,
): string[] {
  const out: string[] = [];
  let used = 0;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const size = measure(line);
    // Keep room for the closing line unless this is the last row.
    const reserve = i === lines.length - 1 ? 0 : measure(more(lines.length - i));
    if (used + size + reserve > budget) {
      out.push(more(lines.length - i));
      return out;
    }
    out.push(line);
    used += size;
  }
  return out;
}

/** 1234567 → "1,234,567" (the same in every locale the runner might have). */
export function count(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

export function plural(n: number, one: string, many: string): string {
  return `${count(n)} ${n === 1 ? one : many}`;
}
