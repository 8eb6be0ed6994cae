/**
 * End-to-end: the built dist/index.js on a runner whose only way out is its proxy. Every party (the
 * OIDC endpoint, STS, IAM, GitHub, and each chat) goes by a name only the fake proxy can reach, so a
 * request that skipped the proxy fails.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeAws } from '../fakes/aws.js';
import { demoAccount } from '../fakes/demo-account.js';
import { startFakeGithub } from '../fakes/github.js';
import { startFakeOidc } from '../fakes/oidc.js';
import { behindProxy, PROXIED_HOSTS, startProxyInFront } from '../fakes/proxy.js';
import { startFakeWecom } from '../fakes/wecom.js';
import { startFakeDingtalk } from '../fakes/dingtalk.js';
import { startFakeFeishu } from '../fakes/feishu.js';
import { startFakeSlack } from '../fakes/slack.js';
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
      // A proxy with credentials in its URL: the password is masked before anything is logged.
      env: { ...env, HTTPS_PROXY: env.HTTPS_PROXY!.replace('://', '://scanner:pr0xy%2Fpass@') },
    });
    expect(run.stdout).toContain('::add-mask::pr0xy/pass');

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

  it('reaches every chat through the proxy too: WeCom, DingTalk (signed), Feishu (signed) and Slack', async () => {
    const [aws, github, oidc, wecom, dingtalk, feishu, slack] = await Promise.all([
      startFakeAws({ account: demoAccount(), report: { inProgressPolls: 0 } }),
      startFakeGithub({ private: true }),
      startFakeOidc(),
      startFakeWecom(),
      startFakeDingtalk({ secret: 'SECproxyDingtalk0001' }),
      startFakeFeishu({ secret: 'proxy-feishu-0001' }),
      startFakeSlack(),
    ]);
    const { proxy, env } = await startProxyInFront({
      aws,
      github,
      oidc,
      chats: {
        [PROXIED_HOSTS.wecom]: wecom,
        [PROXIED_HOSTS.dingtalk]: { url: dingtalk.origin },
        [PROXIED_HOSTS.feishu]: { url: feishu.origin },
        [PROXIED_HOSTS.slack]: { url: slack.origin },
      },
    });
    for (const fake of [proxy, aws, github, oidc, wecom, dingtalk, feishu, slack]) stop.push(() => fake.close());

    const run = await runAction({
      inputs: {
        'role-to-assume': 'arn:aws:iam::111111111111:role/iam-stale-keys',
        'wecom-webhook-url': behindProxy(wecom.webhookUrl, PROXIED_HOSTS.wecom),
        'dingtalk-webhook-url': behindProxy(dingtalk.url, PROXIED_HOSTS.dingtalk),
        'dingtalk-secret': 'SECproxyDingtalk0001',
        'feishu-webhook-url': behindProxy(feishu.url, PROXIED_HOSTS.feishu),
        'feishu-secret': 'proxy-feishu-0001',
        'slack-webhook-url': behindProxy(slack.url, PROXIED_HOSTS.slack),
      },
      // An empty NO_PROXY, as a runner that sets one for nothing has it.
      env: { ...env, HTTP_PROXY: env.HTTPS_PROXY!, NO_PROXY: '' },
    });

    expect(run.exitCode).toBe(1);
    expect(run.warnings).toEqual([]);
    expect(run.outputs['notified-channels']).toBe('wecom,dingtalk,feishu,slack');
    expect([
      wecom.messages.length,
      dingtalk.messages().length,
      feishu.messages().length,
      slack.messages().length,
    ]).toEqual([1, 1, 1, 1]);
    const hosts = new Set(proxy.requests().map((r) => r.host));
    expect([...hosts].sort()).toEqual([
      'api.github.test',
      'hooks.slack.com',
      'iam.aws.test',
      'oapi.dingtalk.com',
      'oidc.github.test',
      'open.feishu.cn',
      'qyapi.weixin.qq.com',
      'sts.aws.test',
    ]);
    expect(proxy.requests().every((r) => r.tunnelled)).toBe(true);
    // Every request the fakes answered came through the proxy.
    const answered = aws.requests.length + github.requests.length + oidc.requests.length + wecom.requests.length;
    const chats = dingtalk.requests().length + feishu.requests().length + slack.requests().length;
    expect(proxy.requests()).toHaveLength(answered + chats);
  });
});
