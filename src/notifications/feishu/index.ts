/**
 * Feishu/Lark (飞书) custom bot: one `interactive` card (a red, orange or green header, the keys as
 * lark_md, buttons to the run and the tracking issue), @ with `<at id=…></at>`, signed when the
 * bot has a signing secret (签名校验). Reads `code` as Feishu reports it.
 */
import { createHmac } from 'node:crypto';
import type { Channel } from '../channel.js';
import { fitLists, truncateChars } from '../fit.js';
import { ChatError, httpError, jsonObject, send, withChatRetries, type ChatDeps } from '../http.js';
import type { Message } from '../message.js';
import { ownerMarkup, render, type Markup } from '../text.js';
import { BRAND } from '../brand.js';

/**
 * The whole request body's budget, UTF-8 bytes: Feishu takes at most 20 KB a request, and the
 * signature and the JSON around the text need some of it.
 */
export const FEISHU_BODY_MAX_BYTES = 18_000;

export interface FeishuSettings {
  /** `https://open.feishu.cn/open-apis/bot/v2/hook/…` or the Lark one (a secret). */
  webhookUrl: string;
  /** The signing secret, or `null`. */
  secret: string | null;
  /** Open IDs (`ou_…`) to @, or `all`. */
  at: readonly string[];
}

interface Card {
  config: { wide_screen_mode: boolean };
  header: { title: { tag: 'plain_text'; content: string }; template: 'red' | 'orange' | 'green' };
  elements: unknown[];
}

export interface FeishuMessage {
  msg_type: 'interactive';
  card: Card;
  timestamp?: string;
  sign?: string;
}

/** lark_md shows HTML entities as their characters: outside values lose their markup that way. */
const entities = (s: string) =>
  s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/[*~`[\]]/g, (c) => `&#${c.charCodeAt(0)};`);

const MARKUP: Markup = {
  text: (s) => s,
  user: (s) => entities(s),
  name: (s) => entities(s),
  quote: (s) => entities(s.replace(/[\r\n]+/g, ' ')),
  code: (s) => s,
  warn: (s) => `<font color='red'>${s}</font>`,
  link: (label, url) => `[${label}](${url.replace(/[()\s]/g, encodeURIComponent)})`,
  owner: ownerMarkup('feishu', entities, (id) => `<at id=${id}></at>`),
};

const grey = (s: string) => `<font color='grey'>${s}</font>`;
const div = (content: string) => ({ tag: 'div', text: { tag: 'lark_md', content } });

/** The card: header, note, the keys, due soon, buttons, the @s. */
export function renderFeishu(
  message: Message,
  at: readonly string[] = [],
  maxBytes = FEISHU_BODY_MAX_BYTES,
): FeishuMessage {
  const template = message.tone === 'stale' ? 'red' : message.tone === 'incomplete' ? 'orange' : 'green';
  const top: unknown[] = [];
  if (message.note)
    top.push(div(message.note.tone === 'warn' ? MARKUP.warn(message.note.text) : grey(message.note.text)));
  const bottom: unknown[] = [];
  if (message.footnote) bottom.push(div(grey(message.footnote)));
  for (const note of message.notes) bottom.push(div(grey(note)));
  if (message.links.length > 0) {
    bottom.push({
      tag: 'action',
      actions: message.links.map((l, i) => ({
        tag: 'button',
        text: { tag: 'plain_text', content: l.label },
        type: i === 0 ? 'primary' : 'default',
        url: l.url,
      })),
    });
  }
  const ids = [...new Set(at)];
  if (ids.length > 0) bottom.push(div(ids.map((id) => `<at id=${id}></at>`).join(' ')));
  bottom.push({ tag: 'note', elements: [{ tag: 'plain_text', content: BRAND }] });

  const card = (lists: string[]): Card => ({
    config: { wide_screen_mode: true },
    header: { title: { tag: 'plain_text', content: truncateChars(message.title, 200) }, template },
    elements: [...top, ...lists.filter(Boolean).map(div), ...bottom],
  });
  // The signature's fields are counted before they exist, at their longest.
  const signature = Buffer.byteLength(JSON.stringify({ timestamp: '0000000000', sign: 'x'.repeat(44) }));
  const fixed = Buffer.byteLength(JSON.stringify({ msg_type: 'interactive', card: card(message.lists.map(() => '')) }));
  const budget = maxBytes - fixed - signature - 60 * message.lists.length;
  // A line costs its JSON: quotes and escapes, and the `\n` that joins it.
  const measure = (line: string) => Buffer.byteLength(JSON.stringify(line));
  const lists = message.lists.map((l) => l.items.map((text) => render(text, MARKUP)));
  const more = (n: number) => grey(render(message.lists[0]?.more(n) ?? [], MARKUP));
  const shown = fitLists(lists, budget, more, measure).map((lines) => lines.join('\n'));
  return { msg_type: 'interactive', card: card(shown) };
}

/**
 * The signature Feishu checks: Base64(HMAC-SHA256(key = `timestamp + "\n" + secret`, data =
 * empty)), `timestamp` in seconds. Both go into the body.
 */
export function feishuSign(secret: string, timestampSeconds: number): string {
  return createHmac('sha256', `${timestampSeconds}\n${secret}`).update('').digest('base64');
}

/** Feishu's frequency limit: 100 messages a minute and 5 a second per bot. */
const RATE_LIMITED = 11232;

export function feishuChannel(settings: FeishuSettings): Channel {
  return {
    id: 'feishu',
    // Lark is Feishu outside China: the same bot, another address.
    label: /larksuite\.com$/i.test(new URL(settings.webhookUrl).hostname) ? 'Lark' : 'Feishu',
    async send(message, deps) {
      const body = renderFeishu(message, settings.at);
      await withChatRetries(() => post(settings, body, deps), deps, {
        onRateLimit: (_err, delayMs) =>
          `Feishu: rate-limited (code ${RATE_LIMITED}); trying again in ${Math.ceil(delayMs / 1000)} s.`,
      });
      return { where: 'the bot', mentioned: settings.at };
    },
  };
}

async function post(settings: FeishuSettings, card: FeishuMessage, deps: ChatDeps): Promise<void> {
  const what = 'Feishu bot (token hidden)';
  let body = card;
  if (settings.secret) {
    // Signed at each try: Feishu refuses a timestamp more than an hour off.
    const timestamp = Math.floor((deps.now ?? Date.now)() / 1000);
    const sign = feishuSign(settings.secret, timestamp);
    deps.setSecret(sign);
    body = { timestamp: String(timestamp), sign, ...card };
  }
  const { status, text } = await send('Feishu', what, new URL(settings.webhookUrl), body, deps);
  const reply = jsonObject(text);
  // Newer answers carry `code`, older ones `StatusCode`.
  const code = reply?.['code'] ?? reply?.['StatusCode'];
  if (typeof code !== 'number') {
    if (status < 200 || status > 299) throw httpError('Feishu', what, status);
    throw new ChatError(
      `${what} failed: the answer is not Feishu's JSON`,
      null,
      'Check the URL points at Feishu or Lark.',
    );
  }
  if (code === 0) return;
  const msg = String(reply?.['msg'] ?? reply?.['StatusMessage'] ?? '').slice(0, 200);
  const limited = code === RATE_LIMITED;
  throw new ChatError(
    `${what} failed: code ${code} (${msg})`,
    code,
    hint(code),
    limited || status >= 500,
    limited ? 1_000 : undefined,
  );
}

function hint(code: number): string {
  switch (code) {
    case 19021:
      return "The signature was refused: feishu-secret must be the bot's own signing secret (签名校验), and the runner's clock right to within an hour.";
    case 19024:
      return `The bot requires a keyword (自定义关键词) this message does not contain: every message carries "${BRAND}", so add that as the keyword, or use signing (签名校验) with feishu-secret.`;
    case 19022:
      return 'The bot accepts only listed IP addresses, and this runner is not on the list: GitHub-hosted runners change address; use signing (签名校验) instead.';
    case 19001:
      return "The webhook URL is wrong or the bot was removed: copy the whole URL from the bot's settings into the secret used for feishu-webhook-url.";
    case RATE_LIMITED:
      return 'A bot takes at most 100 messages a minute and 5 a second.';
    case 9499:
      return 'Feishu could not read the message.';
    case 19036:
      return 'Feishu found the message over its 20 KB limit.';
    default:
      return '';
  }
}
