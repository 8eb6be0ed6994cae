/** src/aws/sessions.ts: renewal timing, shared tokens and names, with an injected clock. */
import { describe, expect, it, vi } from 'vitest';
import type { AwsCredentials } from '../../src/aws/credentials.js';
import {
  memberAssumeHint,
  memberRoleArn,
  RENEW_BEFORE_MS,
  renewingCredentials,
  sharedIdToken,
} from '../../src/aws/sessions.js';

const MINUTE = 60_000;

/** A sign-in that hands out numbered sessions of `lifeMs`, on a clock the test moves. */
function clockAndSignIn(lifeMs: number | null) {
  const clock = { now: 1_000_000 };
  let n = 0;
  const signIn = vi.fn(async (): Promise<AwsCredentials> => {
    n += 1;
    return {
      accessKeyId: `ASIA${n}`,
      secretAccessKey: 's',
      ...(lifeMs !== null && { expiration: new Date(clock.now + lifeMs) }),
    };
  });
  return { clock, signIn, now: () => clock.now };
}

describe('renewingCredentials', () => {
  it('signs in on first use, keeps the session, and renews it five minutes before it ends', async () => {
    const { clock, signIn, now } = clockAndSignIn(60 * MINUTE);
    const provider = renewingCredentials(signIn, { now });

    expect((await provider()).accessKeyId).toBe('ASIA1');
    clock.now += 55 * MINUTE - 1;
    expect((await provider()).accessKeyId).toBe('ASIA1');
    clock.now += 1;
    expect((await provider()).accessKeyId).toBe('ASIA2');
    expect(signIn).toHaveBeenCalledTimes(2);
    expect(RENEW_BEFORE_MS).toBe(5 * MINUTE);
  });

  it('renews a short session at half its length, not at every call', async () => {
    const { clock, signIn, now } = clockAndSignIn(4_000);
    const provider = renewingCredentials(signIn, { now });
    await provider();
    clock.now += 1_999;
    expect((await provider()).accessKeyId).toBe('ASIA1');
    clock.now += 1;
    expect((await provider()).accessKeyId).toBe('ASIA2');
  });

  it('shares one sign-in among callers at the same time', async () => {
    const { signIn, now } = clockAndSignIn(60 * MINUTE);
    const provider = renewingCredentials(signIn, { now });
    const all = await Promise.all(Array.from({ length: 20 }, () => provider()));
    expect(new Set(all.map((c) => c.accessKeyId))).toEqual(new Set(['ASIA1']));
    expect(signIn).toHaveBeenCalledTimes(1);
  });

  it('starts from credentials in hand, and keeps credentials without an expiration for good', async () => {
    const { clock, signIn, now } = clockAndSignIn(null);
    const initial = { accessKeyId: 'ASIA0', secretAccessKey: 's', expiration: new Date(clock.now + 60 * MINUTE) };
    const provider = renewingCredentials(signIn, { now, initial });
    expect((await provider()).accessKeyId).toBe('ASIA0');
    clock.now += 56 * MINUTE;
    expect((await provider()).accessKeyId).toBe('ASIA1');
    clock.now += 1_000 * MINUTE;
    expect((await provider()).accessKeyId).toBe('ASIA1');
    expect(signIn).toHaveBeenCalledTimes(1);
  });

  it('throws a failed sign-in to its callers and tries again at the next call', async () => {
    const signIn = vi
      .fn<() => Promise<AwsCredentials>>()
      .mockRejectedValueOnce(new Error('STS said no'))
      .mockResolvedValue({ accessKeyId: 'ASIA1', secretAccessKey: 's' });
    const provider = renewingCredentials(signIn);
    await expect(Promise.all([provider(), provider()])).rejects.toThrow('STS said no');
    expect(signIn).toHaveBeenCalledTimes(1);
    expect((await provider()).accessKeyId).toBe('ASIA1');
  });
});

describe('sharedIdToken', () => {
  it('shares a token for a minute per audience, then asks for a fresh one; never keeps a failure', async () => {
    const clock = { now: 0 };
    let n = 0;
    const get = vi.fn(async (audience: string) => {
      n += 1;
      if (n === 3) throw new Error('runner down');
      return `${audience}#${n}`;
    });
    const token = sharedIdToken(get, { now: () => clock.now });

    expect(await token('sts.amazonaws.com')).toBe('sts.amazonaws.com#1');
    clock.now += 59_999;
    expect(await token('sts.amazonaws.com')).toBe('sts.amazonaws.com#1');
    expect(await token('sts.amazonaws.com.cn')).toBe('sts.amazonaws.com.cn#2');
    clock.now += 1;
    await expect(token('sts.amazonaws.com')).rejects.toThrow('runner down');
    expect(await token('sts.amazonaws.com')).toBe('sts.amazonaws.com#4');
  });
});

describe('memberRoleArn', () => {
  it('builds the role ARN in the partition, with a path when the name has one', () => {
    expect(memberRoleArn('aws', '222222222222', 'iam-stale-keys')).toBe(
      'arn:aws:iam::222222222222:role/iam-stale-keys',
    );
    expect(memberRoleArn('aws-cn', '222222222222', '/security/iam-stale-keys')).toBe(
      'arn:aws-cn:iam::222222222222:role/security/iam-stale-keys',
    );
    expect(() => memberRoleArn('aws', '2222', 'x')).toThrow('Not an AWS account ID: "2222"');
    expect(() => memberRoleArn('aws', '222222222222', 'has space')).toThrow('Not an IAM role name: "has space"');
  });
});

describe('memberAssumeHint', () => {
  const role = 'arn:aws:iam::222222222222:role/member';
  const denied = (message: string) => Object.assign(new Error(message), { name: 'AccessDenied' });

  it('names the hub ARN as the principal when AWS does not say who it refused', () => {
    expect(memberAssumeHint(denied('Access denied'), role, 'arn:aws:iam::111111111111:role/ci/hub')).toBe(
      "The member role's trust policy must allow arn:aws:iam::111111111111:role/ci/hub to call sts:AssumeRole, " +
        "and the hub role's permission policy must allow sts:AssumeRole on arn:aws:iam::222222222222:role/member. " +
        'AWS answers the same when account 222222222222 has no role by that name: deploy it there ' +
        '(a CloudFormation StackSet reaches every member account, but not the management account).',
    );
  });

  it('names a refused IAM user as it is, and says nothing for a failure that is not a refusal', () => {
    const user = 'arn:aws:iam::111111111111:user/ci';
    expect(memberAssumeHint(denied(`User: ${user} is not authorized to perform: sts:AssumeRole`), role)).toMatch(
      new RegExp(`^The member role's trust policy must allow ${user} to call sts:AssumeRole,`),
    );
    expect(memberAssumeHint(Object.assign(new Error('Rate exceeded'), { name: 'Throttling' }), role)).toBe('');
  });
});
