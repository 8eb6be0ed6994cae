/**
 * Every input, read once and validated before anything touches the network. The rest of the
 * code takes the `Config` this returns and never reads an input itself.
 */
import { ORGANIZATIONAL_UNIT_ID } from './aws/organizations.js';
import type { Partition } from './model.js';
import type { Shard } from './run/accounts.js';
import type { Policy } from './account/judge.js';
import type { OwnerSettings } from './account/owners.js';
import type { DeactivationSettings } from './account/deactivation.js';
import type { ScanMethodInput } from './account/inventory.js';
import { apiBaseUrlProblem, type WecomApp } from './notifications/wecom/client.js';
import type { WecomSettings } from './notifications/wecom/index.js';
import type { DingtalkSettings } from './notifications/dingtalk/index.js';
import type { FeishuSettings } from './notifications/feishu/index.js';
import type { SlackSettings } from './notifications/slack/index.js';
import type { NotifyWhen } from './notifications/notify.js';
import type { Language } from './notifications/message.js';
import { webhookProblem, WEBHOOKS, type ChannelId } from './notifications/webhooks.js';

/** Returns an input's raw value, `''` when unset (as `core.getInput` does). */
export type InputReader = (name: string) => string;

export type RedactMode = 'auto' | 'true' | 'false';

export interface Config {
  roleToAssume: string | null;
  awsRegion: string;
  partition: Partition;
  audience: string;
  roleSessionName: string;
  roleDurationSeconds: number;
  policy: Policy;
  owners: OwnerSettings;
  deactivation: DeactivationSettings;
  scanMethod: ScanMethodInput;
  failOnStale: boolean;
  failOnIncomplete: boolean;
  redactKeyIds: RedactMode;
  issue: IssueConfig;
  notify: NotifyInputs;
  /** Which accounts to scan; `null` for the signed-in account alone. */
  accounts: AccountsConfig | null;
  /** Inputs that are valid but likely not what was meant: each names the input. Said before any request. */
  warnings: string[];
}

/** The organisation mode: many accounts from one job. */
export interface AccountsConfig {
  /** Every ACTIVE account of the organisation (optionally under some OUs), or the listed IDs. */
  source: { kind: 'organization'; organizationalUnits: string[] } | { kind: 'list'; ids: string[] };
  exclude: string[];
  /** A role name, optionally with a path (`security/iam-stale-keys`). */
  memberRoleName: string;
  memberRoleAuth: 'assume-role' | 'web-identity';
  concurrency: number;
  shard: Shard | null;
}

/** The chats to tell, each `null` when not set, and when and in which language. */
export interface NotifyInputs {
  wecom: WecomSettings | null;
  dingtalk: DingtalkSettings | null;
  feishu: FeishuSettings | null;
  slack: SlackSettings | null;
  notifyWhen: NotifyWhen;
  language: Language;
}

export interface IssueConfig {
  enabled: boolean;
  token: string;
  titleTemplate: string;
  labels: string[];
  assignees: string[];
  closeResolved: boolean;
}

/** One or more bad inputs; the message names each input, the value and what is expected. */
export class InputError extends Error {
  override name = 'InputError';
  constructor(readonly problems: string[]) {
    super(problems.length === 1 ? problems[0] : `${problems.length} inputs are invalid:\n- ${problems.join('\n- ')}`);
  }
}

export function partitionOfRegion(region: string): Partition {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
}

const REGION = /^[a-z]{2}(?:-[a-z]+)+-\d{1,2}$/;
const ROLE_ARN = /^arn:(aws|aws-cn|aws-us-gov):iam::(\d{12}):role\/(?:[\w+=,.@-]+\/)*[\w+=,.@-]{1,64}$/;
const SESSION_NAME = /^[\w+=,.@-]{2,64}$/;
/** Signs of a regular expression where a glob was meant: `.*`, `.+`, anchors, classes, groups, escapes. */
const REGEX_LIKE = /\.\*|\.\+|^\^|\$$|[[\]()\\|{}]/;

/** The glob a regular-expression-like pattern most likely meant: `^svc-.*$` → `svc-*`. */
function globOf(pattern: string): string {
  return (
    pattern
      .replace(/^\^|\$$/g, '')
      .replace(/\.[*+]/g, '*')
      .replace(/[[\]()\\|{}]/g, '') || '*'
  );
}

/** IAM user name characters, plus the glob wildcards. */
const USER_PATTERN = /^[\w+=,.@*?-]{1,64}$/;

export function readConfig(read: InputReader): Config {
  const problems: string[] = [];
  const p = new Parser(read, problems);

  const awsRegion = p.matching('aws-region', 'us-east-1', REGION, 'an AWS region such as us-east-1 or cn-north-1');
  const partition = partitionOfRegion(awsRegion);

  const roleToAssume = p.raw('role-to-assume') || null;
  if (roleToAssume !== null) {
    const m = ROLE_ARN.exec(roleToAssume);
    if (!m) {
      problems.push(
        `Input "role-to-assume" must be an IAM role ARN such as arn:aws:iam::111111111111:role/iam-stale-keys, got "${roleToAssume}".`,
      );
    } else if (m[1] !== partition) {
      problems.push(
        `Input "role-to-assume" is in partition ${m[1]} but "aws-region" ${awsRegion} is in ${partition}: set aws-region to a region of the role's partition${m[1] === 'aws-cn' ? ' (cn-north-1 or cn-northwest-1)' : ''}.`,
      );
    }
  }

  const defaultAudience = partition === 'aws-cn' ? 'sts.amazonaws.com.cn' : 'sts.amazonaws.com';
  const audience = p.matching(
    'audience',
    defaultAudience,
    /^\S{1,256}$/,
    'an OIDC audience without spaces, such as sts.amazonaws.com',
  );
  const roleSessionName = p.matching(
    'role-session-name',
    'iam-stale-keys',
    SESSION_NAME,
    '2 to 64 characters of letters, digits and +=,.@_-',
  );
  const roleDurationSeconds = p.wholeNumber('role-duration-seconds', 900, 900, 43200, 'seconds');

  const maxAgeDays = p.wholeNumber('max-age-days', 90, 1, 3650, 'days');
  const maxUnusedDays = p.wholeNumber('max-unused-days', 0, 0, 3650, 'days (0 turns the check off)');
  const warnDays = p.wholeNumber('warn-days', 14, 0, 3650, 'days (0 turns warnings off)');
  if (warnDays > 0 && warnDays >= maxAgeDays && !p.failed('max-age-days', 'warn-days')) {
    problems.push(
      `Input "warn-days" (${warnDays}) must be smaller than "max-age-days" (${maxAgeDays}), or every key would be due soon: lower warn-days, or set it to 0 to turn warnings off.`,
    );
  }
  const includeInactive = p.boolean('include-inactive', false);

  const warnings: string[] = [];
  const excludeUsers = p.list('exclude-users');
  for (const pattern of excludeUsers) {
    if (REGEX_LIKE.test(pattern)) {
      problems.push(
        `Input "exclude-users" has "${pattern}", which looks like a regular expression; patterns are globs: * for any characters, ? for one (for example "${globOf(pattern)}").`,
      );
    } else if (!USER_PATTERN.test(pattern)) {
      problems.push(
        `Input "exclude-users" has "${pattern}", which is not an IAM user name or glob: use letters, digits, +=,.@_- and the wildcards * and ?, separated by commas or newlines.`,
      );
    } else if (pattern.startsWith('@')) {
      warnings.push(
        `Input "exclude-users" has "${pattern}": patterns are IAM user names, not GitHub logins, so it skips only an IAM user named "${pattern}".`,
      );
    }
  }

  const scanMethod = p.oneOf('scan-method', 'auto', ['auto', 'credential-report', 'api'] as const);
  const failOnStale = p.boolean('fail-on-stale', true);
  const failOnIncomplete = p.boolean('fail-on-incomplete', true);
  const redactKeyIds = p.oneOf('redact-key-ids', 'auto', ['auto', 'true', 'false'] as const);

  const accounts = readAccountsInputs(p, problems);
  const issue = readIssueInputs(p, problems, warnings);
  const notify = readNotifyInputs(p, problems, warnings);
  const deactivation = {
    afterDays: p.wholeNumber('deactivate-after-days', 0, 0, 3650, 'days'),
    dryRun: p.boolean('dry-run', true),
    max: p.wholeNumber('max-deactivations', 10, 1, 1000, 'keys'),
  };
  if (deactivation.afterDays > 0 && !issue.enabled) {
    problems.push(
      `Input "deactivate-after-days" is ${deactivation.afterDays} but "issue" is false: the tracking issue is the notice before a key is deactivated, and records when each key was first listed. Set issue to true, or deactivate-after-days to 0.`,
    );
  }

  if (problems.length > 0) throw new InputError(problems);
  return {
    roleToAssume,
    awsRegion,
    partition,
    audience,
    roleSessionName,
    roleDurationSeconds,
    policy: { maxAgeDays, maxUnusedDays, warnDays, includeInactive, excludeUsers },
    owners: readOwnerInputs(p),
    deactivation,
    scanMethod,
    failOnStale,
    failOnIncomplete,
    redactKeyIds,
    issue,
    notify,
    accounts,
    warnings,
  };
}

const ACCOUNT_ID = /^\d{12}$/;

/** IAM tag keys: up to 128 characters of letters, digits, spaces and _.:/=+-@. */
const TAG_KEY = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]{1,128}$/u;

function readOwnerInputs(p: Parser): OwnerSettings {
  const ownerTag = p.matching('owner-tag', 'owner', TAG_KEY, 'an IAM tag key (letters, digits, spaces and _.:/=+-@)');
  const tagPrefix = p.raw('tag-prefix') || 'iam-stale-keys:';
  if (!TAG_KEY.test(`${tagPrefix}exempt-reason`)) {
    p.matching(
      'tag-prefix',
      tagPrefix,
      /^$/,
      'the start of an IAM tag key (letters, digits, spaces and _.:/=+-@, at most 115 characters)',
    );
  }
  const maxExemptionDays = p.wholeNumber('max-exemption-days', 90, 0, 3650, 'days');
  return { ownerTag, tagPrefix, maxExemptionDays };
}
const MEMBER_ROLE = /^(?:[\w+=,.@-]+\/)*[\w+=,.@-]{1,64}$/;

function readAccountsInputs(p: Parser, problems: string[]): AccountsConfig | null {
  const accountsRaw = p.list('accounts');
  const units = p.list('organizational-units');
  const exclude = p.list('exclude-accounts');
  const shardRaw = p.raw('shard');
  const memberRoleName = p.raw('member-role-name').replace(/^\/+|\/+$/g, '') || 'iam-stale-keys';
  const memberRoleAuth = p.oneOf('member-role-auth', 'assume-role', ['assume-role', 'web-identity'] as const);
  const concurrency = p.wholeNumber('account-concurrency', 16, 1, 64, 'accounts scanned at once');

  if (accountsRaw.length === 0) {
    for (const [name, set] of [
      ['organizational-units', units.length > 0],
      ['exclude-accounts', exclude.length > 0],
      ['shard', shardRaw !== ''],
    ] as const) {
      if (set) {
        problems.push(
          `Input "${name}" is set but "accounts" is not: it applies to the organisation mode only. Set accounts to organization (or to account IDs), or remove ${name}.`,
        );
      }
    }
    return null;
  }

  const organization = accountsRaw.length === 1 && accountsRaw[0]!.toLowerCase() === 'organization';
  const ids: string[] = [];
  if (!organization) {
    for (const item of accountsRaw) {
      if (ACCOUNT_ID.test(item)) ids.push(item);
      else {
        problems.push(
          `Input "accounts" has "${item}", which is not a 12-digit AWS account ID: give organization, or account IDs separated by commas or newlines.`,
        );
      }
    }
    if (units.length > 0) {
      problems.push(
        'Input "organizational-units" needs "accounts: organization": with a list of account IDs there is nothing to filter by OU.',
      );
    }
  }
  for (const unit of units) {
    if (!ORGANIZATIONAL_UNIT_ID.test(unit)) {
      problems.push(
        `Input "organizational-units" has "${unit}", which is not an OU ID: OU IDs look like ou-ab12-11111111 (a root: r-ab12), as the AWS Organizations console shows them.`,
      );
    }
  }
  for (const id of exclude) {
    if (!ACCOUNT_ID.test(id)) {
      problems.push(`Input "exclude-accounts" has "${id}", which is not a 12-digit AWS account ID.`);
    }
  }
  if (!MEMBER_ROLE.test(memberRoleName)) {
    problems.push(
      `Input "member-role-name" must be an IAM role name, optionally with a path (iam-stale-keys or security/iam-stale-keys), got "${p.raw('member-role-name')}".`,
    );
  }
  let shard: Shard | null = null;
  if (shardRaw !== '') {
    const m = /^(\d{1,4})\/(\d{1,4})$/.exec(shardRaw);
    const index = Number(m?.[1]);
    const count = Number(m?.[2]);
    if (!m || index < 1 || count < 1 || index > count || count > 1000) {
      problems.push(
        `Input "shard" must be i/n with 1 ≤ i ≤ n ≤ 1000 (for example 2/3, the second of three slices), got "${shardRaw}".`,
      );
    } else {
      shard = { index, count };
    }
  }
  return {
    source: organization ? { kind: 'organization', organizationalUnits: units } : { kind: 'list', ids },
    exclude,
    memberRoleName,
    memberRoleAuth,
    concurrency,
    shard,
  };
}

function readNotifyInputs(p: Parser, problems: string[], warnings: string[]): NotifyInputs {
  const wecom = readWecomInputs(p, problems);
  const dingtalk = readChatInputs(
    p,
    problems,
    'dingtalk',
    'dingtalk-secret',
    'dingtalk-at-mobiles',
    DINGTALK_AT,
    'mobile numbers (or @all)',
  );
  const feishu = readChatInputs(
    p,
    problems,
    'feishu',
    'feishu-secret',
    'feishu-at',
    FEISHU_AT,
    'open IDs (ou_…, or all)',
  );
  const slack = readChatInputs(
    p,
    problems,
    'slack',
    null,
    'slack-mention',
    SLACK_MENTION,
    'member or group IDs (U…, W…, S…), here or channel',
  );
  const any = wecom ?? dingtalk ?? feishu ?? slack;
  // These two default to empty in action.yml, so that setting them without a destination can be told.
  for (const name of ['notify-when', 'language']) {
    if (p.raw(name) && !any) {
      warnings.push(
        `Input "${name}" is set to "${p.raw(name)}" but no chat is: set one of wecom-webhook-url (or the WeCom app inputs), dingtalk-webhook-url, feishu-webhook-url or slack-webhook-url, or remove ${name}.`,
      );
    }
  }
  return {
    wecom,
    dingtalk: dingtalk && { webhookUrl: dingtalk.url, secret: dingtalk.secret, atMobiles: dingtalk.mentions },
    feishu: feishu && { webhookUrl: feishu.url, secret: feishu.secret, at: feishu.mentions },
    slack: slack && { webhookUrl: slack.url, mention: slack.mentions },
    notifyWhen: p.oneOf('notify-when', 'stale', ['stale', 'changed', 'always'] as const),
    language: p.oneOf('language', 'en', ['en', 'zh'] as const),
  };
}

/** DingTalk @s: mobile numbers (with a country code if need be), or `@all`. */
const DINGTALK_AT = /^(?:@all|\+?\d[\d-]{4,19})$/;
/** Feishu @s: open IDs, or `all`. */
const FEISHU_AT = /^(?:all|ou_[A-Za-z0-9]{1,64})$/;
/** Slack mentions: members (U…, W…), user groups (S…), `here`, `channel`. */
const SLACK_MENTION = /^(?:here|channel|[UWS][A-Z0-9]{2,20})$/;

/** A webhook chat's URL, its signing secret and its mentions, each checked before any request. */
function readChatInputs(
  p: Parser,
  problems: string[],
  channel: Exclude<ChannelId, 'wecom'>,
  secretInput: string | null,
  mentionInput: string,
  mention: RegExp,
  expected: string,
): { url: string; secret: string | null; mentions: string[] } | null {
  const urlInput = WEBHOOKS[channel].input;
  const url = p.raw(urlInput) || null;
  if (url) {
    const problem = webhookProblem(channel, url);
    if (problem) problems.push(problem);
  }
  const secret = secretInput ? p.raw(secretInput) || null : null;
  if (secretInput && secret && !url) {
    problems.push(`Input "${secretInput}" is set but "${urlInput}" is not: the secret signs that robot's messages.`);
  }
  const mentions = [...new Set(p.list(mentionInput))];
  for (const m of mentions) {
    if (!mention.test(m)) {
      problems.push(
        `Input "${mentionInput}" has "${m}", which is not one of ${expected}: separate them with commas or newlines.`,
      );
    }
  }
  if (mentions.length > 0 && !url) {
    problems.push(`Input "${mentionInput}" is set but "${urlInput}" is not: mentions go through that webhook.`);
  }
  return url ? { url, secret, mentions } : null;
}

/** WeCom user IDs: letters, digits and ._@-; `@all` for everyone. */
const WECOM_USER = /^(?:@all|[\w.@-]{1,64})$/;
const WECOM_RECIPIENTS = /^(?:@all|[\w.@-]{1,64}(?:\|[\w.@-]{1,64}){0,999})$/;

function readWecomInputs(p: Parser, problems: string[]): WecomSettings | null {
  const webhookUrl = p.raw('wecom-webhook-url') || null;
  if (webhookUrl) {
    const problem = webhookProblem('wecom', webhookUrl);
    if (problem) problems.push(problem);
  }
  const mentionedList = p.list('wecom-mentioned-list');
  for (const user of mentionedList) {
    if (!WECOM_USER.test(user)) {
      problems.push(
        `Input "wecom-mentioned-list" has "${user}", which is not a WeCom user ID: give user IDs (or @all) separated by commas or newlines.`,
      );
    }
  }
  if (mentionedList.length > 0 && !webhookUrl) {
    problems.push(
      'Input "wecom-mentioned-list" is set but "wecom-webhook-url" is not: mentions go through the group robot.',
    );
  }

  const corpId = p.raw('wecom-corp-id');
  const corpSecret = p.raw('wecom-corp-secret');
  const agentIdRaw = p.raw('wecom-agent-id');
  const toUser = p.raw('wecom-to-user') || '@all';
  const baseUrl = p.raw('wecom-api-base-url') || 'https://qyapi.weixin.qq.com';
  const given = [corpId, corpSecret, agentIdRaw].filter(Boolean).length;
  let app: WecomApp | null = null;
  if (given > 0 && given < 3) {
    problems.push(
      'Inputs "wecom-corp-id", "wecom-corp-secret" and "wecom-agent-id" go together: set all three for app messages, or none.',
    );
  } else if (given === 3) {
    const agentId = p.wholeNumber('wecom-agent-id', 0, 1, 2_147_483_647, 'an app agent ID');
    if (!WECOM_RECIPIENTS.test(toUser)) {
      problems.push(`Input "wecom-to-user" must be WeCom user IDs separated by | (a|b), or @all, got "${toUser}".`);
    }
    const problem = apiBaseUrlProblem(baseUrl);
    if (problem) problems.push(problem);
    app = { baseUrl: baseUrl.replace(/\/+$/, ''), corpId, corpSecret, agentId, toUser };
  }
  if (webhookUrl && app) {
    problems.push(
      'Set either "wecom-webhook-url" (group robot) or the wecom-corp-id/secret/agent-id app inputs, not both.',
    );
  }
  return webhookUrl || app ? { webhookUrl, mentionedList, app } : null;
}

const GITHUB_LOGIN = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/;

function readIssueInputs(p: Parser, problems: string[], warnings: string[]): IssueConfig {
  const enabled = p.boolean('issue', true);
  const token = p.raw('github-token');
  const titleTemplate = p.raw('issue-title') || 'Stale AWS access keys in {account}';
  const labels = p.list('issue-labels', 'security,stale-access-keys');
  const assignees = p.list('issue-assignees');
  const closeResolved = p.boolean('close-resolved-issue', true);
  if (!enabled) return { enabled, token, titleTemplate, labels, assignees, closeResolved };

  if (token === '') {
    problems.push(
      'Input "github-token" is empty: leave it at its default (${{ github.token }}), pass a token with issues: write, or set issue to false.',
    );
  }
  if (titleTemplate.length > 200) {
    problems.push(`Input "issue-title" must be at most 200 characters, got ${titleTemplate.length}.`);
  }
  for (const m of titleTemplate.matchAll(/\$?\{\{?\s*([^{}]*?)\s*\}?\}/g)) {
    if (m[0] === '{account}') continue;
    problems.push(
      `Input "issue-title" has "${m[0]}", which is not a placeholder: the only one is {account} (lower case, single braces), which becomes the account's alias and ID.`,
    );
  }
  if (!titleTemplate.includes('{account}')) {
    warnings.push(
      `Input "issue-title" ("${titleTemplate}") has no {account}: every account's tracking issue gets the same title, so people cannot tell them apart in the issue list.`,
    );
  }
  if (labels.length === 0) {
    problems.push(
      'Input "issue-labels" needs at least one label: the tracking issue is found by its labels. Leave it at its default (security,stale-access-keys), or set issue to false.',
    );
  }
  for (const label of labels) {
    if (label.length > 50) problems.push(`Input "issue-labels" has "${label}", longer than GitHub's 50 characters.`);
  }
  for (const login of assignees) {
    if (!GITHUB_LOGIN.test(login.replace(/^@/, ''))) {
      problems.push(
        `Input "issue-assignees" has "${login}", which is not a GitHub login: give logins separated by commas or newlines.`,
      );
    }
  }
  if (assignees.length > 10)
    problems.push(`Input "issue-assignees" lists ${assignees.length} people; GitHub assigns at most 10.`);
  return { enabled, token, titleTemplate, labels, assignees: assignees.map((a) => a.replace(/^@/, '')), closeResolved };
}

/** Small typed readers that record a problem instead of throwing, so every bad input is reported at once. */
class Parser {
  private readonly bad = new Set<string>();
  constructor(
    private readonly read: InputReader,
    private readonly problems: string[],
  ) {}

  raw(name: string): string {
    return this.read(name).trim();
  }

  failed(...names: string[]): boolean {
    return names.some((n) => this.bad.has(n));
  }

  private problem(name: string, message: string): void {
    this.bad.add(name);
    this.problems.push(message);
  }

  matching(name: string, fallback: string, re: RegExp, expected: string): string {
    const value = this.raw(name) || fallback;
    if (!re.test(value)) this.problem(name, `Input "${name}" must be ${expected}, got "${value}".`);
    return value;
  }

  wholeNumber(name: string, fallback: number, min: number, max: number, unit: string): number {
    const value = this.raw(name);
    if (value === '') return fallback;
    const n = /^\d{1,9}$/.test(value) ? Number(value) : NaN;
    if (!(n >= min && n <= max)) {
      this.problem(name, `Input "${name}" must be a whole number of ${unit} from ${min} to ${max}, got "${value}".`);
      return fallback;
    }
    return n;
  }

  /** YAML 1.2 core booleans, as `core.getBooleanInput`, but an empty value takes the default. */
  boolean(name: string, fallback: boolean): boolean {
    const value = this.raw(name);
    if (value === '') return fallback;
    if (['true', 'True', 'TRUE'].includes(value)) return true;
    if (['false', 'False', 'FALSE'].includes(value)) return false;
    this.problem(name, `Input "${name}" must be true or false, got "${value}".`);
    return fallback;
  }

  oneOf<T extends string>(name: string, fallback: T, allowed: readonly T[]): T {
    const value = this.raw(name);
    if (value === '') return fallback;
    if ((allowed as readonly string[]).includes(value)) return value as T;
    this.problem(name, `Input "${name}" must be one of ${allowed.join(', ')}, got "${value}".`);
    return fallback;
  }

  /** Items separated by commas or newlines, trimmed, empties dropped. */
  list(name: string, fallback = ''): string[] {
    return (this.raw(name) || fallback)
      .split(/[,\n]/)
      .map((s) => s.trim())
      .filter(Boolean);
  }
}
