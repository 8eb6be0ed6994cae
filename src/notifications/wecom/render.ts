/**
 * The message as WeCom (企业微信) takes it: robot markdown with its `<@userid>` mentions, plain text
 * for the app message API, and the one sentence that carries `@all`. Budgets are UTF-8 bytes, as
 * WeCom counts them. Pure.
 *
 * WeCom's robot markdown has no escape syntax: a backslash shows as a backslash. So nothing is
 * escaped; names from outside go in inline code, stripped of anything that could end the span or
 * start markup (for IAM names: anything an IAM name cannot hold), and error text loses the same.
 */
import { fitLists, withinBytes } from '../fit.js';
import {
  accountMessage,
  digestMessage,
  type AccountMessageInput,
  type DigestAccount,
  type DigestInput,
  type Language,
  type Message,
} from '../message.js';
import { oneLine, ownerMarkup, plainMarkup, render, type Markup } from '../text.js';

/**
 * An account's name or an owner's text in inline code: Organizations allows any printable ASCII in
 * a name, so spaces and the like stay, and what could end the span or open a link, a tag or a
 * mention becomes `?`.
 */
const inertName = (s: string) => `\`${s.replace(/[^\p{L}\p{N} _+=,.@&'():/#-]/gu, '?')}\``;
import type { ScanResult } from '../../account/result.js';

/** WeCom robot markdown content limit, UTF-8 bytes. */
export const ROBOT_MARKDOWN_MAX_BYTES = 4096;
/** Robot text and app text content limit, UTF-8 bytes. */
export const TEXT_MAX_BYTES = 2048;

const MARKDOWN: Markup = {
  text: (s) => s,
  // IAM names are letters, digits and _+=,.@-: in inline code `_` and `@` stay as they are. Anything
  // else (only a malformed report could bring it) becomes `?`, so no backtick ends the span and no
  // `<@…>` or `<font>` can form.
  user: (s) => `\`${s.replace(/[^\p{L}\p{N}_+=,.@-]/gu, '?')}\``,
  // Organizations allows any printable ASCII in an account's name: spaces and the like stay, and
  // what could end the span or open a link, a tag or a mention becomes `?`.
  name: (s) => inertName(s),
  // Prose: no backtick, star, bracket or angle bracket, so no span, bold, link, tag or mention forms.
  quote: (s) => oneLine(s).replace(/[`*[\]<>]/g, '?'),
  // Key IDs are AWS's own [A-Z0-9] (and our `…`).
  code: (s) => `\`${s}\``,
  warn: (s) => `<font color="warning">${s}</font>`,
  link: (label, url) => `[${label}](${url.replace(/[()\s]/g, encodeURIComponent)})`,
  // Free text from a tag: like an account's name, in inline code; the WeCom handle as a mention.
  owner: ownerMarkup('wecom', inertName, (id) => `<@${id.replace(/[^\w.@-]/g, '')}>`),
};

const comment = (s: string) => `<font color="comment">${s}</font>`;

/**
 * How the mentions of `wecom-mentioned-list` travel: user IDs as `<@userid>` inside the robot
 * markdown (WeCom documents that syntax for robot text and markdown content), and `@all` in a
 * text message's `mentioned_list`, the only place WeCom documents it.
 */
export function robotMentions(list: readonly string[]): { inMarkdown: string[]; everyone: boolean } {
  const inMarkdown = [...new Set(list.filter((id) => id !== '@all'))];
  return { inMarkdown, everyone: list.includes('@all') };
}

/** The robot `markdown` content: title, the oldest stale keys one per line, due soon, links, mentions. */
export function renderRobotMarkdown(
  message: Message,
  mentions: readonly string[] = [],
  maxBytes = ROBOT_MARKDOWN_MAX_BYTES,
): string {
  const m = MARKDOWN;
  const title = message.tone === 'clear' ? `<font color="info">**${message.title}**</font>` : `**${message.title}**`;
  const head = [title];
  if (message.note) head.push(message.note.tone === 'warn' ? m.warn(message.note.text) : comment(message.note.text));
  const tail: string[] = [];
  if (message.footnote) tail.push(comment(message.footnote));
  tail.push(...message.notes.map(comment));
  tail.push(...message.links.map((l) => m.link(l.label, l.url)));
  const ids = robotMentions(mentions).inMarkdown;
  // Counted in the budget, and kept before any list line is.
  if (ids.length > 0) tail.push(ids.map((id) => `<@${id}>`).join(' '));
  return fitted(message, head, tail, (item) => `>${item}`, m, comment, maxBytes);
}

/** The same content as plain text, for the app message API and robot `text` messages. */
export function renderText(message: Message, maxBytes = TEXT_MAX_BYTES): string {
  const m = plainMarkup(message.colon);
  const head = [message.title, ...(message.note ? [message.note.text] : [])];
  const tail = [
    ...(message.footnote ? [message.footnote] : []),
    ...message.notes,
    ...message.links.map((l) => m.link(l.label, l.url)),
  ];
  return fitted(
    message,
    head,
    tail,
    (item) => `- ${item}`,
    m,
    (s) => s,
    maxBytes,
  );
}

/** Head and tail whole, then as many list lines as fit between them. */
function fitted(
  message: Message,
  head: string[],
  tail: string[],
  item: (s: string) => string,
  markup: Markup,
  more: (s: string) => string,
  maxBytes: number,
): string {
  // Each kept line's newline is counted, which pays for the one joining the lists to the head.
  const budget = maxBytes - Buffer.byteLength([...head, ...tail].join('\n'));
  const lists = message.lists.map((l) => l.items.map((text) => item(render(text, markup))));
  const moreLine = (n: number) => more(render(message.lists[0]?.more(n) ?? [], markup));
  const shown = fitLists(lists, budget, moreLine).flat();
  return withinBytes([...head, ...shown, ...tail], maxBytes);
}

export interface WecomMessageInput extends AccountMessageInput {
  /** WeCom user IDs to mention with `<@userid>` in robot markdown. `@all` cannot be: see `robotMentions`. */
  mentions?: readonly string[];
}

export interface WecomDigestInput extends DigestInput {
  mentions?: readonly string[];
}

/** One account's robot markdown. */
export function robotMarkdown(input: WecomMessageInput, maxBytes = ROBOT_MARKDOWN_MAX_BYTES): string {
  return renderRobotMarkdown(accountMessage(input), input.mentions, maxBytes);
}

/** One account's plain text. */
export function appText(input: WecomMessageInput, maxBytes = TEXT_MAX_BYTES): string {
  return renderText(accountMessage(input), maxBytes);
}

/** The digest's robot markdown. */
export function robotDigest(input: WecomDigestInput, maxBytes = ROBOT_MARKDOWN_MAX_BYTES): string {
  return renderRobotMarkdown(digestMessage(input), input.mentions, maxBytes);
}

/** The digest as plain text. */
export function appDigest(input: WecomDigestInput, maxBytes = TEXT_MAX_BYTES): string {
  return renderText(digestMessage(input), maxBytes);
}

/** One account's sentence for the `text` message that carries `mentioned_list: ["@all"]`. */
export function mentionText(language: Language, result: ScanResult): string {
  return accountMessage({ result, language, keyId: (id) => id, runUrl: null, issue: null }).mention;
}

/** The digest's sentence for the `text` message that carries `@all`. */
export function digestMentionText(language: Language, runs: readonly DigestAccount[]): string {
  return digestMessage({ runs, language, runUrl: null }).mention;
}
