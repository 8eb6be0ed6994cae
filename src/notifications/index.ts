/**
 * The chats a run tells, from the inputs: each adapter built with its settings, in a fixed order
 * (the order of `notified-channels`).
 */
import type { NotifyInputs } from '../inputs.js';
import type { Channel } from './channel.js';
import { dingtalkChannel } from './dingtalk/index.js';
import { feishuChannel } from './feishu/index.js';
import type { NotifyConfig } from './notify.js';
import { slackChannel } from './slack/index.js';
import { wecomChannel } from './wecom/index.js';

export function notifyConfig(inputs: NotifyInputs): NotifyConfig {
  const channels: Channel[] = [];
  if (inputs.wecom) channels.push(wecomChannel(inputs.wecom));
  if (inputs.dingtalk) channels.push(dingtalkChannel(inputs.dingtalk));
  if (inputs.feishu) channels.push(feishuChannel(inputs.feishu));
  if (inputs.slack) channels.push(slackChannel(inputs.slack));
  return { channels, notifyWhen: inputs.notifyWhen, language: inputs.language };
}

/** The inputs that are secrets: masked, with their parts, before any input is read. */
export const SECRET_INPUTS = [
  'wecom-webhook-url',
  'wecom-corp-secret',
  'dingtalk-webhook-url',
  'dingtalk-secret',
  'feishu-webhook-url',
  'feishu-secret',
  'slack-webhook-url',
] as const;
