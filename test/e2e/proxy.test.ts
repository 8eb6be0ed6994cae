/**
 * End-to-end: the built dist/index.js on a runner whose only way out is its proxy. Every party (the
 * OIDC endpoint, STS, IAM, GitHub, WeCom) goes by a name only the fake proxy can reach, so a
 * request that skipped the proxy fails.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeAws } from '../fakes/aws.js';
import { demoAccount } from '../fakes/demo-account.js';
import { startFakeGithub } from '../fakes/github.js';
import { startFakeOidc } from '../fakes/oidc.js';
import { behindProxy, PROXIED_HOSTS, startProxyInFront } from '../fakes/proxy.js';
import { startFakeWecom } from '../fakes/wecom.js';
import { runAction } from '../helpers/run-action.js';

const stop: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(stop.splice(0).map((close) => close()));
});

describe('behind a proxy', () => {
  it('signs in, scans, opens the tracking issue and notifies WeCom, every request through HTTPS_PROXY', async () => {
    const [aws, github, oidc, wecom] = await Promise.all([
      startFakeAws({ account: demoAccount(), report: { inProgressPolls: 0 } }),
      startFakeGithub({ private: true }),
      startFakeOidc(),
      startFakeWecom(),
    ]);
    const { proxy, env } = await startProxyInFront({ aws, github, oidc, chats: { [PROXIED_HOSTS.wecom]: wecom } });
    stop.push(
      () => proxy.close(),
      () => aws.close(),
      () => github.close(),
      () => oidc.close(),
      () => wecom.close(),
    );

    const run = await runAction({
      inputs: {
        'role-to-assume': 'arn:aws:iam::111111111111:role/iam-stale-keys',
        'wecom-webhook-url': behindProxy(wecom.webhookUrl, PROXIED_HOSTS.wecom),
      },
      env,
    });

    expect(run.exitCode).toBe(1);
    expect(run.warnings).toEqual([]);
    expect(run.outputs['stale-count']).toBe('4');
    expect(run.outputs['issue-number']).toBe('1');
    expect(run.outputs.notified).toBe('true');
    expect(wecom.messages).toHaveLength(1);
    const hosts = new Set(proxy.requests().map((r) => r.host));
    expect([...hosts].sort()).toEqual([
      'api.github.test',
      'iam.aws.test',
      'oidc.github.test',
      'qyapi.weixin.qq.com',
      'sts.aws.test',
    ]);
    expect(proxy.requests().every((r) => r.tunnelled)).toBe(true);
    // Kept-alive tunnels: far fewer CONNECTs than requests.
    expect(proxy.tunnels().length).toBeLessThan(proxy.requests().length);
  });
});
