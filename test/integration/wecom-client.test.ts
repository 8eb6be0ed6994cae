import { afterEach, describe, expect, it } from 'vitest';
import {
  apiBaseUrlProblem,
  sendAppMessage,
  sendRobotMessage,
  webhookUrlProblem,
  WecomError,
  type RobotMessage,
  type WecomApp,
  type WecomDeps,
} from '../../src/notifications/wecom/client.js';
import { startFakeWecom, type FakeWecom, type FakeWecomOptions } from '../fakes/wecom.js';

let fake: FakeWecom | undefined;

afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

async function start(opts?: FakeWecomOptions): Promise<FakeWecom> {
  fake = await startFakeWecom(opts);
  return fake;
}

/** No waiting between retries; records what was masked, what was said and how long each pause would have been. */
function deps(over: Partial<WecomDeps> = {}): WecomDeps & { secrets: string[]; slept: number[]; said: string[] } {
  const secrets: string[] = [];
  const slept: number[] = [];
  const said: string[] = [];
  return {
    sleep: async (ms) => {
      slept.push(ms);
    },
    random: () => 0.5,
    setSecret: (s) => secrets.push(s),
    info: (m) => said.push(m),
    timeoutMs: 2_000,
    secrets,
    slept,
    said,
    ...over,
  };
}

function app(f: FakeWecom, over: Partial<WecomApp> = {}): WecomApp {
  return {
    baseUrl: f.url,
    corpId: f.corpId,
    corpSecret: f.corpSecret,
    agentId: f.agentId,
    toUser: 'zhangsan|lisi',
    ...over,
  };
}

async function failure(promise: Promise<unknown>): Promise<WecomError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WecomError);
  return err as WecomError;
}

const markdown: RobotMessage = {
  msgtype: 'markdown',
  markdown: { content: '**账号 prod 有 3 个访问密钥已超过 90 天未轮换**' },
};

describe('sendRobotMessage', () => {
  it('posts the message as JSON and masks the key', async () => {
    const f = await start();
    const d = deps();
    const text: RobotMessage = {
      msgtype: 'text',
      text: { content: '请尽快轮换', mentioned_list: ['zhangsan', '@all'] },
    };

    await sendRobotMessage(f.webhookUrl, markdown, d);
    await sendRobotMessage(f.webhookUrl, text, d);

    expect(f.requests.map((r) => [r.method, r.query, r.body])).toEqual([
      ['POST', { key: f.robotKey }, markdown],
      ['POST', { key: f.robotKey }, text],
    ]);
    expect(f.messages).toEqual([
      { via: 'robot', msgtype: 'markdown', content: markdown.markdown.content },
      { via: 'robot', msgtype: 'text', content: '请尽快轮换', mentioned_list: ['zhangsan', '@all'] },
    ]);
    expect(d.secrets).toContain(f.robotKey);
  });

  it("waits out the robot's minute after a frequency limit (45009), once, then delivers", async () => {
    const f = await start({ failures: { webhook: [45009] } });
    const d = deps();
    const started = Date.now();

    await sendRobotMessage(f.webhookUrl, markdown, d);

    expect(f.requests.map((r) => r.answered.errcode)).toEqual([45009, 0]);
    expect(f.messages).toHaveLength(1);
    // 61 to 65 s, spread by the random number: 0.5 is the middle. Asked of the injected sleep, not waited.
    expect(d.slept).toEqual([63_000]);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(d.said).toEqual([
      'WeCom robot webhook (key hidden): rate-limited (errcode 45009, 20 messages a minute per robot); waiting 63 s, then trying once more.',
    ]);
  });

  it('spreads the wait between 61 and 65 s', async () => {
    for (const [random, wait] of [
      [0, 61_000],
      [1, 65_000],
    ] as const) {
      const f = await start({ failures: { webhook: [45009] } });
      const d = deps({ random: () => random });
      await sendRobotMessage(f.webhookUrl, markdown, d);
      expect(d.slept).toEqual([wait]);
      await f.close();
    }
  });

  it('gives up at a second 45009 after the wait: one more request, not four', async () => {
    const f = await start({ failures: { webhook: [45009, 45009, 45009] } });
    const d = deps();

    const err = await failure(sendRobotMessage(f.webhookUrl, markdown, d));

    expect(f.requests.map((r) => r.answered.errcode)).toEqual([45009, 45009]);
    expect(d.slept).toEqual([63_000]);
    expect(err.code).toBe(45009);
    expect(err.message).toMatch(
      /^WeCom robot webhook \(key hidden\) failed: errcode 45009 \(api freq out of limit, hint: \[[^\]]+\]\) again after a 63 s wait\. /,
    );
    expect(err.hint).toMatch(/20 messages a minute, refused ones included, from every job and workflow/);
    expect(err.hint).toMatch(/one digest \(organisation mode\)/);
    expect(err.message).not.toContain(f.robotKey);
  });

  it('keeps the short backoff for system busy (-1) and the concurrency limit (45033)', async () => {
    const f = await start({ failures: { webhook: [-1, 45033] } });
    const d = deps();

    await sendRobotMessage(f.webhookUrl, markdown, d);

    expect(f.requests.map((r) => r.answered.errcode)).toEqual([-1, 45033, 0]);
    expect(d.slept).toEqual([1_500, 3_000]);
    expect(d.said).toEqual([]);
  });

  it("a burst over 20 a minute: the 21st waits out the minute on the robot's clock and is delivered", async () => {
    let clock = 1_800_000_000_000;
    const f = await start({ robotRateLimit: { perMinute: 20, now: () => clock } });
    const d = deps({
      sleep: async (ms) => {
        d.slept.push(ms);
        clock += ms;
      },
    });

    for (let i = 0; i < 21; i++) {
      await sendRobotMessage(f.webhookUrl, { msgtype: 'text', text: { content: `message ${i}` } }, d);
      clock += 100;
    }

    expect(f.messages.map((m) => m.content)).toEqual(Array.from({ length: 21 }, (_, i) => `message ${i}`));
    expect(f.requests.filter((r) => r.answered.errcode === 45009)).toHaveLength(1);
    expect(d.slept).toEqual([63_000]);
  });

  it('a wait short of the minute would not do: the robot counts the refused send too', async () => {
    let clock = 1_800_000_000_000;
    const f = await start({ robotRateLimit: { perMinute: 20, now: () => clock } });
    for (let i = 0; i < 20; i++) await sendRobotMessage(f.webhookUrl, markdown, deps());
    // Stop the wait short of the minute: the try after it is refused, and the call ends there.
    const d = deps({
      sleep: async (ms) => {
        d.slept.push(ms);
        clock += ms - 10_000;
      },
    });

    const err = await failure(sendRobotMessage(f.webhookUrl, markdown, d));

    expect(err.code).toBe(45009);
    expect(f.requests.slice(20).map((r) => r.answered.errcode)).toEqual([45009, 45009]);
  });

  it('waits out a 45009 of the app message API the same way', async () => {
    const f = await start({ failures: { send: [45009] } });
    const d = deps();
    await sendAppMessage(app(f), 'hi', d);
    expect(f.requests.map((r) => [r.endpoint, r.answered.errcode])).toEqual([
      ['gettoken', 0],
      ['send', 45009],
      ['send', 0],
    ]);
    expect(d.slept).toEqual([63_000]);
  });

  it('retries an HTTP 502, then succeeds', async () => {
    const f = await start({ failures: { webhook: [{ status: 502 }] } });

    await sendRobotMessage(f.webhookUrl, markdown, deps());

    expect(f.requests.map((r) => r.answered)).toEqual([{ status: 502 }, { status: 200, errcode: 0 }]);
    expect(f.messages).toHaveLength(1);
  });

  it('gives up on busy (-1) after the configured attempts', async () => {
    const f = await start({ failures: { webhook: [-1, -1, -1] } });

    const err = await failure(sendRobotMessage(f.webhookUrl, markdown, deps({ attempts: 3 })));

    expect(f.requests).toHaveLength(3);
    expect(err.code).toBe(-1);
    expect(err.hint).toMatch(/busy/);
  });

  it('fails at once on 93000 with a hint, WeCom errmsg without its tail, and no key', async () => {
    const f = await start({ robotKey: 'very-secret-robot-key' });
    const wrong = `${f.url}/cgi-bin/webhook/send?key=another-secret-key`;

    const err = await failure(sendRobotMessage(wrong, markdown, deps()));

    expect(f.requests).toHaveLength(1);
    expect(err.code).toBe(93000);
    expect(err.hint).toMatch(/copy the whole URL from the group robot's settings/);
    expect(err.message).toMatch(
      /^WeCom robot webhook \(key hidden\) failed: errcode 93000 \(invalid webhook url, hint: \[[^\]]+\]\)\. /,
    );
    expect(err.message).toContain(err.hint);
    for (const hidden of ['another-secret-key', 'very-secret-robot-key', f.url, 'from ip', 'more info']) {
      expect(err.message).not.toContain(hidden);
    }
  });

  it('says when WeCom finds the message too long (40058)', async () => {
    const f = await start();
    const err = await failure(
      sendRobotMessage(f.webhookUrl, { msgtype: 'text', text: { content: '密'.repeat(683) } }, deps()),
    );
    expect(err.code).toBe(40058);
    expect(err.hint).toMatch(/too long/);
  });

  it('stops at the first time-out: one request, no retry, "no answer in 10 s"', async () => {
    const f = await start({ failures: { webhook: [{ hang: true }] } });
    const d = deps({ timeoutMs: 200 });
    const started = Date.now();

    const err = await failure(sendRobotMessage(f.webhookUrl, markdown, d));

    expect(Date.now() - started).toBeLessThan(1_500);
    expect(f.requests.map((r) => r.answered.status)).toEqual([0]);
    expect(d.slept).toEqual([]);
    expect(err.code).toBeNull();
    expect(err.retryable).toBe(false);
    expect(err.message).toBe(
      'WeCom robot webhook (key hidden) failed: no answer in 200 ms. Check that the runner can reach WeCom (a firewall, or HTTPS_PROXY and NO_PROXY).',
    );
    expect(err.message).not.toContain(f.robotKey);
  });

  it('says the time-out in seconds, as the default 10 s reads', async () => {
    const f = await start({ failures: { webhook: [{ hang: true }] } });
    const err = await failure(sendRobotMessage(f.webhookUrl, markdown, deps({ timeoutMs: 1_000 })));
    expect(err.message).toMatch(/^WeCom robot webhook \(key hidden\) failed: no answer in 1 s\. /);
  });

  it('ends an app message at a gettoken that never answers, without sending', async () => {
    const f = await start({ failures: { gettoken: [{ hang: true }] } });
    const err = await failure(sendAppMessage(app(f), 'hi', deps({ timeoutMs: 200 })));
    expect(err.message).toMatch(/^WeCom gettoken failed: no answer in 200 ms\./);
    expect(f.requests.map((r) => r.endpoint)).toEqual(['gettoken']);
  });

  it('bounds the retries: four requests at most, pauses of at most 2, 4 and 8 s, or the minute for a 45009', async () => {
    const f = await start({ failures: { webhook: [{ status: 502 }, -1, 45033, 45033, 45033] } });
    const d = deps({ attempts: undefined, random: () => 1 });

    const err = await failure(sendRobotMessage(f.webhookUrl, markdown, d));

    expect(f.requests.map((r) => r.answered)).toEqual([
      { status: 502 },
      { status: 200, errcode: -1 },
      { status: 200, errcode: 45033 },
      { status: 200, errcode: 45033 },
    ]);
    expect(d.slept).toEqual([2_000, 4_000, 8_000]);
    expect(err.code).toBe(45033);
    expect(f.messages).toEqual([]);

    const g = await start({ failures: { webhook: [{ status: 502 }, -1, 45009, 45009, 45009] } });
    const e = deps({ attempts: undefined, random: () => 1 });
    const limited = await failure(sendRobotMessage(g.webhookUrl, markdown, e));
    expect(g.requests.map((r) => r.answered.errcode ?? r.answered.status)).toEqual([502, -1, 45009, 45009]);
    expect(e.slept).toEqual([2_000, 4_000, 65_000]);
    expect(limited.code).toBe(45009);
    await g.close();
  });

  it('keeps the four-request bound when the frequency limit comes last', async () => {
    const f = await start({ failures: { webhook: [{ status: 502 }, -1, 45033, 45009] } });
    const d = deps({ attempts: undefined, random: () => 1 });

    const err = await failure(sendRobotMessage(f.webhookUrl, markdown, d));

    expect(f.requests).toHaveLength(4);
    expect(d.slept).toEqual([2_000, 4_000, 8_000]);
    expect(err.code).toBe(45009);
    expect(f.messages).toEqual([]);
  });

  it('reports a refused connection without the address', async () => {
    const f = await start();
    const url = f.webhookUrl;
    await f.close();

    const err = await failure(sendRobotMessage(url, markdown, deps({ attempts: 2 })));

    expect(err.code).toBeNull();
    expect(err.message).toMatch(/could not reach WeCom \(ECONNREFUSED\)/);
    expect(err.message).not.toContain(f.robotKey);
    expect(err.message).not.toContain(f.url);
  });

  it('refuses an invalid webhook URL before sending anything', async () => {
    const f = await start();
    const err = await failure(sendRobotMessage(`${f.url}/cgi-bin/webhook/send`, markdown, deps()));
    expect(err.message).toMatch(/Input "wecom-webhook-url" is not a WeCom group robot URL/);
    expect(f.requests).toEqual([]);
  });
});

describe('sendAppMessage', () => {
  it('gets a token, masks it and the secret, then sends as the app', async () => {
    const f = await start();
    const d = deps();

    await sendAppMessage(app(f), '账号 prod 有 3 个访问密钥已超过 90 天未轮换', d);

    expect(f.requests.map((r) => [r.endpoint, r.method])).toEqual([
      ['gettoken', 'GET'],
      ['send', 'POST'],
    ]);
    expect(f.requests[0]?.query).toEqual({ corpid: f.corpId, corpsecret: f.corpSecret });
    const token = f.issuedTokens[0];
    expect(f.requests[1]?.query).toEqual({ access_token: token });
    expect(f.requests[1]?.body).toEqual({
      touser: 'zhangsan|lisi',
      msgtype: 'text',
      agentid: f.agentId,
      text: { content: '账号 prod 有 3 个访问密钥已超过 90 天未轮换' },
    });
    expect(f.messages).toEqual([
      {
        via: 'app',
        msgtype: 'text',
        content: '账号 prod 有 3 个访问密钥已超过 90 天未轮换',
        touser: 'zhangsan|lisi',
        agentid: f.agentId,
      },
    ]);
    expect(d.secrets).toEqual([f.corpSecret, token]);
  });

  it('keeps a path prefix of the base URL', async () => {
    const f = await start();
    const err = await failure(sendAppMessage(app(f, { baseUrl: `${f.url}/proxy/` }), 'hi', deps()));
    expect(f.requests[0]?.url).toMatch(/^\/proxy\/cgi-bin\/gettoken\?corpid=/);
    expect(err.message).toBe('WeCom gettoken failed: HTTP 404. Check the URL.');
  });

  it('explains a trusted-IP refusal (60020) without the token', async () => {
    const f = await start({ failures: { send: [60020] } });

    const err = await failure(sendAppMessage(app(f), 'hi', deps()));

    expect(err.code).toBe(60020);
    expect(err.hint).toMatch(/trusted IP list does not include this runner/);
    expect(err.hint).toMatch(/self-hosted runner with a fixed IP/);
    expect(err.message).toMatch(/^WeCom message\/send failed: errcode 60020 \(not allow to access from your ip/);
    expect(err.message).not.toContain(f.issuedTokens[0]);
    expect(err.message).not.toContain('127.0.0.1');
    expect(f.messages).toEqual([]);
  });

  it('explains a wrong secret (40001) without the secret', async () => {
    const f = await start();

    const err = await failure(sendAppMessage(app(f, { corpSecret: 'wrong-secret-value' }), 'hi', deps()));

    expect(err.code).toBe(40001);
    expect(err.hint).toMatch(/corp ID, the app's secret or the access token is wrong or expired/);
    expect(err.message).not.toContain('wrong-secret-value');
    expect(f.requests.map((r) => r.endpoint)).toEqual(['gettoken']);
  });

  it('retries a busy gettoken', async () => {
    const f = await start({ failures: { gettoken: [-1, { status: 503 }] } });
    await sendAppMessage(app(f), 'hi', deps());
    expect(f.requests.map((r) => r.endpoint)).toEqual(['gettoken', 'gettoken', 'gettoken', 'send']);
    expect(f.messages).toHaveLength(1);
  });
});

describe('URL validation', () => {
  it('accepts https and loopback http webhook URLs with a key', () => {
    expect(webhookUrlProblem('https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc')).toBeNull();
    expect(webhookUrlProblem('http://127.0.0.1:8080/cgi-bin/webhook/send?key=abc')).toBeNull();
    expect(webhookUrlProblem('http://127.3.4.5/cgi-bin/webhook/send?key=abc')).toBeNull();
    expect(webhookUrlProblem('http://[::1]:8080/cgi-bin/webhook/send?key=abc')).toBeNull();
    expect(webhookUrlProblem('http://localhost/cgi-bin/webhook/send?key=abc')).toBeNull();
  });

  it('rejects plain http elsewhere, a missing key and non-URLs, never quoting the key', () => {
    const cases = {
      'http://example.com/cgi-bin/webhook/send?key=s3cr3t': /must start with https:\/\//,
      'http://127.0.0.1.example.com/cgi-bin/webhook/send?key=s3cr3t': /must start with https:\/\//,
      'ftp://127.0.0.1/?key=s3cr3t': /must start with https:\/\//,
      'https://qyapi.weixin.qq.com/cgi-bin/webhook/send': /is not a WeCom group robot URL/,
      'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=': /is not a WeCom group robot URL/,
      s3cr3t: /is not a URL/,
    };
    for (const [url, pattern] of Object.entries(cases)) {
      const problem = webhookUrlProblem(url);
      expect(problem).toMatch(pattern);
      expect(problem).toMatch(/^Input "wecom-webhook-url" .*Copy the whole URL/);
      expect(problem).not.toContain('s3cr3t');
    }
  });

  it('applies the same rule to the API base URL', () => {
    expect(apiBaseUrlProblem('https://qyapi.weixin.qq.com')).toBeNull();
    expect(apiBaseUrlProblem('http://127.0.0.1:9000/')).toBeNull();
    expect(apiBaseUrlProblem('http://qyapi.weixin.qq.com')).toMatch(
      /^Input "wecom-api-base-url" must start with https:\/\//,
    );
    expect(apiBaseUrlProblem('qyapi.weixin.qq.com')).toMatch(/^Input "wecom-api-base-url" is not a URL/);
    expect(apiBaseUrlProblem('https://qyapi.weixin.qq.com/?x=1')).toMatch(/must not have a query/);
  });
});
