/**
 * What each chat's webhook URL looks like, so that a URL in the wrong input, or cut while being
 * copied, is an input error before any request. Shapes are told by path and query, not by host:
 * a relay or a private deployment may sit at another address. Never quotes a URL: it holds the
 * token.
 */
import { isIP } from 'node:net';

export type ChannelId = 'wecom' | 'dingtalk' | 'feishu' | 'slack';

interface Shape {
  /** What people call it. */
  label: string;
  /** The input that takes it. */
  input: string;
  /** The URL, as the chat's settings show it. */
  example: string;
  matches(url: URL): boolean;
  /** Where the URL is copied from. */
  source: string;
}

export const WEBHOOKS: Record<ChannelId, Shape> = {
  wecom: {
    label: 'WeCom group robot',
    input: 'wecom-webhook-url',
    example: 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…',
    matches: (url) => /\/cgi-bin\/webhook\/send$/.test(url.pathname) && !!url.searchParams.get('key'),
    source: "the group robot's settings",
  },
  dingtalk: {
    label: 'DingTalk custom robot',
    input: 'dingtalk-webhook-url',
    example: 'https://oapi.dingtalk.com/robot/send?access_token=…',
    matches: (url) => /\/robot\/send$/.test(url.pathname) && !!url.searchParams.get('access_token'),
    source: "the robot's settings (机器人管理)",
  },
  feishu: {
    label: 'Feishu/Lark custom bot',
    input: 'feishu-webhook-url',
    example: 'https://open.feishu.cn/open-apis/bot/v2/hook/…',
    matches: (url) => /\/open-apis\/bot\/v2\/hook\/[^/]+$/.test(url.pathname),
    source: "the bot's settings in the group (群机器人)",
  },
  slack: {
    label: 'Slack incoming webhook',
    input: 'slack-webhook-url',
    example: 'https://hooks.slack.com/services/T…/B…/…',
    matches: (url) => /\/services\/[^/]+\/[^/]+\/[^/]+$/.test(url.pathname),
    source: "the Slack app's Incoming Webhooks page",
  },
};

/** Why `value` cannot be `channel`'s webhook URL, or `null`. */
export function webhookProblem(channel: ChannelId, value: string): string | null {
  const shape = WEBHOOKS[channel];
  const fix = `Copy the whole URL (${shape.example}) from ${shape.source} into a secret.`;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `Input "${shape.input}" is not a URL. ${fix}`;
  }
  const scheme = schemeProblem(url, shape.input);
  if (scheme) return `${scheme} ${fix}`;
  if (shape.matches(url)) return null;
  const other = (Object.keys(WEBHOOKS) as ChannelId[]).find((id) => id !== channel && WEBHOOKS[id].matches(url));
  if (other) {
    const theirs = WEBHOOKS[other];
    return `Input "${shape.input}" holds a ${theirs.label} URL: put it in "${theirs.input}", and the ${shape.label}'s URL (${shape.example}) in "${shape.input}".`;
  }
  return `Input "${shape.input}" is not a ${shape.label} URL. ${fix}`;
}

/** https://, or http:// to this machine only (tests, local relays): nothing else crosses a network in clear. */
export function schemeProblem(url: URL, input: string): string | null {
  if (url.protocol === 'https:') return null;
  if (url.protocol === 'http:' && isLoopback(url.hostname)) return null;
  return `Input "${input}" must start with https:// (http:// is allowed only to 127.0.0.1, ::1 or localhost).`;
}

function isLoopback(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || host === '::1') return true;
  return isIP(host) === 4 && host.startsWith('127.');
}

/**
 * What to mask of a webhook input besides the whole value: every query value (WeCom's `key`,
 * DingTalk's `access_token`) and the path's last segment (Feishu's hook ID, Slack's secret), as a
 * log may show a URL's parts on their own. Works on any text, so a malformed value is masked too.
 */
export function webhookSecrets(value: string): string[] {
  const out = new Set<string>();
  for (const m of value.matchAll(/[?&][^=&#\s]+=([^&#\s]+)/g)) out.add(m[1]!);
  const last = /\/([^/?#\s]{8,})(?:[?#]|\s*$)/.exec(value)?.[1];
  if (last) out.add(last);
  for (const s of [...out]) {
    try {
      out.add(decodeURIComponent(s));
    } catch {
      // A malformed escape: the raw form is masked.
    }
  }
  return [...out].filter((s) => s.length >= 4);
}
