/**
 * Slack incoming webhook: Block Kit (a header, mrkdwn sections, a context line, buttons) with a
 * plain `text` fallback for notifications, within 50 blocks and 3,000 characters a section. Reads
 * the answer as Slack reports it: an HTTP status and a word (`invalid_payload`, `no_service`).
 */
import type { Channel } from '../channel.js';
import { fitLists, truncateChars } from '../fit.js';
import { ChatError, send, withChatRetries, type ChatDeps } from '../http.js';
import type { Message } from '../message.js';
import { ownerMarkup, render, type Markup } from '../text.js';

/** Slack's limits: blocks a message, characters a section's text, a header, a button's label. */
export const SLACK_LIMITS = { blocks: 50, section: 3000, header: 150, button: 75, text: 40_000 } as const;
/**
 * Characters of key lines at most, in sections of at most 3,000: about a hundred keys, more than
 * anyone reads in a chat; the rest are "and N more", with the run's summary a click away.
 */
export const SLACK_LIST_MAX_CHARS = 12_000;

export interface SlackSettings {
  /** `https://hooks.slack.com/services/T…/B…/…` (a secret). */
  webhookUrl: string;
  /** Member (`U…`, `W…`) or user group (`S…`) IDs, `here` or `channel`. */
  mention: readonly string[];
}

export interface SlackMessage {
  text: string;
  blocks: unknown[];
}

/** mrkdwn needs only `&`, `<` and `>` escaped; names go in code spans, which cannot hold a backtick. */
const escape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const MARKUP: Markup = {
  text: escape,
  user: (s) => `\`${escape(s.replace(/[`\r\n]/g, '?'))}\``,
  name: (s) => `\`${escape(s.replace(/[`\r\n]/g, '?'))}\``,
  quote: (s) => escape(s.replace(/[\r\n]+/g, ' ')),
  code: (s) => `\`${s}\``,
  warn: (s) => `*${s}*`,
  // Slack links are `<url|label>`: `|` and `>` end them, so the URL loses both.
  link: (label, url) => `<${url.replace(/[|>\s]/g, encodeURIComponent)}|${escape(label)}>`,
  owner: ownerMarkup(
    'slack',
    (s) => escape(s.replace(/[\r\n]+/g, ' ')),
    (id) => `<@${id}>`,
  ),
};

/** `<@U…>`, `<!subteam^S…>`, `<!here>`, `<!channel>`. */
export function slackMention(id: string): string {
  if (id === 'here' || id === 'channel' || id === 'everyone') return `<!${id}>`;
  return id.startsWith('S') ? `<!subteam^${id}>` : `<@${id}>`;
}

const section = (text: string) => ({ type: 'section', text: { type: 'mrkdwn', text } });
const context = (text: string) => ({ type: 'context', elements: [{ type: 'mrkdwn', text }] });

/** The message: header, note, the keys in sections, due soon, buttons, mentions. */
export function renderSlack(
  message: Message,
  mention: readonly string[] = [],
  listMaxChars = SLACK_LIST_MAX_CHARS,
): SlackMessage {
  const mark =
    message.tone === 'stale' ? ':red_circle:' : message.tone === 'incomplete' ? ':warning:' : ':white_check_mark:';
  const blocks: unknown[] = [
    {
      type: 'header',
      text: { type: 'plain_text', text: truncateChars(message.title, SLACK_LIMITS.header), emoji: true },
    },
  ];
  if (message.note)
    blocks.push(
      message.note.tone === 'warn'
        ? section(`:warning: ${escape(message.note.text)}`)
        : context(escape(message.note.text)),
    );

  const lists = message.lists.map((l) =>
    l.items.map((text) => `• ${truncateChars(render(text, MARKUP), SLACK_LIMITS.section)}`),
  );
  const more = (n: number) => `_${render(message.lists[0]?.more(n) ?? [], MARKUP)}_`;
  for (const lines of fitLists(lists, listMaxChars, more, (line) => line.length + 1)) {
    for (const chunk of sections(lines)) blocks.push(section(chunk));
  }
  if (message.footnote) blocks.push(context(escape(message.footnote)));
  for (const note of message.notes) blocks.push(context(escape(note)));
  if (message.links.length > 0) {
    blocks.push({
      type: 'actions',
      elements: message.links.map((l, i) => ({
        type: 'button',
        text: { type: 'plain_text', text: truncateChars(l.label, SLACK_LIMITS.button) },
        url: l.url,
        ...(i === 0 && message.tone !== 'clear' ? { style: 'primary' } : {}),
      })),
    });
  }
  const ids = [...new Set(mention)];
  if (ids.length > 0) blocks.push(section(ids.map(slackMention).join(' ')));
  // The title is our words and the account's label: plain text as it is.
  const fallback = `${mark} ${message.title}`;
  return { text: truncateChars(fallback, 3000), blocks: blocks.slice(0, SLACK_LIMITS.blocks) };
}

/** Lines packed into texts of at most 3,000 characters, never splitting a line. */
function sections(lines: readonly string[]): string[] {
  const out: string[] = [];
  let current = '';
  for (const line of lines) {
    if (current && current.length + 1 + line.length > SLACK_LIMITS.section) {
      out.push(current);
      current = '';
    }
    current = current ? `${current}\n${line}` : line;
  }
  if (current) out.push(current);
  return out;
}

export function slackChannel(settings: SlackSettings): Channel {
  return {
    id: 'slack',
    label: 'Slack',
    async send(message, deps) {
      const body = renderSlack(message, settings.mention);
      await withChatRetries(() => post(settings, body, deps), deps, {
        onRateLimit: (_err, delayMs) =>
          `Slack: rate-limited (HTTP 429); trying again in ${Math.ceil(delayMs / 1000)} s.`,
      });
      return { where: 'the channel', mentioned: settings.mention };
    },
  };
}

async function post(settings: SlackSettings, body: SlackMessage, deps: ChatDeps): Promise<void> {
  const what = 'Slack webhook (URL hidden)';
  const { status, headers, text } = await send('Slack', what, new URL(settings.webhookUrl), body, deps);
  if (status >= 200 && status <= 299) return;
  const word =
    text
      .trim()
      .slice(0, 100)
      .replace(/[^\w.-]/g, '') || `HTTP ${status}`;
  if (status === 429) {
    const after = Number(headers['retry-after']);
    const waitMs = Number.isFinite(after) && after >= 0 ? Math.ceil(after * 1000) : 1000;
    throw new ChatError(
      `${what} failed: HTTP 429 (${word})`,
      word,
      'Slack takes about one message a second per webhook.',
      true,
      waitMs,
    );
  }
  throw new ChatError(`${what} failed: HTTP ${status} (${word})`, word, hint(word, status), status >= 500);
}

function hint(word: string, status: number): string {
  switch (word) {
    case 'invalid_payload':
    case 'invalid_blocks':
      return 'Slack could not read the message; this is a bug in iam-stale-keys: please report it.';
    case 'invalid_token':
    case 'no_service':
    case 'no_team':
      return "The webhook URL is wrong or was revoked: create a new one on the Slack app's Incoming Webhooks page and store it in the secret used for slack-webhook-url.";
    case 'channel_not_found':
    case 'channel_is_archived':
      return "The webhook's channel is gone or archived: create a webhook for a live channel.";
    case 'action_prohibited':
      return "A Slack admin restricted the webhook's app.";
    default:
      return status >= 500 ? 'Slack failed; try again later.' : '';
  }
}
