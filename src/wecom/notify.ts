/**
 * Tells the team on WeCom: one group robot markdown message, its `<@userid>` mentions inside (plus
 * a text message only to mention `@all`), or an app message. One message for a run over one
 * account (`notifyWecom`), and one for a run over many (`notifyWecomDigest`): never one per
 * account, as a robot takes 20 messages a minute. A notification failure is a warning and never
 * changes the outcome.
 */
import { isIncomplete } from '../account/coverage.js';
import { plural } from '../render/markdown.js';
import type { KeyIdStyle } from '../render/present.js';
import type { ScanResult } from '../account/result.js';
import {
  appDigest,
  appText,
  digestMentionText,
  mentionText,
  robotDigest,
  robotMarkdown,
  robotMentions,
  type DigestAccount,
  type Language,
  type WecomMessageInput,
} from './message.js';
import { sendAppMessage, sendRobotMessage, WecomError, type WecomApp, type WecomDeps } from './client.js';

export type NotifyWhen = 'stale' | 'changed' | 'always';

export interface WecomConfig {
  /** Group robot webhook URL (a secret), or `null`. */
  webhookUrl: string | null;
  mentionedList: string[];
  /** App messages, or `null`. */
  app: WecomApp | null;
  notifyWhen: NotifyWhen;
  language: Language;
}

/** What one account's scan has to tell. */
export interface AccountNews {
  stale: number;
  /** A stale key could have gone unseen: the scan was incomplete, or could not be made. */
  incomplete: boolean;
  /** Whether the set of stale keys changed since the last run, as the tracking issue tells; `null` when unknown. */
  changed: boolean | null;
}

/**
 * Whether this account's scan is worth a message. `stale`: stale keys, or a scan that could not
 * see everything (a stale key may be hiding: the team must hear of it). `changed`: as the tracking
 * issue says; unknown (`null`, as without an issue) behaves as `stale`. `always`: every run.
 */
export function shouldNotify(when: NotifyWhen, news: AccountNews): boolean {
  if (when === 'always') return true;
  if (when === 'changed' && news.changed !== null) return news.changed;
  return news.stale > 0 || news.incomplete;
}

/** An account of a run as the digest's sink reads it: `AccountRun`, and its issue's `changed` when known. */
export type DigestRun = DigestAccount & {
  issue: (NonNullable<DigestAccount['issue']> & { changed?: boolean | null }) | null;
};

/**
 * What one account of a run has to tell. An account that could not be scanned counts as
 * incomplete, and its `changed` as unknown (no scan to compare): under `changed` it is news on
 * every run until it is scanned again.
 */
export function accountNews(run: DigestRun): AccountNews {
  if (!run.result) return { stale: 0, incomplete: true, changed: null };
  return {
    stale: run.result.judgement.stale.length,
    incomplete: isIncomplete(run.result),
    changed: run.issue?.changed ?? null,
  };
}

/** Whether a run over many accounts posts its digest: when any account is worth a message, or always. */
export function shouldNotifyDigest(when: NotifyWhen, runs: readonly DigestRun[]): boolean {
  return when === 'always' || runs.some((run) => shouldNotify(when, accountNews(run)));
}

export interface NotifyContext {
  keyId: KeyIdStyle;
  runUrl: string | null;
  issue: { number: number; url: string } | null;
  /** Whether the set of stale keys changed since the last run, as the tracking issue tells; `null` when unknown. */
  changed: boolean | null;
}

export interface DigestContext {
  runUrl: string | null;
}

export interface NotifyLog {
  info: (message: string) => void;
  warning: (message: string) => void;
}

/** Notifies about one account's scan. Returns whether a message was delivered. */
export async function notifyWecom(
  config: WecomConfig,
  result: ScanResult,
  ctx: NotifyContext,
  deps: WecomDeps,
  log: NotifyLog,
): Promise<boolean> {
  if (!config.webhookUrl && !config.app) return false;
  const news = { stale: result.judgement.stale.length, incomplete: isIncomplete(result), changed: ctx.changed };
  if (!shouldNotify(config.notifyWhen, news)) {
    log.info(`WeCom: nothing to say (notify-when: ${config.notifyWhen}).`);
    return false;
  }
  const input: WecomMessageInput = {
    result,
    keyId: ctx.keyId,
    language: config.language,
    runUrl: ctx.runUrl,
    issue: ctx.issue,
  };
  return deliver(
    config,
    {
      markdown: (mentions) => robotMarkdown({ ...input, mentions }),
      text: () => appText(input),
      everyone: () => mentionText(config.language, result),
      what: '',
    },
    deps,
    log,
  );
}

/**
 * Notifies about a run over many accounts with one digest message (and, for `@all`, one text
 * message), whatever the number of accounts. Returns whether it was delivered.
 */
export async function notifyWecomDigest(
  config: WecomConfig,
  runs: readonly DigestRun[],
  ctx: DigestContext,
  deps: WecomDeps,
  log: NotifyLog,
): Promise<boolean> {
  if (!config.webhookUrl && !config.app) return false;
  if (!shouldNotifyDigest(config.notifyWhen, runs)) {
    log.info(
      `WeCom: nothing to say about ${plural(runs.length, 'account', 'accounts')} (notify-when: ${config.notifyWhen}).`,
    );
    return false;
  }
  const input = { runs, language: config.language, runUrl: ctx.runUrl };
  return deliver(
    config,
    {
      markdown: (mentions) => robotDigest({ ...input, mentions }),
      text: () => appDigest(input),
      everyone: () => digestMentionText(config.language, runs),
      what: ` with the digest of ${plural(runs.length, 'account', 'accounts')}`,
    },
    deps,
    log,
  );
}

/** The message in each form a destination takes. */
interface Rendered {
  markdown: (mentions: string[]) => string;
  text: () => string;
  /** The sentence that carries `@all`. */
  everyone: () => string;
  /** Said after "notified the group robot" in the log. */
  what: string;
}

async function deliver(config: WecomConfig, message: Rendered, deps: WecomDeps, log: NotifyLog): Promise<boolean> {
  const sendDeps: WecomDeps = { info: log.info, ...deps };
  try {
    if (config.webhookUrl) {
      // A robot takes about 20 messages a minute: mentions ride in the markdown, not in a second message.
      const { inMarkdown, everyone } = robotMentions(config.mentionedList);
      const content = message.markdown(inMarkdown);
      const left = inMarkdown.filter((id) => !content.includes(`<@${id}>`));
      if (left.length > 0) {
        log.warning(`WeCom: ${left.length} of the mentions did not fit in the 4096-byte message and were left out.`);
      }
      await sendRobotMessage(config.webhookUrl, { msgtype: 'markdown', markdown: { content } }, sendDeps);
      if (everyone) {
        // WeCom documents @all only in a text message's mentioned_list.
        await sendRobotMessage(
          config.webhookUrl,
          { msgtype: 'text', text: { content: message.everyone(), mentioned_list: ['@all'] } },
          sendDeps,
        );
      }
      const mentioned = [...inMarkdown, ...(everyone ? ['@all'] : [])];
      log.info(
        `WeCom: notified the group robot${message.what}${mentioned.length > 0 ? `, mentioning ${mentioned.join(', ')}` : ''}.`,
      );
    } else if (config.app) {
      await sendAppMessage(config.app, message.text(), sendDeps);
      log.info(`WeCom: sent an app message${message.what} to ${config.app.toUser}.`);
    }
    return true;
  } catch (err) {
    const detail =
      err instanceof WecomError ? err.message : `unexpected error: ${err instanceof Error ? err.message : String(err)}`;
    log.warning(`WeCom notification failed: ${detail}`);
    return false;
  }
}
