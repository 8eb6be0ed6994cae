/**
 * DingTalk (钉钉) custom robot: one `markdown` message (a title for the notification, a text for
 * the chat), @mobiles both in the text (where DingTalk shows them) and in `at` (which makes the
 * ping), signed when the robot has a signing secret (加签). Reads `errcode` as DingTalk reports it.
 */
import { createHmac } from 'node:crypto';
import type { Channel } from '../channel.js';
import { fitLists, withinBytes } from '../fit.js';
import { ChatError, httpError, jsonObject, send, withChatRetries, type ChatDeps } from '../http.js';
import type { Message } from '../message.js';
import { ownerMarkup, render, type Markup } from '../text.js';
import { BRAND } from '../brand.js';

/**
 * The markdown text's budget, UTF-8 bytes. DingTalk documents 20 messages a minute but no size for
 * markdown; robots are reported to refuse or cut texts near 20,000 bytes, and a chat message longer
 * than a screenful helps nobody: the list ends with "and N more" well before either.
 */
export const DINGTALK_MARKDOWN_MAX_BYTES = 5000;

export interface DingtalkSettings {
  /** `https://oapi.dingtalk.com/robot/send?access_token=…` (a secret). */
  webhookUrl: string;
  /** The signing secret (`SEC…`), or `null` when the robot uses a keyword or an IP list instead. */
  secret: string | null;
  /** Mobile numbers to @, or `@all`. */
  atMobiles: readonly string[];
}

export interface DingtalkMessage {
  msgtype: 'markdown';
  markdown: { title: string; text: string };
  at: { atMobiles: string[]; isAtAll: boolean };
}

// DingTalk's markdown shows a backslash as typed, so outside values lose what could start markup
// instead of being escaped: IAM names keep `_+=,.@-` (an `_` inside a word is not emphasis).
const MARKUP: Markup = {
  text: (s) => s,
  user: (s) => s.replace(/[^\p{L}\p{N}_+=,.@-]/gu, '?'),
  name: (s) => s.replace(/[^\p{L}\p{N} _+=,.@&'():/-]/gu, '?'),
  quote: (s) => s.replace(/[\r\n]+/g, ' ').replace(/[`*_[\]<>#]/g, '?'),
  code: (s) => s,
  warn: (s) => `<font color=#D93026>${s}</font>`,
  link: (label, url) => `[${label}](${url.replace(/[()\s]/g, encodeURIComponent)})`,
  // DingTalk pings a mobile only when it is in `at` too: `renderDingtalk` adds the owners' there.
  owner: ownerMarkup(
    'dingtalk',
    (s) => s.replace(/[\r\n]+/g, ' ').replace(/[`*_[\]<>#@]/g, '?'),
    (m) => `@${m}`,
  ),
};
const comment = (s: string) => `<font color=#888888>${s}</font>`;

/** The robot's message: title, note, the keys as a list, due soon, links, the @mobiles. */
export function renderDingtalk(
  message: Message,
  atMobiles: readonly string[] = [],
  maxBytes = DINGTALK_MARKDOWN_MAX_BYTES,
): DingtalkMessage {
  const everyone = atMobiles.includes('@all');
  const mobiles = [...new Set(atMobiles.filter((m) => m !== '@all'))];
  const owners = [...new Set(message.owners.flatMap((o) => (o.handles.dingtalk ? [o.handles.dingtalk] : [])))];
  const mark = message.tone === 'stale' ? '🔴' : message.tone === 'incomplete' ? '⚠️' : '✅';
  // Paragraphs are separated by a blank line: DingTalk joins single newlines.
  const head = [`#### ${mark} ${message.title}`];
  if (message.note)
    head.push(message.note.tone === 'warn' ? MARKUP.warn(message.note.text) : comment(message.note.text));
  const tail: string[] = [];
  if (message.footnote) tail.push(comment(message.footnote));
  tail.push(...message.notes.map(comment));
  if (message.links.length > 0) tail.push(message.links.map((l) => MARKUP.link(l.label, l.url)).join(' | '));
  // An @ is highlighted only when the number is in the text too.
  if (mobiles.length > 0 || everyone)
    tail.push([...mobiles, ...(everyone ? ['all'] : [])].map((m) => `@${m}`).join(' '));
  tail.push(comment(BRAND));

  const measure = (line: string) => Buffer.byteLength(line) + 1;
  const fixed = Buffer.byteLength([...head, ...tail].join('\n\n')) + 2 * (message.lists.length + 1);
  const lists = message.lists.map((l) => l.items.map((text) => `- ${render(text, MARKUP)}`));
  const more = (n: number) => `- ${comment(render(message.lists[0]?.more(n) ?? [], MARKUP))}`;
  const shown = fitLists(lists, maxBytes - fixed, more, measure).map((lines) => lines.join('\n'));
  const text = withinBytes([...head, ...shown.filter(Boolean), ...tail].join('\n\n').split('\n'), maxBytes);
  return {
    msgtype: 'markdown',
    // The notification's preview: plain words, no markup.
    markdown: { title: message.title, text },
    at: { atMobiles: [...new Set([...mobiles, ...owners.filter((m) => text.includes(`@${m}`))])], isAtAll: everyone },
  };
}

/**
 * The signature DingTalk checks: Base64(HMAC-SHA256(key = secret, data = `timestamp + "\n" +
 * secret`)), `timestamp` in ms. Goes URL-encoded into the query with the timestamp.
 */
export function dingtalkSign(secret: string, timestampMs: number): string {
  return createHmac('sha256', secret).update(`${timestampMs}\n${secret}`).digest('base64');
}

/** The URL to post to: the webhook, with `timestamp` and `sign` when there is a secret. */
export function signedUrl(webhookUrl: string, secret: string | null, nowMs: number): URL {
  const url = new URL(webhookUrl);
  if (secret) {
    url.searchParams.set('timestamp', String(nowMs));
    url.searchParams.set('sign', dingtalkSign(secret, nowMs));
  }
  return url;
}

/** System busy: worth another try. */
const BUSY = -1;
/** Over 20 messages a minute: the robot is silenced for 10 minutes. */
const RATE_LIMITED = 130101;

export function dingtalkChannel(settings: DingtalkSettings): Channel {
  return {
    id: 'dingtalk',
    label: 'DingTalk',
    async send(message, deps) {
      const body = renderDingtalk(message, settings.atMobiles);
      await withChatRetries(() => post(settings, body, deps), deps);
      const mentioned = [...body.at.atMobiles, ...(body.at.isAtAll ? ['@all'] : [])];
      return { where: 'the robot', mentioned };
    },
  };
}

async function post(settings: DingtalkSettings, body: DingtalkMessage, deps: ChatDeps): Promise<void> {
  const what = 'DingTalk robot (token hidden)';
  const url = signedUrl(settings.webhookUrl, settings.secret, (deps.now ?? Date.now)());
  const sign = url.searchParams.get('sign');
  if (sign) deps.setSecret(sign);
  const { status, text } = await send('DingTalk', what, url, body, deps);
  const reply = jsonObject(text);
  const code = reply?.['errcode'];
  if (typeof code !== 'number') {
    if (status < 200 || status > 299) throw httpError('DingTalk', what, status);
    throw new ChatError(`${what} failed: the answer is not DingTalk's JSON`, null, 'Check the URL points at DingTalk.');
  }
  if (code === 0) return;
  // The errmsg without its `link:`/`more:` tail, which only points at the documentation.
  const errmsg = String(reply?.['errmsg'] ?? '')
    .replace(/;?\s*(link:|more:)[\s\S]*$/, '')
    .slice(0, 200);
  throw new ChatError(`${what} failed: errcode ${code} (${errmsg})`, code, hint(code, errmsg), code === BUSY);
}

function hint(code: number, errmsg: string): string {
  if (code === RATE_LIMITED) {
    return 'A robot takes at most 20 messages a minute and, once over, is silenced for 10 minutes: not retried. Send many accounts through one digest (the organisation mode) rather than a message from each job.';
  }
  if (code === 300001 || code === 400102 || code === 300005) {
    return "The webhook URL or its access_token is wrong, or the robot was removed: copy the whole URL from the robot's settings into the secret used for dingtalk-webhook-url.";
  }
  if (code === 310000) {
    if (/sign|timestamp|签名/i.test(errmsg)) {
      return "The signature was refused: dingtalk-secret must be the robot's own signing secret (加签, SEC…), and the runner's clock right to within an hour.";
    }
    if (/keyword|关键词/i.test(errmsg)) {
      return `The robot requires a keyword (自定义关键词) this message does not contain: every message carries "${BRAND}", so add that as the keyword, or use signing (加签) with dingtalk-secret.`;
    }
    if (/\bip\b|IP 地址/i.test(errmsg)) {
      return 'The robot accepts only listed IP addresses (IP 地址段), and this runner is not on the list: GitHub-hosted runners change address; use signing (加签) instead.';
    }
    return "The robot's security settings refused the message: use signing (加签) with dingtalk-secret.";
  }
  if (code === 460101 || code === 400013) return 'DingTalk found the message too long.';
  if (code === BUSY) return 'DingTalk was busy; try again later.';
  return '';
}
