/**
 * Sessions that last the whole scan. An SDK client given a credential *provider* (a function)
 * calls it before it signs and again whenever the credentials it holds have less than five
 * minutes left (`memoizeIdentityProvider` with `EXPIRATION_MS` = 300,000 in @smithy/core, as
 * `resolveAwsSdkSigV4Config` in @aws-sdk/core wires it); fixed credentials it never renews. The
 * providers here sign in again before a session ends: the hub with a fresh OIDC token, a member
 * with another AssumeRole (a role assumed with a role's credentials lasts at most an hour).
 *
 * Member sign-in: `sts:AssumeRole` into each member account's role with the hub's credentials, or
 * (`web-identity`) `sts:AssumeRoleWithWebIdentity` into it with the job's OIDC token.
 */
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import type { Partition } from '../model.js';
import { withRetries, type Sleep } from '../retry.js';
import {
  assumeRoleWithOidc,
  maskedCredentials,
  type AwsCredentialProvider,
  type AwsCredentials,
  type AwsCredentialSource,
  type SignInDeps,
  type SignInOptions,
} from './credentials.js';
import { awsErrorCode, errorMessage, isAccessDenied, isTransient, sdkMessage } from './errors.js';
import { awsRequestHandler, type AwsHttpTimeouts } from './http.js';
import { USER_AGENT } from './iam.js';

/** Renew a session when this little is left: the SDK asks its provider again from five minutes before. */
export const RENEW_BEFORE_MS = 5 * 60_000;

/** A role assumed with a role's credentials (role chaining) lasts at most an hour; AWS refuses more. */
export const MEMBER_SESSION_SECONDS = 3600;

/** Tries of one member AssumeRole, the first included: throttling, 5xx and time-outs only. */
export const MEMBER_ASSUME_ATTEMPTS = 4;

export interface RenewOptions {
  /**
   * Renew when less than this is left; default {@link RENEW_BEFORE_MS}. Never more than half of a
   * session's length, so a short session is not renewed at every request.
   */
  renewBeforeMs?: number;
  /** Credentials already in hand (the first sign-in), used until they need renewing. */
  initial?: AwsCredentials;
  /** For tests. */
  now?: () => number;
}

/**
 * A provider that signs in on first use and again when the session it holds is about to end.
 * Callers at the same time share one sign-in; a failed sign-in is thrown to each of them and
 * tried again at the next call. Credentials without an expiration are kept for good.
 */
export function renewingCredentials(
  signIn: () => Promise<AwsCredentials>,
  options: RenewOptions = {},
): AwsCredentialProvider {
  const now = options.now ?? Date.now;
  const renewBeforeMs = options.renewBeforeMs ?? RENEW_BEFORE_MS;
  let held = options.initial;
  let issuedAt = now();
  let pending: Promise<AwsCredentials> | undefined;

  const fresh = (credentials: AwsCredentials): boolean => {
    if (!credentials.expiration) return true;
    const ends = credentials.expiration.getTime();
    const margin = Math.min(renewBeforeMs, Math.max(0, ends - issuedAt) / 2);
    return ends - now() > margin;
  };

  return async () => {
    if (held && fresh(held)) return held;
    pending ??= signIn()
      .then((credentials) => {
        held = credentials;
        issuedAt = now();
        return credentials;
      })
      .finally(() => {
        pending = undefined;
      });
    return pending;
  };
}

/**
 * The job's OIDC token exchanged for a role session (`assumeRoleWithOidc`), renewed with a fresh
 * token before it ends: the hub's session, and each member's with `web-identity`.
 */
export function webIdentityCredentials(
  options: SignInOptions,
  deps: SignInDeps,
  renew: RenewOptions = {},
): AwsCredentialProvider {
  return renewingCredentials(() => assumeRoleWithOidc(options, deps), renew);
}

/**
 * Shares one OIDC token among the sign-ins asked for within `reuseMs` (default 60 s) of its
 * issue, so a thousand member accounts do not ask the runner a thousand times; after that a fresh
 * one, so a renewal never sends a token near its end. Per audience; failures are not kept.
 */
export function sharedIdToken(
  getIdToken: (audience: string) => Promise<string>,
  options: { reuseMs?: number; now?: () => number } = {},
): (audience: string) => Promise<string> {
  const reuseMs = options.reuseMs ?? 60_000;
  const now = options.now ?? Date.now;
  const tokens = new Map<string, { token: Promise<string>; at: number }>();
  return (audience) => {
    const kept = tokens.get(audience);
    if (kept && now() - kept.at < reuseMs) return kept.token;
    const token = getIdToken(audience);
    tokens.set(audience, { token, at: now() });
    token.catch(() => {
      if (tokens.get(audience)?.token === token) tokens.delete(audience);
    });
    return token;
  };
}

const ROLE_NAME = /^(?:[\w+=,.@-]+\/)*[\w+=,.@-]{1,64}$/;

/** `arn:aws:iam::222222222222:role/NAME`; `roleName` may carry a path (`security/NAME`). */
export function memberRoleArn(partition: Partition, accountId: string, roleName: string): string {
  const name = roleName.replace(/^\/+/, '');
  if (!/^\d{12}$/.test(accountId)) throw new RangeError(`Not an AWS account ID: "${accountId}"`);
  if (!ROLE_NAME.test(name)) throw new RangeError(`Not an IAM role name: "${roleName}"`);
  return `arn:${partition}:iam::${accountId}:role/${name}`;
}

/** A member account's sign-in failed; the message says why and what to change. */
export class MemberSignInError extends Error {
  override readonly name = 'MemberSignInError';

  constructor(
    message: string,
    readonly accountId: string,
    readonly roleArn: string,
    options: { cause: unknown },
  ) {
    super(message, options);
  }

  /** AWS refused (trust policy, permission policy, or no such role): another try will not help. */
  get denied(): boolean {
    return isAccessDenied(this.cause);
  }
}

export interface MemberRole {
  /** From {@link memberRoleArn}. */
  roleArn: string;
  roleSessionName: string;
  /** Default and most {@link MEMBER_SESSION_SECONDS}. */
  durationSeconds?: number;
  /** The STS region. */
  awsRegion: string;
}

export interface MemberRoleDeps {
  /** The hub's credentials (a renewing provider, for a long scan), which sign each AssumeRole. */
  hub: AwsCredentialSource;
  /** The hub role's ARN (role-to-assume, path included), named in a denial's hint. */
  hubArn?: string;
  /** Masks a value in every later log line. */
  setSecret: (value: string) => void;
  sleep: Sleep;
  random?: () => number;
  info: (message: string) => void;
  /** For tests; default from src/aws/http.ts. */
  timeouts?: AwsHttpTimeouts;
  /** Default {@link MEMBER_ASSUME_ATTEMPTS}. */
  attempts?: number;
}

/** An STS client for member sign-ins, signed with the hub's credentials. One SDK attempt: `withRetries` owns the retries. */
function memberStsClient(member: Pick<MemberRole, 'awsRegion'>, deps: MemberRoleDeps): STSClient {
  return new STSClient({
    region: member.awsRegion,
    credentials: deps.hub,
    maxAttempts: 1,
    requestHandler: awsRequestHandler(deps.timeouts),
    customUserAgent: USER_AGENT,
  });
}

/**
 * `sts:AssumeRole` into a member account's role with the hub's credentials; the credentials are
 * masked as soon as they arrive. Throttling, 5xx and time-outs are tried again (a few times, with
 * jittered pauses); anything else fails at once with a {@link MemberSignInError}.
 */
export async function assumeMemberRole(member: MemberRole, deps: MemberRoleDeps): Promise<AwsCredentials> {
  const sts = memberStsClient(member, deps);
  try {
    return await assumeWith(sts, member, deps);
  } finally {
    sts.destroy();
  }
}

async function assumeWith(sts: STSClient, member: MemberRole, deps: MemberRoleDeps): Promise<AwsCredentials> {
  const accountId = accountOf(member.roleArn);
  const durationSeconds = member.durationSeconds ?? MEMBER_SESSION_SECONDS;
  if (durationSeconds < 900 || durationSeconds > MEMBER_SESSION_SECONDS) {
    throw new RangeError(
      `A member session lasts from 900 to ${MEMBER_SESSION_SECONDS} seconds (a role assumed with a role's credentials lasts at most an hour), got ${durationSeconds}`,
    );
  }
  try {
    const out = await withRetries(
      () =>
        sts.send(
          new AssumeRoleCommand({
            RoleArn: member.roleArn,
            RoleSessionName: member.roleSessionName,
            DurationSeconds: durationSeconds,
          }),
        ),
      {
        attempts: deps.attempts ?? MEMBER_ASSUME_ATTEMPTS,
        baseMs: 1000,
        capMs: 8000,
        retryable: isTransient,
        sleep: deps.sleep,
        random: deps.random,
        onRetry: (err, attempt, delay) =>
          deps.info(
            `AssumeRole into account ${accountId} failed (${awsErrorCode(err)}); try ${attempt + 1} in ${delay} ms.`,
          ),
      },
    );
    return maskedCredentials(out.Credentials, 'AssumeRole', deps.setSecret);
  } catch (err) {
    const hint = memberAssumeHint(err, member.roleArn, deps.hubArn);
    throw new MemberSignInError(
      `Could not assume role ${member.roleArn} in account ${accountId}: ${sdkMessage(err)}.${hint ? ` ${hint}` : ''}`,
      accountId,
      member.roleArn,
      { cause: err },
    );
  }
}

/**
 * What to change when AssumeRole into a member role fails. A denial names the principal AWS
 * refused (from its message, else the hub's ARN) and the trust policy that must let it in; AWS
 * answers the same when the role does not exist, so that is said too.
 */
export function memberAssumeHint(err: unknown, roleArn: string, hubArn?: string): string {
  const message = errorMessage(err);
  if (isAccessDenied(err) || /not authorized/i.test(message)) {
    const refused = /User: (arn:\S+) is not authorized/.exec(message)?.[1] ?? hubArn;
    const principal = trustPrincipal(refused, hubArn);
    const account = accountOf(roleArn);
    const wildcard = roleArn.replace(/::\d{12}:/, '::*:');
    if (/no identity-based policy allows/i.test(message)) {
      return (
        `The hub role's permission policy must allow sts:AssumeRole on ${roleArn} ` +
        `(on ${wildcard} for every member account).`
      );
    }
    const who = principal ?? 'the hub role';
    const said = refused && refused !== principal ? ` (AWS refused ${refused})` : '';
    return (
      `The member role's trust policy must allow ${who}${said} to call sts:AssumeRole, and the hub role's ` +
      `permission policy must allow sts:AssumeRole on ${roleArn}. AWS answers the same when account ${account} ` +
      'has no role by that name: deploy it there (a CloudFormation StackSet reaches every member account, but not the management account).'
    );
  }
  if (/role chaining/i.test(message)) {
    return `A member session is assumed with the hub role's credentials and lasts at most ${MEMBER_SESSION_SECONDS} seconds.`;
  }
  return '';
}

/**
 * The role ARN a trust policy names for `refused`: `arn:aws:sts::A:assumed-role/R/S` is the role
 * `arn:aws:iam::A:role/R`, with the hub's ARN preferred when it is that role (it has the path).
 */
function trustPrincipal(refused: string | undefined, hubArn: string | undefined): string | undefined {
  const hubRole = hubArn ? roleOfSession(hubArn) : undefined;
  if (!refused) return hubRole;
  const role = roleOfSession(refused);
  if (hubRole && role && sameRole(hubRole, role)) return hubRole;
  return role ?? refused;
}

function roleOfSession(arn: string): string | undefined {
  const session = /^arn:([\w-]+):sts::(\d{12}):assumed-role\/([^/]+)\/.+$/.exec(arn);
  if (session) return `arn:${session[1]}:iam::${session[2]}:role/${session[3]}`;
  return /^arn:[\w-]+:iam::\d{12}:role\/.+$/.test(arn) ? arn : undefined;
}

/** The same account and role name, whatever the path. */
function sameRole(a: string, b: string): boolean {
  const key = (arn: string) => `${arn.split(':')[4]}/${arn.split('/').pop()}`;
  return key(a) === key(b);
}

function accountOf(roleArn: string): string {
  return roleArn.split(':')[4] ?? '';
}

export type MemberAuth = 'assume-role' | 'web-identity';

export interface MemberSessionsConfig {
  /** `assume-role`: AssumeRole with the hub's credentials; `web-identity`: the job's OIDC token into each member role. */
  auth: MemberAuth;
  partition: Partition;
  /** The STS region. */
  awsRegion: string;
  /** The member role's name, with its path if any (`security/iam-stale-keys`). The same in every account. */
  roleName: string;
  roleSessionName: string;
  /**
   * Default 3600. `assume-role`: at most 3600 (role chaining). `web-identity`: up to the member
   * role's maximum session duration.
   */
  durationSeconds?: number;
  /** `web-identity`: the OIDC token's audience. */
  audience: string;
}

export interface MemberSessionsDeps {
  /** `assume-role`: the hub's credentials (its renewing provider), which sign each AssumeRole. */
  hub?: AwsCredentialSource;
  /** `assume-role`: the hub role's ARN, named in a denial's hint. */
  hubArn?: string;
  /** `web-identity`: an OIDC token for the audience (`requestIdToken`), asked again at every sign-in. */
  getIdToken?: (audience: string) => Promise<string>;
  setSecret: (value: string) => void;
  sleep: Sleep;
  random?: () => number;
  info: (message: string) => void;
  timeouts?: AwsHttpTimeouts;
  renewBeforeMs?: number;
  now?: () => number;
}

export interface MemberSessions {
  /** The member role's ARN in `accountId`. */
  roleArn(accountId: string): string;
  /**
   * A renewing provider for the member account: signs in on its first call (await it once to learn
   * early that the account cannot be signed in to) and again before the session ends. Failures
   * are {@link MemberSignInError}s.
   */
  credentials(accountId: string): AwsCredentialProvider;
  /** Closes the shared STS client. */
  close(): void;
}

/** Sign-ins to every member account of a run, sharing one STS client. */
export function memberSessions(config: MemberSessionsConfig, deps: MemberSessionsDeps): MemberSessions {
  let sts: STSClient | undefined;
  const renew = { renewBeforeMs: deps.renewBeforeMs, now: deps.now };

  const roleArn = (accountId: string) => memberRoleArn(config.partition, accountId, config.roleName);

  function signIn(accountId: string): () => Promise<AwsCredentials> {
    const arn = roleArn(accountId);
    if (config.auth === 'web-identity') {
      const getIdToken = deps.getIdToken;
      if (!getIdToken) throw new Error('web-identity member sign-in needs getIdToken');
      const options: SignInOptions = {
        roleToAssume: arn,
        awsRegion: config.awsRegion,
        partition: config.partition,
        audience: config.audience,
        roleSessionName: config.roleSessionName,
        roleDurationSeconds: config.durationSeconds ?? MEMBER_SESSION_SECONDS,
      };
      const signInDeps: SignInDeps = { ...deps, getIdToken };
      return () =>
        assumeRoleWithOidc(options, signInDeps).catch((err: unknown) => {
          // Its message names the role (so the account) and the fix; the cause is what AWS or the runner said.
          const cause = err instanceof Error && err.cause !== undefined ? err.cause : err;
          throw new MemberSignInError(err instanceof Error ? err.message : String(err), accountId, arn, { cause });
        });
    }
    const hub = deps.hub;
    if (!hub) throw new Error('assume-role member sign-in needs the hub credentials');
    const memberDeps: MemberRoleDeps = { ...deps, hub };
    const member: MemberRole = {
      roleArn: arn,
      roleSessionName: config.roleSessionName,
      awsRegion: config.awsRegion,
      ...(config.durationSeconds !== undefined && { durationSeconds: config.durationSeconds }),
    };
    return () => assumeWith((sts ??= memberStsClient(member, memberDeps)), member, memberDeps);
  }

  return {
    roleArn,
    credentials: (accountId) => renewingCredentials(signIn(accountId), renew),
    close() {
      sts?.destroy();
      sts = undefined;
    },
  };
}
