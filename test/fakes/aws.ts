/**
 * Loopback fake of AWS IAM + STS (the AWS Query protocol: form-encoded requests,
 * XML answers) and AWS Organizations (AWS JSON 1.1: `X-Amz-Target`, JSON bodies),
 * for tests, the demo and benchmarks.
 *
 * One `node:http` server answers all three; a request with an
 * `X-Amz-Target: AWSOrganizationsV20161128.*` header is Organizations, else the
 * `Version` parameter chooses (2010-05-08 = IAM, 2011-06-15 = STS). Point
 * `AWS_ENDPOINT_URL_IAM`, `AWS_ENDPOINT_URL_STS` and
 * `AWS_ENDPOINT_URL_ORGANIZATIONS` (or the clients' `endpoint` option) at
 * {@link FakeAws.url}. Signatures are parsed but never verified.
 *
 * One account (`account`) or many (`accounts`, the first being the "hub": the
 * organisation's management account). A request is served from the account its
 * credentials belong to: credentials from `AssumeRole` or
 * `AssumeRoleWithWebIdentity` into a role of a listed account are served from
 * that account; any other caller (a hub user's key, a made-up key, an unsigned
 * request) from the hub. Each account has its own users, keys, alias, root keys,
 * credential report and throttling bucket.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

// ---------------------------------------------------------------------------
// Public types
// ---------------------------------------------------------------------------

export interface FakeKeyLastUsed {
  date: string;
  service: string;
  region: string;
}

export interface FakeKey {
  /** e.g. 'AKIAEXAMPLEALICE0001' */
  id: string;
  status: 'Active' | 'Inactive';
  /** ISO 8601, e.g. '2024-01-15T10:20:30Z' */
  created: string;
  /** Absent = never used. */
  lastUsed?: FakeKeyLastUsed;
}

/** One IAM tag. IAM keeps a key's case as written. */
export interface FakeTag {
  key: string;
  value: string;
}

export interface FakeUser {
  name: string;
  /** Default: the oldest key's creation time, else 2020-01-01. */
  created?: string;
  /** Default '/'. */
  path?: string;
  keys: FakeKey[];
  /** Served by ListUserTags and GetAccountAuthorizationDetails, in this order. Default none. */
  tags?: FakeTag[];
}

export interface FakeRootKey {
  active: boolean;
  created: string;
  lastUsed?: FakeKeyLastUsed;
}

/** Organizations' account `State`. */
export type FakeAccountState = 'ACTIVE' | 'SUSPENDED' | 'PENDING_CLOSURE' | 'PENDING_ACTIVATION' | 'CLOSED';
/** Organizations' older account `Status` (retired by AWS on 9 September 2026 in favour of `State`). */
export type FakeAccountStatus = 'ACTIVE' | 'SUSPENDED' | 'PENDING_CLOSURE';

export interface FakeAccount {
  /** e.g. '111111111111' */
  accountId: string;
  /** ListAccountAliases answers [] when absent. */
  alias?: string;
  /** Default 'aws'; used in ARNs. */
  partition?: 'aws' | 'aws-cn' | 'aws-us-gov';
  users: FakeUser[];
  /** 0..2; goes in the report's `<root_account>` row and GetAccountSummary AccountAccessKeysPresent. */
  rootKeys?: FakeRootKey[];
  /** Root user creation time (report `<root_account>` row). Default 2015-01-01T00:00:00Z. */
  created?: string;

  // -- in an organisation (`accounts`) -------------------------------------------

  /** Organizations' name for the account. Default: the alias, else `Account <id>`. */
  name?: string;
  /** Default `aws+<id>@example.com`. */
  email?: string;
  /** Organizations' `State`. Default ACTIVE. */
  state?: FakeAccountState;
  /** Organizations' older `Status`. Default: from `state` (CLOSED → SUSPENDED, PENDING_ACTIVATION → ACTIVE). */
  status?: FakeAccountStatus;
  /** The root (`r-…`) or OU (`ou-…`) the account sits in. Default: the root. */
  parent?: string;
  /** The member role's trust policy refuses every caller: AssumeRole and AssumeRoleWithWebIdentity answer AccessDenied. */
  refuseAssumeRole?: boolean;
  /** Report behaviour of this account, instead of the fake's `report`. */
  report?: FakeReportOptions;
  /** Actions denied in this account only (on top of the fake's `deny`). Live. */
  deny?: string[];
  /** Scripted failures of this account only, served before the fake's `failures`. Live. */
  failures?: Record<string, string[]>;
}

export interface FakeReportOptions {
  /**
   * How many GenerateCredentialReport answers are not COMPLETE: the first is
   * STARTED, any further ones INPROGRESS, then COMPLETE. Default 1 (STARTED, then
   * COMPLETE on the next call). 0 = COMPLETE at once. While the report is being
   * generated, a GetCredentialReport call also counts as a poll (it answers
   * ReportInProgress while polls remain, else completes and serves the report),
   * so clients that poll GetCredentialReport instead never loop forever.
   */
  inProgressPolls?: number;
  /** Users as they were when the report was generated (report lag). Default: the live users at generation time. */
  snapshotUsers?: FakeUser[];
  /** GeneratedTime of the report; default: time of the COMPLETE generation. */
  generatedAt?: string;
  /** Raw CSV to serve instead of generating one. */
  csv?: string;
  /**
   * Generation takes this long in real time: the first GenerateCredentialReport answers STARTED,
   * later ones INPROGRESS (and GetCredentialReport ReportInProgress) until this many ms have
   * passed since that first call, then COMPLETE. Per account. Replaces `inProgressPolls`.
   */
  generationMs?: number;
}

export interface FakeOrganizationalUnit {
  /** `ou-<root suffix>-<8 to 32 of [a-z0-9]>`, e.g. 'ou-ab12-11111111' */
  id: string;
  name: string;
  /** Nested OUs. */
  units?: FakeOrganizationalUnit[];
}

export interface FakeOrganization {
  /** Default 'o-a1b2c3d4e5'. */
  id?: string;
  /** Default 'r-ab12'. */
  rootId?: string;
  /** The OUs under the root, nested. */
  units?: FakeOrganizationalUnit[];
  /** The management account. Default: the hub (the first account). */
  managementAccountId?: string;
  /** Member accounts that may also call the read-only APIs (delegated administrators). */
  delegatedAdministrators?: string[];
  /** Most items on a page (MaxResults wins if smaller). Default 20, as Organizations. */
  pageSize?: number;
  /** Every page that has a next page is one item short. */
  shortPages?: boolean;
  /** 0-based numbers of the pages of every listing that come back empty with a NextToken, as Organizations does. */
  emptyPages?: number[];
  /** The account status fields answered. Default 'both'. */
  accountFields?: 'both' | 'state' | 'status';
}

export interface FakeAwsOptions {
  /** The one account (the hub when `accounts` is also given). */
  account?: FakeAccount;
  /** Many accounts; the first is the hub (unless `account` is given). */
  accounts?: FakeAccount[];
  /**
   * The AWS organisation of the accounts. Default: one whose root holds every account, managed by
   * the hub. `false`: not in an organisation (AWSOrganizationsNotInUseException).
   */
  organization?: FakeOrganization | false;
  /**
   * The role that exists in every account but the hub. When set, AssumeRole (and
   * AssumeRoleWithWebIdentity) into another role of a non-hub account, or into any role of an
   * account the fake does not have, answers AccessDenied as AWS does. Default: every role exists.
   */
  memberRoleName?: string;
  /**
   * Sessions issued by STS last this long, whatever DurationSeconds asked (the answer's
   * Expiration says so); a request signed with an expired session answers ExpiredToken.
   * Default: DurationSeconds.
   */
  sessionLifetimeMs?: number;
  /** Report behaviour. */
  report?: FakeReportOptions;
  /** IAM/STS/Organizations actions that answer AccessDenied (HTTP 403; Organizations: AccessDeniedException, 400). */
  deny?: string[];
  /**
   * Per-action scripted error codes served (in order) before the real answer,
   * e.g. `{ ListAccessKeys: ['Throttling', 'Throttling'] }`. See {@link ERRORS}
   * for the known codes; unknown codes answer 400/Sender. Organizations actions take
   * {@link ORGANIZATIONS_ERRORS} types, or a Query code with an equivalent (`Throttling` is
   * TooManyRequestsException). Served after the expired-session check, before throttling, membership and deny.
   */
  failures?: Record<string, string[]>;
  /** Token bucket of each account's IAM requests: past `rate` requests/s with `burst` capacity, answer Throttling. */
  throttle?: { rate: number; burst: number };
  /** Latency in ms added before every IAM and Organizations answer. Default 0. */
  latencyMs?: number;
  /** Page size cap for ListUsers / ListAccessKeys / ListUserTags (MaxItems wins if smaller). Default 100. */
  pageSize?: number;
  /**
   * Page size cap for GetAccountAuthorizationDetails (MaxItems wins if smaller), for an IAM that
   * answers fewer than MaxItems, as its documentation allows. Default: `pageSize`.
   */
  authorizationDetailsPageSize?: number;
  /** Every truncated page is one item shorter than the page size (as IAM sometimes does). */
  shortPages?: boolean;
  /** STS: the `aud` the web identity token must carry; mismatch → InvalidIdentityToken. Default: any. */
  expectedAudience?: string;
  /** STS: the exact web identity token required. Default: any non-empty token. */
  expectedToken?: string;
  /**
   * The first `calls` successful GetCredentialReport answers arrive cut short, as a proxy or a
   * dropped connection leaves them, with a Content-Length that matches (so HTTP sees a whole
   * answer): `inside` cuts through the base64 `<Content>`, `end` after it, before the root
   * element closes. Default `inside`.
   */
  cutCredentialReport?: { calls: number; where?: 'inside' | 'end' };
  /** Per action, how many requests are read and never answered (a hung endpoint). Recorded with status 0. */
  hang?: Record<string, number>;
}

export interface RecordedRequest {
  /** By X-Amz-Target, else by Version param: 2010-05-08 = iam, 2011-06-15 = sts. */
  service: 'iam' | 'sts' | 'organizations';
  action: string;
  /** The decoded form body (plus any query string parameters), unmasked; Organizations: the JSON body's fields, non-strings as JSON. */
  params: Record<string, string>;
  /** The account the request was served from (the caller's). */
  account: string;
  /** From the SigV4 `Credential=AKID/date/REGION/SERVICE/aws4_request`. */
  accessKeyId?: string;
  signingRegion?: string;
  signingService?: string;
  /** HTTP status answered. */
  status: number;
  errorCode?: string;
  /** Date.now() when answered. */
  at: number;
}

export interface IssuedCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
}

/** One UpdateAccessKey that changed (or confirmed) a key's status. */
export interface FakeKeyUpdate {
  account: string;
  user: string;
  accessKeyId: string;
  status: 'Active' | 'Inactive';
  /** The status before the call. */
  was: 'Active' | 'Inactive';
  /** Date.now() when answered. */
  at: number;
}

/** A role session STS handed out. */
export interface FakeSession {
  accessKeyId: string;
  action: 'AssumeRole' | 'AssumeRoleWithWebIdentity';
  roleArn: string;
  /** The role's account, which the session's requests are served from. */
  account: string;
  /** `arn:aws:sts::ACCOUNT:assumed-role/NAME/SESSION` */
  arn: string;
  /** Date.now() at which it expires. */
  expiresAt: number;
}

export interface FakeAws {
  /** 'http://127.0.0.1:PORT' */
  url: string;
  requests: RecordedRequest[];
  /** Number of recorded requests, optionally only those for `action`, and only those served from `account`. */
  count(action?: string, account?: string): number;
  /** Requests answered Throttling (scripted or bucket). */
  readonly throttled: number;
  /** Credentials handed out by AssumeRole and AssumeRoleWithWebIdentity (so tests can assert they never leak). */
  issuedCredentials: IssuedCredentials[];
  /** Every session handed out, in order. */
  sessions: FakeSession[];
  /** Every successful UpdateAccessKey, in order (the key's status in `accounts` is changed too). */
  keyUpdates: FakeKeyUpdate[];
  /** The hub: live, mutable state; reassigning it is fine too. */
  account: FakeAccount;
  /** Every account, the hub first: live (accounts may be pushed or changed). */
  accounts: FakeAccount[];
  /** The organisation, live; `false` when not in one. */
  organization: FakeOrganization | false;
  /** Live queue of scripted failures (per action); tests may push more between runs. */
  failures: Record<string, string[]>;
  /** Live set of denied actions. */
  deny: Set<string>;
  /** Forget every account's generated report (next GenerateCredentialReport starts over), optionally with new report options. */
  resetReport(report?: FakeReportOptions): void;
  /** Clear `requests` and the `throttled` counter. */
  resetRequests(): void;
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------
// Protocol constants and helpers
// ---------------------------------------------------------------------------

const IAM_VERSION = '2010-05-08';
const STS_VERSION = '2011-06-15';
const NAMESPACE = {
  iam: `https://iam.amazonaws.com/doc/${IAM_VERSION}/`,
  sts: `https://sts.amazonaws.com/doc/${STS_VERSION}/`,
} as const;

const IAM_ACTIONS = new Set([
  'ListUsers',
  'ListAccessKeys',
  'GetAccessKeyLastUsed',
  'GenerateCredentialReport',
  'GetCredentialReport',
  'ListAccountAliases',
  'GetAccountSummary',
  'ListUserTags',
  'GetAccountAuthorizationDetails',
  'UpdateAccessKey',
]);
const STS_ACTIONS = new Set(['AssumeRole', 'AssumeRoleWithWebIdentity', 'GetCallerIdentity']);
const ORGANIZATIONS_TARGET = 'AWSOrganizationsV20161128';
const ORGANIZATIONS_ACTIONS = new Set([
  'DescribeOrganization',
  'ListRoots',
  'ListAccounts',
  'ListAccountsForParent',
  'ListChildren',
  'ListOrganizationalUnitsForParent',
]);
/** The longest session of a role assumed with another role's credentials (role chaining). */
const CHAINED_SESSION_SECONDS = 3600;
/** Actions the SDK sends without a SigV4 signature. */
const UNSIGNED_ACTIONS = new Set(['AssumeRoleWithWebIdentity']);

const DEFAULT_USER_CREATED = '2020-01-01T00:00:00Z';
const DEFAULT_ROOT_CREATED = '2015-01-01T00:00:00Z';
const DAY_MS = 86_400_000;

/** Known error codes: HTTP status, fault type and a realistic default message. */
export const ERRORS: Record<string, { status: number; type: 'Sender' | 'Receiver'; message: string }> = {
  Throttling: { status: 400, type: 'Sender', message: 'Rate exceeded' },
  ServiceFailure: {
    status: 500,
    type: 'Receiver',
    message: 'The request processing has failed because of an unknown error, exception or failure.',
  },
  InternalFailure: { status: 500, type: 'Receiver', message: 'We encountered an internal error. Please try again.' },
  ServiceUnavailable: { status: 503, type: 'Receiver', message: 'Service is unable to handle request.' },
  LimitExceeded: {
    status: 409,
    type: 'Sender',
    message: 'The request was rejected because it attempted to create resources beyond the current AWS account limits.',
  },
  InvalidIdentityToken: {
    status: 400,
    type: 'Sender',
    message: 'No OpenIDConnect provider found in your account for https://token.actions.githubusercontent.com',
  },
  IDPCommunicationError: {
    status: 400,
    type: 'Sender',
    message:
      'The request could not be fulfilled because the identity provider (IDP) that was asked to verify the incoming identity token could not be reached.',
  },
  ExpiredTokenException: { status: 400, type: 'Sender', message: 'Token expired' },
  /** IAM's answer when the caller's session credentials have run out. */
  ExpiredToken: { status: 403, type: 'Sender', message: 'The security token included in the request is expired' },
  AccessDenied: { status: 403, type: 'Sender', message: 'Access denied' },
  InvalidClientTokenId: {
    status: 403,
    type: 'Sender',
    message: 'The security token included in the request is invalid.',
  },
  MissingAuthenticationToken: { status: 403, type: 'Sender', message: 'Request is missing Authentication Token' },
  ReportNotPresent: {
    status: 410,
    type: 'Sender',
    message:
      'The request was rejected because the credential report does not exist. To generate a credential report, use GenerateCredentialReport.',
  },
  ReportExpired: {
    status: 410,
    type: 'Sender',
    message:
      'The request was rejected because the most recent credential report has expired. To generate a new credential report, use GenerateCredentialReport.',
  },
  ReportInProgress: {
    status: 404,
    type: 'Sender',
    message: 'The request was rejected because the credential report is still being generated.',
  },
  NoSuchEntity: { status: 404, type: 'Sender', message: 'The entity cannot be found.' },
  ValidationError: { status: 400, type: 'Sender', message: 'Validation error' },
  InvalidAction: { status: 400, type: 'Sender', message: 'The action is not valid for this web service.' },
};

/**
 * Organizations' errors (AWS JSON 1.1: `{"__type", "message"}`), by `__type`. A Query-protocol code
 * scripted for an Organizations action is answered as its Organizations equivalent.
 */
export const ORGANIZATIONS_ERRORS: Record<string, { status: number; message: string }> = {
  AccessDeniedException: { status: 400, message: "You don't have permissions to access this resource." },
  AWSOrganizationsNotInUseException: { status: 400, message: 'Your account is not a member of an organization.' },
  TooManyRequestsException: {
    status: 400,
    message: "AWS Organizations can't complete your request because the request rate is too high. Try again later.",
  },
  ServiceException: {
    status: 500,
    message: "AWS Organizations can't complete your request because of an internal service error. Try again later.",
  },
  ConcurrentModificationException: {
    status: 400,
    message: 'The target of the operation is currently being modified by a different request. Try again later.',
  },
  InvalidInputException: { status: 400, message: 'You provided a value that does not match the required pattern.' },
  ParentNotFoundException: { status: 400, message: "We can't find a root or OU with the ParentId that you specified." },
  ExpiredTokenException: { status: 400, message: 'The security token included in the request is expired' },
  MissingAuthenticationTokenException: { status: 403, message: 'Missing Authentication Token' },
  UnknownOperationException: { status: 400, message: 'Unknown operation' },
};
const ORGANIZATIONS_ALIASES: Record<string, string> = {
  AccessDenied: 'AccessDeniedException',
  Throttling: 'TooManyRequestsException',
  TooManyRequests: 'TooManyRequestsException',
  ServiceFailure: 'ServiceException',
  InternalFailure: 'ServiceException',
  ServiceUnavailable: 'ServiceException',
  ExpiredToken: 'ExpiredTokenException',
  MissingAuthenticationToken: 'MissingAuthenticationTokenException',
  InvalidAction: 'UnknownOperationException',
  ValidationError: 'InvalidInputException',
};

/** An error answered as an `<ErrorResponse>`. */
class ApiError extends Error {
  readonly code: string;
  readonly status: number;
  readonly type: 'Sender' | 'Receiver';
  constructor(code: string, message?: string) {
    const known = ERRORS[code];
    super(message ?? known?.message ?? code);
    this.code = code;
    this.status = known?.status ?? 400;
    this.type = known?.type ?? 'Sender';
  }
}

/** XML-escapes text content and attribute values. */
export function xmlEscape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&${{ '&': 'amp', '<': 'lt', '>': 'gt', '"': 'quot', "'": 'apos' }[c]};`);
}

/** `<name>escaped text</name>` (text) or `<name>…</name>` (pre-built children). */
const tag = (name: string, text: string): string => `<${name}>${xmlEscape(text)}</${name}>`;
const node = (name: string, children: string): string => `<${name}>${children}</${name}>`;
const members = (items: string[]): string => items.map((i) => node('member', i)).join('');

/** ISO 8601 in UTC without milliseconds, as IAM serializes timestamps: 2024-01-15T10:20:30Z. */
function xmlTime(value: string | Date): string {
  return toDate(value)
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z');
}

/** The credential report's date format: 2024-01-15T10:20:30+00:00. */
function reportTime(value: string): string {
  return toDate(value).toISOString().slice(0, 19) + '+00:00';
}

function toDate(value: string | Date): Date {
  const date = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(date.getTime())) throw new RangeError(`fake-aws: invalid date ${String(value)}`);
  return date;
}

const ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** Deterministic IAM-style unique id (e.g. AIDA + 17 chars) derived from `seed`. */
function stableId(prefix: string, seed: string): string {
  const digest = createHash('sha256').update(seed).digest();
  let out = prefix;
  for (let i = 0; i < 17; i++) out += ID_ALPHABET[digest[i]! % 32];
  return out;
}

/** Random IAM-style id of `length` chars after `prefix`. */
function randomId(prefix: string, length: number): string {
  const bytes = randomBytes(length);
  let out = prefix;
  for (const b of bytes) out += ID_ALPHABET[b % 32];
  return out;
}

const partitionOf = (account: FakeAccount): string => account.partition ?? 'aws';
const userArn = (account: FakeAccount, user: Pick<FakeUser, 'name' | 'path'>): string =>
  `arn:${partitionOf(account)}:iam::${account.accountId}:user${user.path ?? '/'}${user.name}`;

function userCreated(user: FakeUser): string {
  if (user.created) return user.created;
  let oldest: number | undefined;
  for (const key of user.keys) {
    const t = toDate(key.created).getTime();
    if (oldest === undefined || t < oldest) oldest = t;
  }
  return oldest === undefined ? DEFAULT_USER_CREATED : new Date(oldest).toISOString();
}

/** Keys in order of creation (stable for equal times). */
function keysByCreation<K extends { created: string }>(keys: readonly K[]): K[] {
  return keys
    .map((key, i) => ({ key, i, t: toDate(key.created).getTime() }))
    .sort((a, b) => a.t - b.t || a.i - b.i)
    .map((e) => e.key);
}

// ---------------------------------------------------------------------------
// Credential report CSV
// ---------------------------------------------------------------------------

export const CREDENTIAL_REPORT_COLUMNS = [
  'user',
  'arn',
  'user_creation_time',
  'password_enabled',
  'password_last_used',
  'password_last_changed',
  'password_next_rotation',
  'mfa_active',
  'access_key_1_active',
  'access_key_1_last_rotated',
  'access_key_1_last_used_date',
  'access_key_1_last_used_region',
  'access_key_1_last_used_service',
  'access_key_2_active',
  'access_key_2_last_rotated',
  'access_key_2_last_used_date',
  'access_key_2_last_used_region',
  'access_key_2_last_used_service',
  'cert_1_active',
  'cert_1_last_rotated',
  'cert_2_active',
  'cert_2_last_rotated',
] as const;

/** RFC 4180: quote only when needed. */
function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** The five access_key_N_* cells for one slot. */
function keySlot(key: { active: boolean; created: string; lastUsed?: FakeKeyLastUsed } | undefined): string[] {
  if (!key) return ['false', 'N/A', 'N/A', 'N/A', 'N/A'];
  const used = key.lastUsed;
  return [
    String(key.active),
    reportTime(key.created),
    used ? reportTime(used.date) : 'N/A',
    used ? used.region : 'N/A',
    used ? used.service : 'N/A',
  ];
}

/**
 * Builds the credential report CSV for `users` (default: the account's users,
 * in the given order) plus the `<root_account>` row, as IAM does.
 */
export function credentialReportCsv(account: FakeAccount, users: FakeUser[] = account.users): string {
  const partition = partitionOf(account);
  const noCerts = ['false', 'N/A', 'false', 'N/A'];
  const rows: string[][] = [[...CREDENTIAL_REPORT_COLUMNS]];

  const rootKeys = keysByCreation(account.rootKeys ?? []);
  rows.push([
    '<root_account>',
    `arn:${partition}:iam::${account.accountId}:root`,
    reportTime(account.created ?? DEFAULT_ROOT_CREATED),
    'not_supported',
    'no_information',
    'not_supported',
    'not_supported',
    'true',
    ...keySlot(rootKeys[0]),
    ...keySlot(rootKeys[1]),
    ...noCerts,
  ]);

  for (const user of users) {
    const keys = keysByCreation(user.keys).map((k) => ({ ...k, active: k.status === 'Active' }));
    rows.push([
      user.name,
      userArn(account, user),
      reportTime(userCreated(user)),
      'false',
      'N/A',
      'N/A',
      'N/A',
      'false',
      ...keySlot(keys[0]),
      ...keySlot(keys[1]),
      ...noCerts,
    ]);
  }
  return rows.map((row) => row.map(csvField).join(',') + '\n').join('');
}

// ---------------------------------------------------------------------------
// Deterministic seeding
// ---------------------------------------------------------------------------

/** mulberry32: tiny seeded PRNG returning floats in [0, 1). */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/**
 * Seeds a large deterministic account: `users` users with 1 or 2 keys each;
 * about `staleRatio` (default 0.05) of keys are older than `maxAgeDays`
 * (default 90) relative to `now`, about 10% of keys are Inactive and about 20%
 * never used. Stale keys are at least maxAgeDays+1 whole days old and fresh
 * ones at most maxAgeDays-2, so the truth set does not depend on how a day
 * boundary is counted (for maxAgeDays >= 2). `staleKeyIds` = active keys whose
 * age in whole UTC days (floor((now - created) / 1 day)) is >= maxAgeDays, in
 * account order (users in order, each user's keys in creation order).
 *
 * About `taggedRatio` (default 0) of users carry tags: an `owner` (an email address) and a `team`.
 * They are drawn from a stream of their own, so the users and keys are the same with or without.
 */
export function seedAccount(opts: {
  users: number;
  now: Date;
  maxAgeDays?: number;
  staleRatio?: number;
  accountId?: string;
  seed?: number;
  taggedRatio?: number;
}): { account: FakeAccount; staleKeyIds: string[] } {
  const { users: userCount, now } = opts;
  const maxAgeDays = opts.maxAgeDays ?? 90;
  const staleRatio = opts.staleRatio ?? 0.05;
  const rand = mulberry32(opts.seed ?? 1);
  const tagRand = mulberry32((opts.seed ?? 1) ^ 0x5eed7a95);
  const taggedRatio = opts.taggedRatio ?? 0;
  const teams = ['payments', 'platform', 'data', 'web', 'mobile'] as const;
  const nowMs = now.getTime();
  const int = (lo: number, hi: number): number => lo + Math.floor(rand() * (hi - lo + 1));
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)]!;
  const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

  const prefixes = ['svc', 'ci', 'app', 'deploy', 'batch', 'etl', 'backup', 'report'] as const;
  const services = ['s3', 'sts', 'ec2', 'dynamodb', 'sqs', 'lambda', 'iam'] as const;
  const regions = ['us-east-1', 'us-west-2', 'eu-west-1', 'ap-southeast-2'] as const;
  const width = Math.max(5, String(userCount).length);

  let keyCounter = 0;
  const keyId = (): string => {
    let serial = '';
    for (let n = keyCounter++, i = 0; i < 6; i++, n = Math.floor(n / 32)) serial = ID_ALPHABET[n % 32] + serial;
    let tail = '';
    for (let i = 0; i < 10; i++) tail += ID_ALPHABET[Math.floor(rand() * 32)];
    return `AKIA${serial}${tail}`;
  };

  const users: FakeUser[] = [];
  const staleKeyIds: string[] = [];
  for (let u = 0; u < userCount; u++) {
    const keyCount = rand() < 0.3 ? 2 : 1;
    const keys: FakeKey[] = [];
    for (let k = 0; k < keyCount; k++) {
      const stale = rand() < staleRatio;
      const ageDays = stale ? int(maxAgeDays + 1, maxAgeDays + 400) : int(0, Math.max(0, maxAgeDays - 2));
      // Random time of day inside the age's day, never in the future.
      const createdMs = nowMs - ageDays * DAY_MS - Math.floor(rand() * (DAY_MS - 1000));
      const status: FakeKey['status'] = rand() < 0.1 ? 'Inactive' : 'Active';
      const key: FakeKey = { id: keyId(), status, created: iso(createdMs) };
      if (rand() >= 0.2) {
        const usedMs = createdMs + Math.floor(rand() * (nowMs - createdMs));
        key.lastUsed = { date: iso(usedMs), service: pick(services), region: pick(regions) };
      }
      keys.push(key);
    }
    const sortedKeys = keysByCreation(keys);
    for (const key of sortedKeys) {
      const ageDays = Math.floor((nowMs - toDate(key.created).getTime()) / DAY_MS);
      if (key.status === 'Active' && ageDays >= maxAgeDays) staleKeyIds.push(key.id);
    }
    const oldest = toDate(sortedKeys[0]!.created).getTime();
    const user: FakeUser = {
      name: `${pick(prefixes)}-${String(u).padStart(width, '0')}`,
      path: '/',
      created: iso(oldest - int(0, 30) * DAY_MS),
      keys: sortedKeys,
    };
    if (taggedRatio > 0 && tagRand() < taggedRatio) {
      const team = teams[Math.floor(tagRand() * teams.length)]!;
      user.tags = [
        { key: 'owner', value: `${team}-${String(u).padStart(width, '0')}@example.com` },
        { key: 'team', value: team },
      ];
    }
    users.push(user);
  }
  return { account: { accountId: opts.accountId ?? '111111111111', users }, staleKeyIds };
}

/**
 * Seeds a deterministic organisation of `accounts` accounts (IDs from 111111111111 up; the first
 * is the hub, the management account, in the root) of `usersPerAccount` users each, seeded as
 * {@link seedAccount} does (each account with its own seed). `ous` gives the OUs per level under
 * the root: `[3, 2]` is 3 OUs under the root with 2 nested OUs each. The other accounts are dealt
 * round-robin over every OU (nested ones included), or into the root when there are none; the
 * last `suspended` accounts are SUSPENDED. `staleKeyIds` per account ID, as `seedAccount` says.
 */
export function seedOrganization(opts: {
  accounts: number;
  usersPerAccount: number;
  now: Date;
  maxAgeDays?: number;
  staleRatio?: number;
  seed?: number;
  ous?: number[];
  suspended?: number;
}): { accounts: FakeAccount[]; organization: FakeOrganization; staleKeyIds: Map<string, string[]> } {
  const rootId = 'r-ab12';
  const all: FakeOrganizationalUnit[] = [];
  let serial = 0;
  const makeLevel = (depth: number, path: string): FakeOrganizationalUnit[] => {
    const count = opts.ous?.[depth] ?? 0;
    return Array.from({ length: count }, (_, i) => {
      const name = `${path}${path ? '/' : ''}ou-${depth + 1}.${i + 1}`;
      const unit: FakeOrganizationalUnit = {
        id: `ou-ab12-${(serial++).toString(36).padStart(8, '0')}`,
        name,
      };
      all.push(unit);
      const units = makeLevel(depth + 1, name);
      if (units.length > 0) unit.units = units;
      return unit;
    });
  };
  const units = makeLevel(0, '');
  const base = opts.seed ?? 1;
  const accounts: FakeAccount[] = [];
  const staleKeyIds = new Map<string, string[]>();
  const suspendedFrom = opts.accounts - (opts.suspended ?? 0);
  for (let i = 0; i < opts.accounts; i++) {
    const accountId = String(111_111_111_111 + i);
    const seeded = seedAccount({
      users: opts.usersPerAccount,
      now: opts.now,
      maxAgeDays: opts.maxAgeDays,
      staleRatio: opts.staleRatio,
      accountId,
      seed: base * 100_003 + i,
    });
    const account: FakeAccount = {
      ...seeded.account,
      alias: `acct-${String(i).padStart(4, '0')}`,
      name: i === 0 ? 'Management' : `Workload ${String(i).padStart(4, '0')}`,
      parent: i === 0 || all.length === 0 ? rootId : all[(i - 1) % all.length]!.id,
      ...(i >= suspendedFrom && i > 0 && { state: 'SUSPENDED' as const }),
    };
    accounts.push(account);
    staleKeyIds.set(accountId, seeded.staleKeyIds);
  }
  return { accounts, organization: { rootId, units }, staleKeyIds };
}

// ---------------------------------------------------------------------------
// Server
// ---------------------------------------------------------------------------

/** Lookup structures over a live account, rebuilt when it changes. */
interface AccountIndex {
  account: FakeAccount;
  source: FakeUser[];
  length: number;
  /** Users sorted by name (ListUsers order). */
  sorted: FakeUser[];
  byName: Map<string, FakeUser>;
  byKeyId: Map<string, { user: FakeUser; key: FakeKey }>;
}

function buildIndex(account: FakeAccount): AccountIndex {
  const sorted = [...account.users].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const byName = new Map<string, FakeUser>();
  const byKeyId = new Map<string, { user: FakeUser; key: FakeKey }>();
  for (const user of sorted) {
    byName.set(user.name, user);
    for (const key of user.keys) byKeyId.set(key.id, { user, key });
  }
  return { account, source: account.users, length: account.users.length, sorted, byName, byKeyId };
}

interface SigV4 {
  accessKeyId: string;
  region: string;
  service: string;
}

/** Parses `AWS4-HMAC-SHA256 Credential=AKID/date/region/service/aws4_request, ...` (no verification). */
function parseAuthorization(header: string | undefined): SigV4 | undefined {
  const match = header && /Credential=([^/,\s]+)\/\d{8}\/([^/]+)\/([^/]+)\/aws4_request/.exec(header);
  if (!match) return undefined;
  return { accessKeyId: match[1]!, region: match[2]!, service: match[3]! };
}

interface Caller {
  arn: string;
  userId: string;
  account: string;
}

interface Session extends IssuedCredentials {
  arn: string;
  userId: string;
  account: string;
  expiresAt: number;
}

type ReportPhase =
  | { phase: 'none' }
  /** Done when no polls are `pending`, or at `readyAt` (Date.now()) when generation takes real time. */
  | { phase: 'generating'; pending: number; readyAt?: number }
  | { phase: 'complete'; csv: string; generatedAt: string };

/** What the fake keeps per account. */
interface AccountContext {
  account: FakeAccount;
  index?: AccountIndex;
  report: ReportPhase;
  bucket?: { rate: number; burst: number; tokens: number; last: number };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Decodes a JWT's payload claims, or undefined if `token` is not a JWT. */
function jwtClaims(token: string): Record<string, unknown> | undefined {
  const parts = token.split('.');
  if (parts.length !== 3 || !parts[1]) return undefined;
  try {
    const claims: unknown = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
    return claims && typeof claims === 'object' ? (claims as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Opaque pagination marker for `kind` at `offset`. */
const encodeMarker = (kind: string, offset: number): string =>
  Buffer.from(`${kind}:${offset}`, 'utf8').toString('base64');

function decodeMarker(kind: string, marker: string | undefined): number {
  if (marker === undefined || marker === '') return 0;
  const [k, n] = Buffer.from(marker, 'base64').toString('utf8').split(':');
  const offset = Number(n);
  if (k !== kind || !Number.isInteger(offset) || offset < 0) throw new ApiError('ValidationError', 'Invalid Marker.');
  return offset;
}

/** Organizations' opaque NextToken: which listing, where it stands, and the number of the next page. */
interface NextToken {
  kind: string;
  offset: number;
  page: number;
}

const encodeNextToken = (token: NextToken): string => Buffer.from(JSON.stringify(token), 'utf8').toString('base64url');

function decodeNextToken(value: unknown): NextToken | undefined {
  if (typeof value !== 'string') return undefined;
  try {
    const token = JSON.parse(Buffer.from(value, 'base64url').toString('utf8')) as Partial<NextToken>;
    const { kind, offset, page } = token;
    if (typeof kind !== 'string' || !Number.isInteger(offset) || !Number.isInteger(page)) return undefined;
    if (offset! < 0 || page! < 0) return undefined;
    return { kind, offset: offset!, page: page! };
  } catch {
    return undefined;
  }
}

/** Starts the fake on 127.0.0.1 with a free port. */
export async function startFakeAws(options: FakeAwsOptions): Promise<FakeAws> {
  let accounts: FakeAccount[] = [...(options.account ? [options.account] : []), ...(options.accounts ?? [])];
  if (accounts.length === 0) throw new Error('fake-aws: give `account` or `accounts`');
  let organization: FakeOrganization | false = options.organization ?? {};
  let reportOptions: FakeReportOptions = options.report ?? {};
  let throttled = 0;
  const requests: RecordedRequest[] = [];
  const issuedCredentials: IssuedCredentials[] = [];
  const sessionList: FakeSession[] = [];
  const sessions = new Map<string, Session>();
  const failures: Record<string, string[]> = Object.fromEntries(
    Object.entries(options.failures ?? {}).map(([action, codes]) => [action, [...codes]]),
  );
  const deny = new Set(options.deny ?? []);
  const pageSizeCap = options.pageSize ?? 100;
  const keyUpdates: FakeKeyUpdate[] = [];

  // -- accounts ------------------------------------------------------------------

  const hub = (): FakeAccount => accounts[0]!;
  const contexts = new Map<string, AccountContext>();
  let byId = new Map<string, FakeAccount>();

  /** The listed account with this ID (the list is live: rebuilt on a miss). */
  function accountById(id: string): FakeAccount | undefined {
    const hit = byId.get(id);
    if (hit && hit.accountId === id && accounts.includes(hit)) return hit;
    byId = new Map(accounts.map((a) => [a.accountId, a]));
    return byId.get(id);
  }

  /** Per-account state: index, report, throttling bucket. Keeps the report when the account object is replaced. */
  function contextOf(account: FakeAccount): AccountContext {
    let ctx = contexts.get(account.accountId);
    if (!ctx) {
      ctx = { account, report: { phase: 'none' } };
      if (options.throttle) {
        ctx.bucket = { ...options.throttle, tokens: options.throttle.burst, last: Date.now() };
      }
      contexts.set(account.accountId, ctx);
    } else if (ctx.account !== account) {
      ctx.account = account;
      ctx.index = undefined;
    }
    return ctx;
  }

  /** The index, rebuilt if the account (or its user list) visibly changed or `force`. */
  function getIndex(ctx: AccountContext, force = false): AccountIndex {
    const { account, index } = ctx;
    if (
      force ||
      !index ||
      index.account !== account ||
      index.source !== account.users ||
      index.length !== account.users.length
    ) {
      ctx.index = buildIndex(account);
    }
    return ctx.index!;
  }

  /** Live user by name (rebuilds the index once on a miss or stale hit). */
  function findUser(ctx: AccountContext, name: string): FakeUser | undefined {
    const hit = getIndex(ctx).byName.get(name);
    if (hit && hit.name === name) return hit;
    return getIndex(ctx, true).byName.get(name);
  }

  /** Live key by id (rebuilds the index once on a miss or stale hit). */
  function findKey(ctx: AccountContext, id: string): { user: FakeUser; key: FakeKey } | undefined {
    const hit = getIndex(ctx).byKeyId.get(id);
    if (hit && hit.key.id === id && hit.user.keys.includes(hit.key)) return hit;
    return getIndex(ctx, true).byKeyId.get(id);
  }

  // -- identity ----------------------------------------------------------------

  /** The caller's session, whether or not it has expired. */
  const sessionOf = (accessKeyId: string | undefined): Session | undefined =>
    accessKeyId ? sessions.get(accessKeyId) : undefined;

  function callerOf(accessKeyId: string | undefined): Caller {
    const session = sessionOf(accessKeyId);
    if (session) return session;
    const account = hub();
    const owned = accessKeyId ? getIndex(contextOf(account)).byKeyId.get(accessKeyId) : undefined;
    if (owned) {
      return {
        arn: userArn(account, owned.user),
        userId: stableId('AIDA', `${account.accountId}/${owned.user.name}`),
        account: account.accountId,
      };
    }
    return {
      arn: `arn:${partitionOf(account)}:iam::${account.accountId}:user/fake-caller`,
      userId: stableId('AIDA', `${account.accountId}/fake-caller`),
      account: account.accountId,
    };
  }

  /** The account a request is served from: a session's role account when listed, else the hub. */
  function servedFrom(auth: SigV4 | undefined): FakeAccount {
    const session = sessionOf(auth?.accessKeyId);
    return (session && accountById(session.account)) ?? hub();
  }

  function accessDenied(
    ctx: AccountContext,
    service: 'iam' | 'sts',
    action: string,
    params: Record<string, string>,
    caller: Caller,
  ) {
    if (action === 'AssumeRoleWithWebIdentity') {
      return new ApiError('AccessDenied', 'Not authorized to perform sts:AssumeRoleWithWebIdentity');
    }
    const resource =
      action === 'AssumeRole' && params.RoleArn
        ? params.RoleArn
        : params.UserName
          ? userArn(ctx.account, findUser(ctx, params.UserName) ?? { name: params.UserName })
          : '*';
    return new ApiError(
      'AccessDenied',
      `User: ${caller.arn} is not authorized to perform: ${service}:${action} on resource: ${resource} ` +
        `because no identity-based policy allows the ${service}:${action} action`,
    );
  }

  /** Whether the role exists (see `memberRoleName`) and its trust policy lets callers in. */
  function roleAdmits(roleAccount: string, roleName: string): boolean {
    const account = accountById(roleAccount);
    if (account?.refuseAssumeRole) return false;
    if (options.memberRoleName === undefined || roleAccount === hub().accountId) return true;
    return account !== undefined && roleName === options.memberRoleName;
  }

  /** Hands out a role session and says so in STS's XML. */
  function issueSession(
    action: FakeSession['action'],
    partition: string,
    roleAccount: string,
    roleName: string,
    roleArn: string,
    sessionName: string,
    durationSeconds: number,
  ): { credentialsXml: string; assumedXml: string } {
    const credentials: IssuedCredentials = {
      accessKeyId: randomId('ASIA', 16),
      secretAccessKey: randomBytes(30).toString('base64'),
      sessionToken: `FwoGZXIvYXdzE${randomBytes(240).toString('base64')}`,
    };
    const roleId = stableId('AROA', `${roleAccount}/${roleName}`);
    const assumedArn = `arn:${partition}:sts::${roleAccount}:assumed-role/${roleName}/${sessionName}`;
    const expiresAt = Date.now() + (options.sessionLifetimeMs ?? durationSeconds * 1000);
    issuedCredentials.push(credentials);
    sessions.set(credentials.accessKeyId, {
      ...credentials,
      arn: assumedArn,
      userId: `${roleId}:${sessionName}`,
      account: roleAccount,
      expiresAt,
    });
    sessionList.push({
      accessKeyId: credentials.accessKeyId,
      action,
      roleArn,
      account: roleAccount,
      arn: assumedArn,
      expiresAt,
    });
    return {
      credentialsXml: node(
        'Credentials',
        tag('AccessKeyId', credentials.accessKeyId) +
          tag('SecretAccessKey', credentials.secretAccessKey) +
          tag('SessionToken', credentials.sessionToken) +
          // Whole seconds, as STS says it: never later than the session really ends.
          tag('Expiration', xmlTime(new Date(expiresAt))),
      ),
      assumedXml: node('AssumedRoleUser', tag('AssumedRoleId', `${roleId}:${sessionName}`) + tag('Arn', assumedArn)),
    };
  }

  /** The role ARN, session name and duration of an AssumeRole*, checked as STS checks them. */
  function roleRequest(params: Record<string, string>, required: ReadonlyArray<readonly [string, string]>) {
    const roleArn = params.RoleArn ?? '';
    const sessionName = params.RoleSessionName ?? '';
    for (const [field, value] of [['roleArn', roleArn], ['roleSessionName', sessionName], ...required] as const) {
      if (!value) {
        throw new ApiError(
          'ValidationError',
          `1 validation error detected: Value null at '${field}' failed to satisfy constraint: Member must not be null`,
        );
      }
    }
    const role = /^arn:(aws|aws-cn|aws-us-gov):iam::(\d{12}):role\/(?:.*\/)?([\w+=,.@-]+)$/.exec(roleArn);
    if (!role) throw new ApiError('ValidationError', `${roleArn} is invalid`);
    const [, partition = 'aws', roleAccount = '', roleName = ''] = role;
    if (!/^[\w+=,.@-]{2,64}$/.test(sessionName)) {
      throw new ApiError(
        'ValidationError',
        `1 validation error detected: Value '${sessionName}' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*`,
      );
    }
    const duration = params.DurationSeconds === undefined ? 3600 : Number(params.DurationSeconds);
    if (!Number.isInteger(duration) || duration < 900 || duration > 43200) {
      throw new ApiError(
        'ValidationError',
        `1 validation error detected: Value '${params.DurationSeconds}' at 'durationSeconds' failed to satisfy constraint: Member must have value between 900 and 43200`,
      );
    }
    return { roleArn, sessionName, partition, roleAccount, roleName, duration };
  }

  // -- throttling ---------------------------------------------------------------

  function takeToken(ctx: AccountContext): boolean {
    const bucket = ctx.bucket;
    if (!bucket) return true;
    const now = Date.now();
    bucket.tokens = Math.min(bucket.burst, bucket.tokens + ((now - bucket.last) / 1000) * bucket.rate);
    bucket.last = now;
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  // -- paging -------------------------------------------------------------------

  /** One page of `items` from the marker; honours MaxItems, the page size cap and shortPages. */
  function page<T>(kind: string, items: readonly T[], params: Record<string, string>, cap = pageSizeCap) {
    let size = cap;
    if (params.MaxItems !== undefined) {
      const maxItems = Number(params.MaxItems);
      if (!Number.isInteger(maxItems) || maxItems < 1 || maxItems > 1000) {
        throw new ApiError(
          'ValidationError',
          `1 validation error detected: Value '${params.MaxItems}' at 'maxItems' failed to satisfy constraint: Member must have value between 1 and 1000`,
        );
      }
      size = Math.min(size, maxItems);
    }
    const offset = decodeMarker(kind, params.Marker);
    const remaining = items.length - offset;
    if (remaining <= size) {
      return { items: items.slice(offset), truncated: false, xml: tag('IsTruncated', 'false') };
    }
    const take = options.shortPages ? Math.max(1, size - 1) : size;
    return {
      items: items.slice(offset, offset + take),
      truncated: true,
      xml: tag('IsTruncated', 'true') + tag('Marker', encodeMarker(kind, offset + take)),
    };
  }

  // -- credential report ----------------------------------------------------------

  const reportOptionsOf = (ctx: AccountContext): FakeReportOptions => ctx.account.report ?? reportOptions;

  function completeReport(ctx: AccountContext): Extract<ReportPhase, { phase: 'complete' }> {
    const opts = reportOptionsOf(ctx);
    const done = {
      phase: 'complete' as const,
      csv: opts.csv ?? credentialReportCsv(ctx.account, opts.snapshotUsers ?? ctx.account.users),
      generatedAt: xmlTime(opts.generatedAt ?? new Date()),
    };
    ctx.report = done;
    return done;
  }

  /** Whether a report being generated is still being generated; counts a poll when counted by polls. */
  function stillGenerating(ctx: AccountContext): boolean {
    const report = ctx.report;
    if (report.phase !== 'generating') return false;
    if (report.readyAt !== undefined) return Date.now() < report.readyAt;
    if (report.pending <= 0) return false;
    report.pending -= 1;
    return true;
  }

  // -- actions --------------------------------------------------------------------

  /** The answer's `<ActionResult>` content, or `null` for an action that answers without one (UpdateAccessKey). */
  type Handler = (params: Record<string, string>, auth: SigV4 | undefined, ctx: AccountContext) => string | null;

  const tagsXml = (tags: readonly FakeTag[]): string =>
    members(tags.map((t) => tag('Key', t.key) + tag('Value', t.value)));

  const notNull = (field: string): ApiError =>
    new ApiError(
      'ValidationError',
      `1 validation error detected: Value null at '${field}' failed to satisfy constraint: Member must not be null`,
    );

  /** The user a request names, else the signed-in IAM user (as IAM does); only a user's own key has one. */
  function namedOrCaller(params: Record<string, string>, auth: SigV4 | undefined, ctx: AccountContext): string {
    if (params.UserName) return params.UserName;
    const owned = auth ? getIndex(ctx).byKeyId.get(auth.accessKeyId) : undefined;
    if (!owned) throw new ApiError('ValidationError', 'Must specify userName when calling with non-User credentials');
    return owned.user.name;
  }

  const iam: Record<string, Handler> = {
    ListUsers(params, _auth, ctx) {
      const account = ctx.account;
      let users = getIndex(ctx, !params.Marker).sorted;
      const prefix = params.PathPrefix;
      if (prefix && prefix !== '/') users = users.filter((u) => (u.path ?? '/').startsWith(prefix));
      const p = page('users', users, params);
      const list = p.items.map(
        (u) =>
          tag('Path', u.path ?? '/') +
          tag('UserName', u.name) +
          tag('UserId', stableId('AIDA', `${account.accountId}/${u.name}`)) +
          tag('Arn', userArn(account, u)) +
          tag('CreateDate', xmlTime(userCreated(u))),
      );
      return node('Users', members(list)) + p.xml;
    },

    ListAccessKeys(params, auth, ctx) {
      // IAM falls back to the calling user; only a signed-in IAM user has one.
      const userName = namedOrCaller(params, auth, ctx);
      const user = findUser(ctx, userName);
      if (!user) throw new ApiError('NoSuchEntity', `The user with name ${userName} cannot be found.`);
      const p = page(`keys/${userName}`, keysByCreation(user.keys), params);
      const list = p.items.map(
        (k) =>
          tag('UserName', user.name) +
          tag('AccessKeyId', k.id) +
          tag('Status', k.status) +
          tag('CreateDate', xmlTime(k.created)),
      );
      return node('AccessKeyMetadata', members(list)) + p.xml;
    },

    GetAccessKeyLastUsed(params, _auth, ctx) {
      const id = params.AccessKeyId;
      if (!id) {
        throw new ApiError(
          'ValidationError',
          "1 validation error detected: Value null at 'accessKeyId' failed to satisfy constraint: Member must not be null",
        );
      }
      const found = findKey(ctx, id);
      if (!found) throw new ApiError('NoSuchEntity', `The Access Key with id ${id} cannot be found.`);
      const used = found.key.lastUsed;
      const lastUsed = used
        ? tag('LastUsedDate', xmlTime(used.date)) + tag('ServiceName', used.service) + tag('Region', used.region)
        : tag('ServiceName', 'N/A') + tag('Region', 'N/A');
      return tag('UserName', found.user.name) + node('AccessKeyLastUsed', lastUsed);
    },

    GenerateCredentialReport(_params, _auth, ctx) {
      const opts = reportOptionsOf(ctx);
      const timed = opts.generationMs !== undefined;
      const polls = timed ? 1 : (opts.inProgressPolls ?? 1);
      if (ctx.report.phase === 'none' && polls > 0) {
        ctx.report = timed
          ? { phase: 'generating', pending: 0, readyAt: Date.now() + opts.generationMs! }
          : { phase: 'generating', pending: polls - 1 };
        return tag('State', 'STARTED') + tag('Description', 'No report exists. Starting a new report generation task');
      }
      if (stillGenerating(ctx)) {
        return tag('State', 'INPROGRESS') + tag('Description', 'Report generation task is in progress');
      }
      if (ctx.report.phase !== 'complete') {
        getIndex(ctx, true);
        completeReport(ctx);
      }
      return tag('State', 'COMPLETE');
    },

    GetCredentialReport(_params, _auth, ctx) {
      if (ctx.report.phase === 'none') throw new ApiError('ReportNotPresent');
      if (stillGenerating(ctx)) throw new ApiError('ReportInProgress');
      const done = ctx.report.phase === 'complete' ? ctx.report : completeReport(ctx);
      return (
        tag('Content', Buffer.from(done.csv, 'utf8').toString('base64')) +
        tag('ReportFormat', 'text/csv') +
        tag('GeneratedTime', done.generatedAt)
      );
    },

    ListAccountAliases(_params, _auth, { account }) {
      return (
        node('AccountAliases', members(account.alias ? [xmlEscape(account.alias)] : [])) + tag('IsTruncated', 'false')
      );
    },

    ListUserTags(params, _auth, ctx) {
      const userName = params.UserName;
      if (!userName) throw notNull('userName');
      const user = findUser(ctx, userName);
      if (!user) throw new ApiError('NoSuchEntity', `The user with name ${userName} cannot be found.`);
      const p = page(`tags/${userName}`, user.tags ?? [], params);
      return node('Tags', tagsXml(p.items)) + p.xml;
    },

    GetAccountAuthorizationDetails(params, _auth, ctx) {
      const account = ctx.account;
      const filters = Object.entries(params)
        .filter(([name]) => /^Filter\.member\.\d+$/.test(name))
        .map(([, value]) => value);
      const types = ['User', 'Role', 'Group', 'LocalManagedPolicy', 'AWSManagedPolicy'];
      if (filters.some((f) => !types.includes(f))) {
        throw new ApiError(
          'ValidationError',
          `1 validation error detected: Value '[${filters.join(', ')}]' at 'filter' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: [${types.join(', ')}]]`,
        );
      }
      // The fake's accounts have users only: any other filter lists nothing.
      const users = filters.length === 0 || filters.includes('User') ? getIndex(ctx, !params.Marker).sorted : [];
      const p = page('details', users, params, options.authorizationDetailsPageSize ?? pageSizeCap);
      const list = p.items.map(
        (u) =>
          tag('Path', u.path ?? '/') +
          tag('UserName', u.name) +
          tag('UserId', stableId('AIDA', `${account.accountId}/${u.name}`)) +
          tag('Arn', userArn(account, u)) +
          tag('CreateDate', xmlTime(userCreated(u))) +
          node('GroupList', '') +
          node('AttachedManagedPolicies', '') +
          (u.tags?.length ? node('Tags', tagsXml(u.tags)) : ''),
      );
      return (
        node('UserDetailList', members(list)) +
        node('GroupDetailList', '') +
        node('RoleDetailList', '') +
        node('Policies', '') +
        p.xml
      );
    },

    UpdateAccessKey(params, auth, ctx) {
      const id = params.AccessKeyId;
      if (!id) throw notNull('accessKeyId');
      const status = params.Status;
      if (!status) throw notNull('status');
      if (status !== 'Active' && status !== 'Inactive') {
        throw new ApiError(
          'ValidationError',
          `1 validation error detected: Value '${status}' at 'status' failed to satisfy constraint: Member must satisfy enum value set: [Active, Inactive]`,
        );
      }
      const userName = namedOrCaller(params, auth, ctx);
      const user = findUser(ctx, userName);
      if (!user) throw new ApiError('NoSuchEntity', `The user with name ${userName} cannot be found.`);
      const found = findKey(ctx, id);
      if (!found || found.user !== user) {
        throw new ApiError('NoSuchEntity', `The Access Key with id ${id} cannot be found.`);
      }
      const was = found.key.status;
      found.key.status = status;
      keyUpdates.push({
        account: ctx.account.accountId,
        user: user.name,
        accessKeyId: id,
        status,
        was,
        at: Date.now(),
      });
      return null;
    },

    GetAccountSummary(_params, _auth, { account }) {
      const users = account.users;
      const summary: Record<string, number> = {
        Users: users.length,
        UsersQuota: 5000,
        Groups: 0,
        GroupsQuota: 300,
        GroupsPerUserQuota: 10,
        Roles: 1,
        RolesQuota: 1000,
        Policies: 0,
        PoliciesQuota: 1500,
        AccessKeysPerUserQuota: 2,
        AccountAccessKeysPresent: (account.rootKeys?.length ?? 0) > 0 ? 1 : 0,
        AccountMFAEnabled: 1,
        AccountSigningCertificatesPresent: 0,
        MFADevices: 0,
        MFADevicesInUse: 0,
        ServerCertificates: 0,
        ServerCertificatesQuota: 20,
        SigningCertificatesPerUserQuota: 2,
      };
      const entries = Object.entries(summary).map(([k, v]) => node('entry', tag('key', k) + tag('value', String(v))));
      return node('SummaryMap', entries.join(''));
    },
  };

  const sts: Record<string, Handler> = {
    AssumeRole(params, auth) {
      const request = roleRequest(params, []);
      const caller = callerOf(auth?.accessKeyId);
      // Every session this fake hands out is a role's: assuming a role with one is role chaining.
      if (sessionOf(auth?.accessKeyId) && request.duration > CHAINED_SESSION_SECONDS) {
        throw new ApiError(
          'ValidationError',
          'The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.',
        );
      }
      if (!roleAdmits(request.roleAccount, request.roleName)) {
        throw new ApiError(
          'AccessDenied',
          `User: ${caller.arn} is not authorized to perform: sts:AssumeRole on resource: ${request.roleArn}`,
        );
      }
      const issued = issueSession(
        'AssumeRole',
        request.partition,
        request.roleAccount,
        request.roleName,
        request.roleArn,
        request.sessionName,
        request.duration,
      );
      return issued.credentialsXml + issued.assumedXml + tag('PackedPolicySize', '0');
    },

    AssumeRoleWithWebIdentity(params) {
      const token = params.WebIdentityToken ?? '';
      const request = roleRequest(params, [['webIdentityToken', token]]);
      if (options.expectedToken !== undefined && token !== options.expectedToken) {
        throw new ApiError('InvalidIdentityToken', "Couldn't verify JWT signature");
      }
      const claims = jwtClaims(token);
      if (options.expectedAudience !== undefined) {
        if (!claims) {
          throw new ApiError(
            'InvalidIdentityToken',
            'The ID Token provided is not a valid JWT. (You may see this error if you sent an Access Token)',
          );
        }
        const aud = claims.aud;
        const audiences = Array.isArray(aud) ? aud : [aud];
        if (!audiences.includes(options.expectedAudience))
          throw new ApiError('InvalidIdentityToken', 'Incorrect token audience');
      }
      if (claims && typeof claims.exp === 'number' && claims.exp * 1000 <= Date.now()) {
        throw new ApiError(
          'ExpiredTokenException',
          `Token expired: current date/time ${Math.floor(Date.now() / 1000)} must be before the expiration date/time ${claims.exp}`,
        );
      }
      if (!roleAdmits(request.roleAccount, request.roleName)) {
        throw new ApiError('AccessDenied', 'Not authorized to perform sts:AssumeRoleWithWebIdentity');
      }

      const { partition, roleAccount } = request;
      const issued = issueSession(
        'AssumeRoleWithWebIdentity',
        partition,
        roleAccount,
        request.roleName,
        request.roleArn,
        request.sessionName,
        request.duration,
      );
      const audClaim = claims?.aud;
      const audience =
        typeof audClaim === 'string' ? audClaim : Array.isArray(audClaim) ? String(audClaim[0]) : 'sts.amazonaws.com';
      const issuer = typeof claims?.iss === 'string' ? claims.iss : 'https://token.actions.githubusercontent.com';
      const provider = `arn:${partition}:iam::${roleAccount}:oidc-provider/${issuer.replace(/^https:\/\//, '')}`;
      return (
        issued.credentialsXml +
        tag('SubjectFromWebIdentityToken', typeof claims?.sub === 'string' ? claims.sub : 'unknown') +
        issued.assumedXml +
        tag('Provider', provider) +
        tag('Audience', audience)
      );
    },

    GetCallerIdentity(_params, auth) {
      const caller = callerOf(auth?.accessKeyId);
      return tag('UserId', caller.userId) + tag('Account', caller.account) + tag('Arn', caller.arn);
    },
  };

  /** Authentication first, as AWS does: an expired session is refused whatever it asks. */
  function checkSession(auth: SigV4 | undefined): void {
    const session = sessionOf(auth?.accessKeyId);
    if (session && session.expiresAt <= Date.now()) throw new ApiError('ExpiredToken');
  }

  /** A scripted failure for `action` in this account, else the fake's. */
  const scriptedFailure = (ctx: AccountContext, action: string): string | undefined =>
    ctx.account.failures?.[action]?.shift() ?? failures[action]?.shift();

  const denied = (ctx: AccountContext, action: string): boolean =>
    deny.has(action) || (ctx.account.deny?.includes(action) ?? false);

  /** Runs one request's checks (scripted failures, throttle, deny) and its handler. */
  function dispatch(
    service: 'iam' | 'sts',
    action: string,
    params: Record<string, string>,
    auth: SigV4 | undefined,
    ctx: AccountContext,
  ) {
    const handler = (service === 'iam' ? iam : sts)[action];
    if (!action || !handler || !(service === 'iam' ? IAM_ACTIONS : STS_ACTIONS).has(action)) {
      throw new ApiError(
        'InvalidAction',
        `Could not find operation ${action || '(none)'} for version ${service === 'iam' ? IAM_VERSION : STS_VERSION}`,
      );
    }
    if (!auth && !UNSIGNED_ACTIONS.has(action)) throw new ApiError('MissingAuthenticationToken');
    checkSession(auth);
    const scripted = scriptedFailure(ctx, action);
    if (scripted !== undefined) {
      if (scripted === 'AccessDenied') throw accessDenied(ctx, service, action, params, callerOf(auth?.accessKeyId));
      throw new ApiError(scripted);
    }
    if (service === 'iam' && !takeToken(ctx)) throw new ApiError('Throttling');
    if (denied(ctx, action)) throw accessDenied(ctx, service, action, params, callerOf(auth?.accessKeyId));
    return handler(params, auth, ctx);
  }

  // -- Organizations (AWS JSON 1.1) ---------------------------------------------------

  /** The organisation's tree as it is now: parents by ID, each with its OUs and accounts. */
  function organizationTree(org: FakeOrganization) {
    const orgId = org.id ?? 'o-a1b2c3d4e5';
    const rootId = org.rootId ?? 'r-ab12';
    const management = org.managementAccountId ?? hub().accountId;
    const partition = partitionOf(accountById(management) ?? hub());
    const parents = new Map<string, { units: FakeOrganizationalUnit[]; accounts: FakeAccount[] }>();
    parents.set(rootId, { units: org.units ?? [], accounts: [] });
    const walk = (units: readonly FakeOrganizationalUnit[]) => {
      for (const unit of units) {
        parents.set(unit.id, { units: unit.units ?? [], accounts: [] });
        walk(unit.units ?? []);
      }
    };
    walk(org.units ?? []);
    for (const account of accounts) {
      const parent = parents.get(account.parent ?? rootId);
      if (!parent) {
        throw new Error(
          `fake-aws: account ${account.accountId} is in ${account.parent}, which is not in the organisation`,
        );
      }
      parent.accounts.push(account);
    }
    const arn = (kind: string, id: string) => `arn:${partition}:organizations::${management}:${kind}/${orgId}/${id}`;
    return { orgId, rootId, management, partition, parents, arn };
  }

  type OrganizationTree = ReturnType<typeof organizationTree>;

  function accountJson(tree: OrganizationTree, account: FakeAccount, fields: FakeOrganization['accountFields']) {
    const state = account.state ?? 'ACTIVE';
    const status =
      account.status ?? (state === 'CLOSED' ? 'SUSPENDED' : state === 'PENDING_ACTIVATION' ? 'ACTIVE' : state);
    return {
      Id: account.accountId,
      Arn: tree.arn('account', account.accountId),
      Email: account.email ?? `aws+${account.accountId}@example.com`,
      Name: account.name ?? account.alias ?? `Account ${account.accountId}`,
      ...(fields !== 'state' && { Status: status }),
      ...(fields !== 'status' && { State: state }),
      JoinedMethod: account.accountId === tree.management ? 'CREATED' : 'INVITED',
      JoinedTimestamp: Date.parse(account.created ?? DEFAULT_ROOT_CREATED) / 1000,
    };
  }

  /** One page of `items`: MaxResults (1 to 20), the page size cap, short pages, and empty pages that carry a NextToken. */
  function organizationPage<T>(
    org: FakeOrganization,
    kind: string,
    items: readonly T[],
    body: Record<string, unknown>,
  ) {
    let size = org.pageSize ?? 20;
    if (body.MaxResults !== undefined) {
      const max = body.MaxResults;
      if (typeof max !== 'number' || !Number.isInteger(max) || max < 1 || max > 20) {
        throw new ApiError(
          'InvalidInputException',
          `1 validation error detected: Value '${String(max)}' at 'maxResults' failed to satisfy constraint: Member must have value between 1 and 20`,
        );
      }
      size = Math.min(size, max);
    }
    let offset = 0;
    let pageNumber = 0;
    if (body.NextToken !== undefined) {
      const token = decodeNextToken(body.NextToken);
      if (!token || token.kind !== kind || token.offset > items.length) {
        throw new ApiError(
          'InvalidInputException',
          'You specified an invalid value for nextToken. You must get the value from the response to a previous call to the API.',
        );
      }
      ({ offset, page: pageNumber } = token);
    }
    const next = (at: number) => encodeNextToken({ kind, offset: at, page: pageNumber + 1 });
    if (org.emptyPages?.includes(pageNumber)) return { items: [] as T[], NextToken: next(offset) };
    if (items.length - offset <= size) return { items: items.slice(offset) };
    const take = org.shortPages ? Math.max(1, size - 1) : size;
    return { items: items.slice(offset, offset + take), NextToken: next(offset + take) };
  }

  type JsonHandler = (
    body: Record<string, unknown>,
    org: FakeOrganization,
    tree: OrganizationTree,
  ) => Record<string, unknown>;

  const parentOf = (tree: OrganizationTree, body: Record<string, unknown>) => {
    const parentId = body.ParentId;
    if (typeof parentId !== 'string' || !/^(r-[0-9a-z]{4,32}|ou-[0-9a-z]{4,32}-[a-z0-9]{8,32})$/.test(parentId)) {
      throw new ApiError(
        'InvalidInputException',
        `You provided a value that does not match the required pattern: ParentId ${JSON.stringify(parentId ?? null)}.`,
      );
    }
    const parent = tree.parents.get(parentId);
    if (!parent) throw new ApiError('ParentNotFoundException');
    return { parentId, parent };
  };

  const organizations: Record<string, JsonHandler> = {
    DescribeOrganization(_body, _org, tree) {
      const management = accountById(tree.management);
      return {
        Organization: {
          Id: tree.orgId,
          Arn: `arn:${tree.partition}:organizations::${tree.management}:organization/${tree.orgId}`,
          FeatureSet: 'ALL',
          MasterAccountArn: tree.arn('account', tree.management),
          MasterAccountId: tree.management,
          MasterAccountEmail: management?.email ?? `aws+${tree.management}@example.com`,
          AvailablePolicyTypes: [],
        },
      };
    },

    ListRoots(body, org, tree) {
      const roots = [{ Id: tree.rootId, Arn: tree.arn('root', tree.rootId), Name: 'Root', PolicyTypes: [] }];
      const p = organizationPage(org, 'roots', roots, body);
      return { Roots: p.items, ...(p.NextToken && { NextToken: p.NextToken }) };
    },

    ListAccounts(body, org, tree) {
      const p = organizationPage(org, 'accounts', accounts, body);
      return {
        Accounts: p.items.map((a) => accountJson(tree, a, org.accountFields)),
        ...(p.NextToken && { NextToken: p.NextToken }),
      };
    },

    ListAccountsForParent(body, org, tree) {
      const { parentId, parent } = parentOf(tree, body);
      const p = organizationPage(org, `accounts/${parentId}`, parent.accounts, body);
      return {
        Accounts: p.items.map((a) => accountJson(tree, a, org.accountFields)),
        ...(p.NextToken && { NextToken: p.NextToken }),
      };
    },

    ListChildren(body, org, tree) {
      const { parentId, parent } = parentOf(tree, body);
      const type = body.ChildType;
      if (type !== 'ACCOUNT' && type !== 'ORGANIZATIONAL_UNIT') {
        throw new ApiError(
          'InvalidInputException',
          `1 validation error detected: Value '${String(type)}' at 'childType' failed to satisfy constraint: Member must satisfy enum value set: [ACCOUNT, ORGANIZATIONAL_UNIT]`,
        );
      }
      const ids = type === 'ACCOUNT' ? parent.accounts.map((a) => a.accountId) : parent.units.map((u) => u.id);
      const p = organizationPage(org, `children/${type}/${parentId}`, ids, body);
      return { Children: p.items.map((Id) => ({ Id, Type: type })), ...(p.NextToken && { NextToken: p.NextToken }) };
    },

    ListOrganizationalUnitsForParent(body, org, tree) {
      const { parentId, parent } = parentOf(tree, body);
      const p = organizationPage(org, `units/${parentId}`, parent.units, body);
      return {
        OrganizationalUnits: p.items.map((u) => ({ Id: u.id, Arn: tree.arn('ou', u.id), Name: u.name })),
        ...(p.NextToken && { NextToken: p.NextToken }),
      };
    },
  };

  /** Organizations' checks (authentication, scripted failures, membership, deny) and its handler. */
  function dispatchOrganizations(
    action: string,
    body: Record<string, unknown>,
    auth: SigV4 | undefined,
    ctx: AccountContext,
  ): Record<string, unknown> {
    const handler = organizations[action];
    if (!handler || !ORGANIZATIONS_ACTIONS.has(action)) throw new ApiError('UnknownOperationException');
    if (!auth) throw new ApiError('MissingAuthenticationTokenException');
    checkSession(auth);
    const scripted = scriptedFailure(ctx, action);
    if (scripted !== undefined) throw new ApiError(scripted);
    const org = organization;
    if (org === false) throw new ApiError('AWSOrganizationsNotInUseException');
    const tree = organizationTree(org);
    const caller = callerOf(auth.accessKeyId);
    const admitted = caller.account === tree.management || (org.delegatedAdministrators ?? []).includes(caller.account);
    if (!admitted) throw new ApiError('AccessDeniedException');
    if (denied(ctx, action)) {
      throw new ApiError(
        'AccessDeniedException',
        `User: ${caller.arn} is not authorized to perform: organizations:${action} on resource: * ` +
          `because no identity-based policy allows the organizations:${action} action`,
      );
    }
    return handler(body, org, tree);
  }

  // -- scripted transport faults (cut answers, hung requests) ----------------------

  const cut = { left: options.cutCredentialReport?.calls ?? 0, where: options.cutCredentialReport?.where ?? 'inside' };
  const hangs: Record<string, number> = { ...options.hang };

  /** The answer cut short when a cut GetCredentialReport is scripted. */
  function cutIfScripted(action: string, status: number, payload: string): string {
    if (action !== 'GetCredentialReport' || status !== 200 || cut.left <= 0) return payload;
    cut.left -= 1;
    return cutXml(payload, cut.where);
  }

  function record(
    service: RecordedRequest['service'],
    action: string,
    params: Record<string, string>,
    auth: SigV4 | undefined,
    account: FakeAccount,
    status: number,
    errorCode?: string,
  ): void {
    requests.push({
      service,
      action,
      params,
      account: account.accountId,
      ...(auth && { accessKeyId: auth.accessKeyId, signingRegion: auth.region, signingService: auth.service }),
      status,
      ...(errorCode !== undefined && { errorCode }),
      at: Date.now(),
    });
  }

  /** Records and leaves unanswered a request scripted to hang. */
  function leaveHanging(
    service: RecordedRequest['service'],
    action: string,
    params: Record<string, string>,
    auth: SigV4 | undefined,
    account: FakeAccount,
  ): boolean {
    if ((hangs[action] ?? 0) <= 0) return false;
    hangs[action]! -= 1;
    record(service, action, params, auth, account, 0);
    return true;
  }

  async function handleQuery(
    req: IncomingMessage,
    res: ServerResponse,
    raw: string,
    auth: SigV4 | undefined,
    account: FakeAccount,
  ): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const params: Record<string, string> = {};
    for (const [k, v] of url.searchParams) params[k] = v;
    for (const [k, v] of new URLSearchParams(raw)) params[k] = v;

    const service = params.Version === STS_VERSION ? 'sts' : 'iam';
    const action = params.Action ?? '';
    const requestId = randomUUID();
    const ns = NAMESPACE[service];

    if (service === 'iam' && options.latencyMs) await sleep(options.latencyMs);
    if (leaveHanging(service, action, params, auth, account)) return;

    let status = 200;
    let errorCode: string | undefined;
    let body: string;
    try {
      const result = dispatch(service, action, params, auth, contextOf(account));
      body =
        `<${action}Response xmlns="${ns}">` +
        (result === null ? '' : node(`${action}Result`, result)) +
        node('ResponseMetadata', tag('RequestId', requestId)) +
        `</${action}Response>`;
    } catch (err) {
      const error = err instanceof ApiError ? err : new ApiError('InternalFailure', String(err));
      status = error.status;
      errorCode = error.code;
      if (error.code === 'Throttling') throttled += 1;
      body =
        `<ErrorResponse xmlns="${ns}">` +
        node('Error', tag('Type', error.type) + tag('Code', error.code) + tag('Message', error.message)) +
        tag('RequestId', requestId) +
        `</ErrorResponse>`;
    }

    record(service, action, params, auth, account, status, errorCode);
    const payload = cutIfScripted(action, status, `<?xml version="1.0" encoding="UTF-8"?>\n${body}\n`);
    res.writeHead(status, {
      'content-type': 'text/xml',
      'content-length': Buffer.byteLength(payload),
      'x-amzn-RequestId': requestId,
    });
    res.end(payload);
  }

  async function handleJson(
    res: ServerResponse,
    target: string,
    raw: string,
    auth: SigV4 | undefined,
    account: FakeAccount,
  ): Promise<void> {
    const action = target.slice(ORGANIZATIONS_TARGET.length + 1);
    const requestId = randomUUID();
    let body: Record<string, unknown> = {};
    let parsed = true;
    try {
      const value: unknown = raw.trim() ? JSON.parse(raw) : {};
      if (value && typeof value === 'object' && !Array.isArray(value)) body = value as Record<string, unknown>;
      else parsed = false;
    } catch {
      parsed = false;
    }
    const params = Object.fromEntries(
      Object.entries(body).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]),
    );

    if (options.latencyMs) await sleep(options.latencyMs);
    if (leaveHanging('organizations', action, params, auth, account)) return;

    let status = 200;
    let errorCode: string | undefined;
    let payload: string;
    try {
      if (!parsed) throw new ApiError('SerializationException', 'Start of structure or map found where not expected.');
      payload = JSON.stringify(dispatchOrganizations(action, body, auth, contextOf(account)));
    } catch (err) {
      const error = err instanceof ApiError ? err : new ApiError('ServiceException', String(err));
      const type = ORGANIZATIONS_ERRORS[error.code] ? error.code : (ORGANIZATIONS_ALIASES[error.code] ?? error.code);
      const known = ORGANIZATIONS_ERRORS[type];
      status = known?.status ?? 400;
      errorCode = type;
      if (type === 'TooManyRequestsException') throttled += 1;
      const message = error.message === error.code ? (known?.message ?? type) : error.message;
      payload = JSON.stringify({ __type: type, message });
      res.setHeader('x-amzn-ErrorType', `${type}:`);
    }
    record('organizations', action, params, auth, account, status, errorCode);
    res.writeHead(status, {
      'content-type': 'application/x-amz-json-1.1',
      'content-length': Buffer.byteLength(payload),
      'x-amzn-RequestId': requestId,
    });
    res.end(payload);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const auth = parseAuthorization(req.headers.authorization);
    const account = servedFrom(auth);
    const target = req.headers['x-amz-target'];
    if (typeof target === 'string' && target.startsWith(`${ORGANIZATIONS_TARGET}.`)) {
      return handleJson(res, target, raw, auth, account);
    }
    return handleQuery(req, res, raw, auth, account);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(String(err));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    count: (action, account) =>
      requests.filter(
        (r) => (action === undefined || r.action === action) && (account === undefined || r.account === account),
      ).length,
    get throttled() {
      return throttled;
    },
    issuedCredentials,
    sessions: sessionList,
    keyUpdates,
    get account() {
      return hub();
    },
    set account(next: FakeAccount) {
      accounts[0] = next;
    },
    get accounts() {
      return accounts;
    },
    set accounts(next: FakeAccount[]) {
      if (next.length === 0) throw new Error('fake-aws: an organisation has at least one account');
      accounts = next;
    },
    get organization() {
      return organization;
    },
    set organization(next: FakeOrganization | false) {
      organization = next;
    },
    failures,
    deny,
    resetReport(next) {
      for (const ctx of contexts.values()) ctx.report = { phase: 'none' };
      if (next) reportOptions = next;
    },
    resetRequests() {
      requests.length = 0;
      throttled = 0;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}

/** An XML answer cut inside its `<Content>` (half of it kept) or after it, before the root closes. */
function cutXml(payload: string, where: 'inside' | 'end'): string {
  const open = payload.indexOf('<Content>');
  const close = payload.indexOf('</Content>');
  if (where === 'inside' && open >= 0 && close > open) {
    return payload.slice(0, open + '<Content>'.length + Math.floor((close - open - '<Content>'.length) / 2));
  }
  const end = close >= 0 ? close + '</Content>'.length : Math.floor(payload.length / 2);
  return payload.slice(0, end + Math.floor((payload.length - end) / 2));
}
