/**
 * Fitting a message into a chat's limit: whole lines kept from the top of each list, and "and N
 * more" where a list is cut, never a failed send. Each chat measures in its own unit (UTF-8 bytes
 * for WeCom and DingTalk, characters for Slack, the JSON body for Feishu). Pure.
 */

import { fitLines } from '../render/markdown.js';

export { fitLines };

/** What a line costs where it goes, its separator included. */
export type Measure = (line: string) => number;

/** UTF-8 bytes of a line and the newline that joins it. */
export const utf8Line: Measure = (line) => Buffer.byteLength(line, 'utf8') + 1;

/**
 * Two lists in one budget, each ending with "and N more" when cut. When both cannot fit, each may
 * take half, and one that needs less than half leaves the rest to the other: a thousand accounts
 * with stale keys never hide every failure, nor the reverse. One list takes the whole budget.
 */
export function fitLists(
  lists: ReadonlyArray<readonly string[]>,
  budget: number,
  more: (omitted: number) => string,
  measure: Measure = utf8Line,
): string[][] {
  const [first = [], second = []] = lists;
  if (lists.length <= 1) return [fitLines(first, budget, more, measure)];
  const need = (lines: readonly string[]) => lines.reduce((n, l) => n + measure(l), 0);
  const [a, b] = [need(first), need(second)];
  if (a + b <= budget) return [[...first], [...second]];
  const half = Math.floor(budget / 2);
  const forFirst = b <= half ? budget - b : a <= half ? a : half;
  const shown = fitLines(first, forFirst, more, measure);
  return [shown, fitLines(second, budget - need(shown), more, measure)];
}

/**
 * Last resort for budgets too small for the head and tail: whole lines dropped from the end, and
 * only a first line that alone is too long cut, at a character boundary.
 */
export function withinBytes(lines: readonly string[], maxBytes: number): string {
  const kept = [...lines];
  let text = kept.join('\n');
  while (Buffer.byteLength(text) > maxBytes && kept.length > 1) {
    kept.pop();
    text = kept.join('\n');
  }
  return Buffer.byteLength(text) <= maxBytes ? text : truncateUtf8(text, maxBytes);
}

/** The longest prefix of whole code points that fits in `maxBytes` UTF-8 bytes. */
export function truncateUtf8(text: string, maxBytes: number): string {
  let out = '';
  let used = 0;
  for (const ch of text) {
    used += Buffer.byteLength(ch);
    if (used > maxBytes) break;
    out += ch;
  }
  return out;
}

/** At most `max` characters (code points), ending with `…` when cut. */
export function truncateChars(text: string, max: number): string {
  const chars = [...text];
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`;
}
