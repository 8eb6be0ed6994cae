/**
 * Tells the team in every chat it configured: one message a chat a run, whether the run scanned
 * one account or a thousand (a digest). The chats are asked at the same time, so one that waits
 * out a rate limit holds up no other. A chat's failure is one warning and never changes the
 * outcome.
 */
import { isIncomplete } from '../account/coverage.js';
import type { ScanResult } from '../account/result.js';
import { plural } from '../render/markdown.js';
import type { KeyIdStyle } from '../render/present.js';
import type { Channel, ChannelId, NotifyLog } from './channel.js';
import { ChatError, type ChatDeps } from './http.js';
import { accountMessage, digestMessage, type DigestAccount, type Language, type Message } from './message.js';

export type NotifyWhen = 'stale' | 'changed' | 'always';

export interface NotifyConfig {
  /** The chats to tell, in the order of `notified-channels`. */
  channels: readonly Channel[];
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

/** An account of a run as the digest reads it: `AccountRun`, and its issue's `changed` when known. */
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

/** Tells about one account's scan. Resolves with the chats that took the message. */
export async function notifyAccount(
  config: NotifyConfig,
  result: ScanResult,
  ctx: NotifyContext,
  deps: ChatDeps,
  log: NotifyLog,
): Promise<ChannelId[]> {
  if (config.channels.length === 0) return [];
  const news = { stale: result.judgement.stale.length, incomplete: isIncomplete(result), changed: ctx.changed };
  if (!shouldNotify(config.notifyWhen, news)) {
    log.info(`Notifications: nothing to say (notify-when: ${config.notifyWhen}).`);
    return [];
  }
  const message = accountMessage({
    result,
    keyId: ctx.keyId,
    language: config.language,
    runUrl: ctx.runUrl,
    issue: ctx.issue,
  });
  return deliver(config.channels, message, '', deps, log);
}

/** Tells about a run over many accounts with one digest a chat, whatever the number of accounts. */
export async function notifyDigest(
  config: NotifyConfig,
  runs: readonly DigestRun[],
  ctx: { runUrl: string | null },
  deps: ChatDeps,
  log: NotifyLog,
): Promise<ChannelId[]> {
  if (config.channels.length === 0) return [];
  const accounts = plural(runs.length, 'account', 'accounts');
  if (!shouldNotifyDigest(config.notifyWhen, runs)) {
    log.info(`Notifications: nothing to say about ${accounts} (notify-when: ${config.notifyWhen}).`);
    return [];
  }
  const message = digestMessage({ runs, language: config.language, runUrl: ctx.runUrl });
  return deliver(config.channels, message, ` with the digest of ${accounts}`, deps, log);
}

/** Every chat at once; each failure one warning. Resolves with those that took it, in config order. */
async function deliver(
  channels: readonly Channel[],
  message: Message,
  what: string,
  deps: ChatDeps,
  log: NotifyLog,
): Promise<ChannelId[]> {
  const sendDeps: ChatDeps = { info: log.info, ...deps };
  const delivered = await Promise.all(
    channels.map(async (channel) => {
      try {
        const { where, mentioned } = await channel.send(message, sendDeps, log);
        const who = mentioned.length > 0 ? `, mentioning ${mentioned.join(', ')}` : '';
        log.info(`${channel.label}: notified ${where}${what}${who}.`);
        return channel.id;
      } catch (err) {
        const detail = err instanceof ChatError ? err.message : unexpected(err);
        log.warning(`${channel.label} notification failed: ${detail}`);
        return null;
      }
    }),
  );
  return delivered.filter((id): id is ChannelId => id !== null);
}

function unexpected(err: unknown): string {
  return `unexpected error: ${err instanceof Error ? err.message : String(err)}`;
}
