/**
 * WeCom (企业微信): one group robot markdown message, its `<@userid>` mentions inside (plus a text
 * message only to mention `@all`, the one place WeCom documents it), or one app message.
 */
import type { Channel } from '../channel.js';
import { sendAppMessage, sendRobotMessage, type WecomApp } from './client.js';
import { renderRobotMarkdown, renderText, robotMentions } from './render.js';

export interface WecomSettings {
  /** Group robot webhook URL (a secret), or `null`. */
  webhookUrl: string | null;
  mentionedList: readonly string[];
  /** App messages, or `null`. */
  app: WecomApp | null;
}

export function wecomChannel(settings: WecomSettings): Channel {
  return {
    id: 'wecom',
    label: 'WeCom',
    async send(message, deps, log) {
      if (settings.webhookUrl) {
        // A robot takes about 20 messages a minute: mentions ride in the markdown, not in a second message.
        const { inMarkdown, everyone } = robotMentions(settings.mentionedList);
        const content = renderRobotMarkdown(message, inMarkdown);
        const left = inMarkdown.filter((id) => !content.includes(`<@${id}>`));
        if (left.length > 0) {
          log.warning(`WeCom: ${left.length} of the mentions did not fit in the 4096-byte message and were left out.`);
        }
        await sendRobotMessage(settings.webhookUrl, { msgtype: 'markdown', markdown: { content } }, deps);
        if (everyone) {
          await sendRobotMessage(
            settings.webhookUrl,
            { msgtype: 'text', text: { content: message.mention, mentioned_list: ['@all'] } },
            deps,
          );
        }
        const mentioned = [...inMarkdown, ...(everyone ? ['@all'] : [])];
        return { where: 'the group robot', mentioned };
      }
      if (!settings.app) throw new Error('WeCom has no destination');
      await sendAppMessage(settings.app, renderText(message), deps);
      return { where: `${settings.app.toUser} by an app message`, mentioned: [] };
    },
  };
}
