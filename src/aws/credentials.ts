/**
 * Signing in to AWS: the job's OIDC token exchanged for role credentials with STS, or the SDK's
 * default chain when no role is given; then who we are (account and partition).
 */
import { AssumeRoleWithWebIdentityCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import type { Partition } from '../model.js';
import { withRetries, type Sleep } from '../retry.js';
import { IdTokenError } from '../runner/oidc.js';
import { awsErrorCode, errorMessage, isTransient, sdkMessage } from './errors.js';
import { AWS_HTTP_TIMEOUTS, awsRequestHandler, type AwsHttpTimeouts } from './http.js';
import { USER_AGENT } from './iam.js';

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiration?: Date;
}

/**
 * What an SDK client's `credentials` option also takes: a function the client calls before it
 * signs, and again whenever the credentials it holds have less than five minutes left (see
 * src/aws/sessions.ts, which makes providers that renew).
 */
export type AwsCredentialProvider = () => Promise<AwsCredentials>;

/** Fixed credentials, or a provider that renews them. */
export type AwsCredentialSource = AwsCredentials | AwsCredentialProvider;

export interface SignInOptions {
  roleToAssume: string;
  awsRegion: string;
  partition: Partition;
  audience: string;
  roleSessionName: string;
  roleDurationSeconds: number;
}

export interface SignInDeps {
  getIdToken: (audience: string) => Promise<string>;
  /** Masks a value in every later log line. */
  setSecret: (value: string) => void;
  sleep: Sleep;
  random?: () => number;
  info: (message: string) => void;
  /** For tests; default {@link AWS_HTTP_TIMEOUTS}. */
  timeouts?: AwsHttpTimeouts;
}

/** Errors from STS that are worth another try: the well-known AWS action retries these too. */
function retryableAssume(err: unknown): boolean {
  // A wrong audience or a missing identity provider will not fix itself.
  if (/audience|no openid connect provider/i.test(errorMessage(err))) return false;
  return awsErrorCode(err) === 'InvalidIdentityToken' || isTransient(err);
}

export async function assumeRoleWithOidc(options: SignInOptions, deps: SignInDeps): Promise<AwsCredentials> {
  let token: string;
  try {
    token = await deps.getIdToken(options.audience);
  } catch (err) {
    throw new Error(`Could not get the job's OIDC token for audience "${options.audience}": ${idTokenProblem(err)}`, {
      cause: err,
    });
  }
  deps.setSecret(token);

  // One SDK attempt per try: withRetries below owns the retries (InvalidIdentityToken included).
  const sts = new STSClient({
    region: options.awsRegion,
    maxAttempts: 1,
    requestHandler: awsRequestHandler(deps.timeouts),
    customUserAgent: USER_AGENT,
  });
  try {
    const out = await withRetries(
      () =>
        sts.send(
          new AssumeRoleWithWebIdentityCommand({
            RoleArn: options.roleToAssume,
            RoleSessionName: options.roleSessionName,
            WebIdentityToken: token,
            DurationSeconds: options.roleDurationSeconds,
          }),
        ),
      {
        attempts: 5,
        baseMs: 1000,
        capMs: 8000,
        retryable: retryableAssume,
        sleep: deps.sleep,
        random: deps.random,
        onRetry: (err, attempt, delay) =>
          deps.info(`AssumeRoleWithWebIdentity failed (${awsErrorCode(err)}); try ${attempt + 1} in ${delay} ms.`),
      },
    );
    return maskedCredentials(out.Credentials, 'AssumeRoleWithWebIdentity', deps.setSecret);
  } catch (err) {
    throw new Error(
      `Could not assume role ${options.roleToAssume}: ${sdkMessage(err)}. ${assumeHint(err, options, token)}`.trim(),
      {
        cause: err,
      },
    );
  } finally {
    sts.destroy();
  }
}

/**
 * What went wrong getting the OIDC token, and what to do. The permission hint only when the job
 * has no token to ask with or the runner said so (401/403): a runner that failed is not a
 * permission problem, and saying so would send people to fix the wrong thing.
 */
function idTokenProblem(err: unknown): string {
  if (err instanceof IdTokenError && err.permissionMissing) {
    return (
      `${errorMessage(err)}. Give the job "permissions: id-token: write" (workflows from forks get no token), ` +
      'or leave role-to-assume empty to use credentials set by an earlier step.'
    );
  }
  if (err instanceof IdTokenError && err.retryable) {
    return `${errorMessage(err)}. The runner's token service failed, not this job's settings: run the job again.`;
  }
  return `${errorMessage(err)}.`;
}

/** STS's credentials, each part masked the moment it exists; an answer without them is an error. */
export function maskedCredentials(
  c: { AccessKeyId?: string; SecretAccessKey?: string; SessionToken?: string; Expiration?: Date } | undefined,
  action: string,
  setSecret: (value: string) => void,
): AwsCredentials {
  if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken) {
    throw new Error(`STS answered ${action} without credentials.`);
  }
  setSecret(c.AccessKeyId);
  setSecret(c.SecretAccessKey);
  setSecret(c.SessionToken);
  return {
    accessKeyId: c.AccessKeyId,
    secretAccessKey: c.SecretAccessKey,
    sessionToken: c.SessionToken,
    expiration: c.Expiration,
  };
}

/** What a user can do about a failed AssumeRoleWithWebIdentity. */
export function assumeHint(err: unknown, options: SignInOptions, token: string): string {
  const code = awsErrorCode(err);
  const message = errorMessage(err);
  const claims = tokenClaims(token);
  const subject = claims.sub ? ` This job's token has sub "${claims.sub}".` : '';
  if (/audience/i.test(message)) {
    const china = options.partition === 'aws-cn';
    return (
      `The token's audience "${options.audience}" is not a client ID of the account's OIDC provider.` +
      (china
        ? ' In the China partition the audience is sts.amazonaws.com.cn: add it to the provider and leave "audience" at its default.'
        : ' Add it to the provider token.actions.githubusercontent.com, or set "audience" to one it lists.')
    );
  }
  if (/no openid connect provider/i.test(message)) {
    return "Create the IAM OIDC identity provider token.actions.githubusercontent.com in the role's account.";
  }
  if (code === 'AccessDenied' || /not authorized/i.test(message)) {
    const account = /^arn:[\w-]+:iam::(\d{12}):role\//.exec(options.roleToAssume)?.[1] ?? 'ACCOUNT';
    return (
      "Check the role's trust policy: principal arn:" +
      `${options.partition}:iam::${account}:oidc-provider/token.actions.githubusercontent.com, action sts:AssumeRoleWithWebIdentity, ` +
      'and a token.actions.githubusercontent.com:sub condition matching this workflow, such as "repo:ORG/REPO:ref:refs/heads/main". ' +
      'Repositories created, renamed or transferred after 15 July 2026 have immutable subjects such as "repo:OWNER@OWNER_ID/REPO@REPO_ID:ref:refs/heads/main".' +
      subject
    );
  }
  if (code === 'ExpiredToken' || code === 'InvalidIdentityToken') {
    return "The OIDC token was refused; if this repeats, check the OIDC provider's thumbprint and issuer URL.";
  }
  return '';
}

/** The non-secret claims of a JWT (`sub`, `aud`), for error hints. Never returns the token. */
function tokenClaims(token: string): { sub?: string; aud?: string } {
  try {
    const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<
      string,
      unknown
    >;
    return {
      sub: typeof payload.sub === 'string' ? payload.sub : undefined,
      aud: typeof payload.aud === 'string' ? payload.aud : undefined,
    };
  } catch {
    return {};
  }
}

/** The SDK's standard retry, said out loud: throttling, 5xx and time-outs, three tries in all. */
const GET_CALLER_IDENTITY_ATTEMPTS = 3;

export interface CallerIdentity {
  accountId: string;
  arn: string;
  partition: Partition;
}

export async function getCallerIdentity(
  awsRegion: string,
  credentials: AwsCredentialSource | undefined,
  timeouts: AwsHttpTimeouts = AWS_HTTP_TIMEOUTS,
): Promise<CallerIdentity> {
  const sts = new STSClient({
    region: awsRegion,
    credentials,
    maxAttempts: GET_CALLER_IDENTITY_ATTEMPTS,
    requestHandler: awsRequestHandler(timeouts),
    customUserAgent: USER_AGENT,
  });
  try {
    const out = await sts.send(new GetCallerIdentityCommand({}));
    const arn = out.Arn ?? '';
    const partition = (arn.split(':')[1] ?? 'aws') as Partition;
    if (!out.Account) throw new Error('STS answered GetCallerIdentity without an account.');
    return { accountId: out.Account, arn, partition };
  } catch (err) {
    const hint =
      credentials === undefined
        ? ' Without role-to-assume the action uses credentials already in the environment: set role-to-assume (with "permissions: id-token: write"), or configure credentials in an earlier step.'
        : '';
    throw new Error(`Could not tell which AWS account these credentials belong to: ${sdkMessage(err)}.${hint}`, {
      cause: err,
    });
  } finally {
    sts.destroy();
  }
}
