/**
 * Tells the team on WeCom: one group robot markdown message, its `<@userid>` mentions inside (plus
 * a text message only to mention `@all`), or an app message. A notification failure is a warning
 * and never changes the outcome.
 */
import type { KeyIdStyle } from '../core/present.js';
import type { ScanResult } from '../core/scan.js';
import { appText, mentionText, robotMarkdown, robotMentions, type WecomMessageInput } from '../core/wecom-message.js';
import type { NotifyWhen, WecomConfig } from '../inputs.js';
import { sendAppMessage, sendRobotMessage, WecomError, type WecomDeps } from '../wecom/client.js';

/**
 * Whether this run should notify. `changed` relies on the tracking issue knowing whether the set
 * of stale keys changed; without one (`null`) it behaves as `stale`.
 */
export function shouldNotify(when: NotifyWhen, staleCount: number, changed: boolean | null): boolean {
  if (when === 'always') return true;
  if (when === 'changed' && changed !== null) return changed;
  return staleCount > 0;
}

export interface NotifyContext {
  keyId: KeyIdStyle;
  runUrl: string | null;
  issue: { number: number; url: string } | null;
  /** Whether the set of stale keys changed since the last run, as the tracking issue tells; `null` when unknown. */
  changed: boolean | null;
}

export interface NotifyLog {
  info: (message: string) => void;
  warning: (message: string) => void;
}

/** Returns whether a message was delivered. */
export async function notifyWecom(
  config: WecomConfig,
  result: ScanResult,
  ctx: NotifyContext,
  deps: WecomDeps,
  log: NotifyLog,
): Promise<boolean> {
  if (!config.webhookUrl && !config.app) return false;
  if (!shouldNotify(config.notifyWhen, result.judgement.stale.length, ctx.changed)) {
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
  try {
    if (config.webhookUrl) {
      // A robot takes about 20 messages a minute: mentions ride in the markdown, not in a second message.
      const { inMarkdown, everyone } = robotMentions(config.mentionedList);
      const content = robotMarkdown({ ...input, mentions: inMarkdown });
      const left = inMarkdown.filter((id) => !content.includes(`<@${id}>`));
      if (left.length > 0) {
        log.warning(`WeCom: ${left.length} of the mentions did not fit in the 4096-byte message and were left out.`);
      }
      await sendRobotMessage(config.webhookUrl, { msgtype: 'markdown', markdown: { content } }, deps);
      if (everyone) {
        // WeCom documents @all only in a text message's mentioned_list.
        await sendRobotMessage(
          config.webhookUrl,
          { msgtype: 'text', text: { content: mentionText(config.language, result), mentioned_list: ['@all'] } },
          deps,
        );
      }
      const mentioned = [...inMarkdown, ...(everyone ? ['@all'] : [])];
      log.info(`WeCom: notified the group robot${mentioned.length > 0 ? `, mentioning ${mentioned.join(', ')}` : ''}.`);
    } else if (config.app) {
      await sendAppMessage(config.app, appText(input), deps);
      log.info(`WeCom: sent an app message to ${config.app.toUser}.`);
    }
    return true;
  } catch (err) {
    const detail =
      err instanceof WecomError ? err.message : `unexpected error: ${err instanceof Error ? err.message : String(err)}`;
    log.warning(`WeCom notification failed: ${detail}`);
    return false;
  }
}
