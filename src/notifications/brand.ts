/**
 * The name every DingTalk and Feishu message carries at its foot: a robot that only takes messages
 * with a keyword (自定义关键词) can be given this one.
 */
export const BRAND = 'iam-stale-keys';
