/**
 * What every chat adapter offers the run: a name, and a way to deliver the message. Adding a chat
 * means one adapter beside the others and its inputs; nothing here changes.
 */
import type { ChatDeps } from './http.js';
import type { Message } from './message.js';
import type { ChannelId } from './webhooks.js';

export type { ChannelId } from './webhooks.js';

export interface NotifyLog {
  info: (message: string) => void;
  warning: (message: string) => void;
}

export interface Channel {
  /** Its name in the `notified-channels` output. */
  id: ChannelId;
  /** Its name in log lines: `WeCom`, `DingTalk`, `Feishu`, `Slack`. */
  label: string;
  /**
   * Renders and sends the message, within the chat's limits and retrying what is worth it.
   * Resolves with what the log says: where it went (`the group robot`) and whom it mentioned;
   * throws (a `ChatError`) when the chat did not take it.
   */
  send(message: Message, deps: ChatDeps, log: NotifyLog): Promise<Delivery>;
}

export interface Delivery {
  where: string;
  mentioned: readonly string[];
}
