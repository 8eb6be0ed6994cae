import { afterEach, describe, expect, it, vi } from 'vitest';
import { startFakeWecom, type FakeWecom, type FakeWecomOptions } from '../fakes/wecom.js';

interface WecomReply {
  errcode: number;
  errmsg: string;
  access_token?: string;
  expires_in?: number;
  invaliduser?: string;
  msgid?: string;
}

let fake: FakeWecom | undefined;

afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

async function start(opts?: FakeWecomOptions): Promise<FakeWecom> {
  fake = await startFakeWecom(opts);
  return fake;
}

function post(url: string, body: unknown, init: RequestInit = {}): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json; charset=utf-8' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    ...init,
  });
}

async function reply(res: Response): Promise<WecomReply> {
  expect(res.status).toBe(200);
  return (await res.json()) as WecomReply;
}

/** The errmsg tail WeCom appends to every error. */
function errmsgPattern(prefix: string, errcode: number): RegExp {
  const escaped = prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(
    `^${escaped}, hint: \\[[^\\]]+\\], from ip: 127\\.0\\.0\\.1, more info at https://open\\.work\\.weixin\\.qq\\.com/devtool/query\\?e=${errcode}$`,
  );
}

async function getToken(f: FakeWecom): Promise<string> {
  const q = new URLSearchParams({ corpid: f.corpId, corpsecret: f.corpSecret });
  const body = await reply(await fetch(`${f.url}/cgi-bin/gettoken?${q}`));
  expect(body.errcode).toBe(0);
  return body.access_token ?? '';
}

describe('fake WeCom: group robot webhook', () => {
  it('delivers a text message and records the request', async () => {
    const f = await start();
    expect(f.webhookUrl).toBe(`${f.url}/cgi-bin/webhook/send?key=test-robot-key-0001`);

    const res = await post(f.webhookUrl, { msgtype: 'text', text: { content: '发现 2 个过期密钥' } });

    expect(await reply(res)).toEqual({ errcode: 0, errmsg: 'ok' });
    expect(f.messages).toEqual([{ via: 'robot', msgtype: 'text', content: '发现 2 个过期密钥' }]);
    expect(f.requests).toHaveLength(1);
    expect(f.requests[0]).toMatchObject({
      endpoint: 'webhook',
      method: 'POST',
      query: { key: f.robotKey },
      body: { msgtype: 'text', text: { content: '发现 2 个过期密钥' } },
      answered: { status: 200, errcode: 0 },
    });
    expect(f.requests[0]?.bytes).toBe(Buffer.byteLength(f.requests[0]?.rawBody ?? ''));
  });

  it('answers 93000 for a wrong or missing key', async () => {
    const f = await start();
    const msg = { msgtype: 'text', text: { content: 'hi' } };

    const wrong = await reply(await post(`${f.url}/cgi-bin/webhook/send?key=nope`, msg));
    const missing = await reply(await post(`${f.url}/cgi-bin/webhook/send`, msg));

    for (const body of [wrong, missing]) {
      expect(body.errcode).toBe(93000);
      expect(body.errmsg).toMatch(errmsgPattern('invalid webhook url', 93000));
    }
    expect(f.messages).toEqual([]);
    expect(f.requests.map((r) => r.answered)).toEqual([
      { status: 200, errcode: 93000 },
      { status: 200, errcode: 93000 },
    ]);
  });

  it.each(['markdown', 'markdown_v2'] as const)(
    'accepts %s of exactly 4096 UTF-8 bytes and rejects 4097 with 40058',
    async (msgtype) => {
      const f = await start();
      // 8 bytes per unit ("中文" = 6 bytes, "ab" = 2): 512 units = 4096 bytes, 2048 chars.
      const exact = '中文ab'.repeat(512);
      const over = `${exact}x`;
      expect(Buffer.byteLength(exact, 'utf8')).toBe(4096);
      expect(over.length).toBeLessThan(4096); // a char-counting limit would wrongly accept it

      const ok = await reply(await post(f.webhookUrl, { msgtype, [msgtype]: { content: exact } }));
      const tooLong = await reply(await post(f.webhookUrl, { msgtype, [msgtype]: { content: over } }));

      expect(ok).toEqual({ errcode: 0, errmsg: 'ok' });
      expect(tooLong.errcode).toBe(40058);
      expect(tooLong.errmsg).toMatch(
        errmsgPattern(`${msgtype}.content exceed max length 4096. invalid Request Parameter`, 40058),
      );
      expect(f.messages).toEqual([{ via: 'robot', msgtype, content: exact }]);
    },
  );

  it('records mentioned_list of a text message and limits text to 2048 bytes', async () => {
    const f = await start();

    const ok = await reply(
      await post(f.webhookUrl, {
        msgtype: 'text',
        text: { content: '请轮换密钥', mentioned_list: ['zhangsan', '@all'], mentioned_mobile_list: ['13800000000'] },
      }),
    );
    const tooLong = await reply(
      await post(f.webhookUrl, { msgtype: 'text', text: { content: '密'.repeat(683) } }), // 2049 bytes
    );

    expect(ok.errcode).toBe(0);
    expect(tooLong.errcode).toBe(40058);
    expect(tooLong.errmsg).toMatch(/^text\.content exceed max length 2048\. /);
    expect(f.messages).toEqual([
      {
        via: 'robot',
        msgtype: 'text',
        content: '请轮换密钥',
        mentioned_list: ['zhangsan', '@all'],
        mentioned_mobile_list: ['13800000000'],
      },
    ]);
  });

  it('serves a scripted 45009 before the real answer', async () => {
    const f = await start({ failures: { webhook: [45009] } });
    const msg = { msgtype: 'markdown', markdown: { content: '**stale keys**' } };

    const first = await reply(await post(f.webhookUrl, msg));
    const second = await reply(await post(f.webhookUrl, msg));

    expect(first.errcode).toBe(45009);
    expect(first.errmsg).toMatch(errmsgPattern('api freq out of limit', 45009));
    expect(second).toEqual({ errcode: 0, errmsg: 'ok' });
    expect(f.messages).toHaveLength(1);
    expect(f.requests.map((r) => r.answered.errcode)).toEqual([45009, 0]);
  });

  it('limits the robot to 20 sends in any 60 s, counting refused ones, when asked to', async () => {
    let clock = 1_800_000_000_000;
    const f = await start({ robotRateLimit: { perMinute: 20, now: () => clock } });
    const msg = { msgtype: 'text', text: { content: 'hi' } };
    const send = async () => (await reply(await post(f.webhookUrl, msg))).errcode;

    for (let i = 0; i < 20; i++) expect(await send()).toBe(0);
    clock += 30_000;
    expect(await send()).toBe(45009);
    // 60 s after the first 20: they are out of the minute, but the refused one is not.
    clock += 30_000;
    expect(await send()).toBe(0);
    expect(f.messages).toHaveLength(21);
    expect(await reply(await post(`${f.url}/cgi-bin/webhook/send?key=wrong`, msg))).toMatchObject({ errcode: 93000 });
  });

  it('records the <@userid> mentions of markdown, and none for markdown_v2 or a mentioned_list on markdown', async () => {
    const f = await start();
    const content = '**3 stale keys**\n>`svc_a` `AKIA…`\n<@zhangsan> <@li.si> <@zhangsan>';

    await reply(await post(f.webhookUrl, { msgtype: 'markdown', markdown: { content } }));
    await reply(await post(f.webhookUrl, { msgtype: 'markdown_v2', markdown_v2: { content } }));
    await reply(
      await post(f.webhookUrl, { msgtype: 'markdown', markdown: { content: 'no one', mentioned_list: ['@all'] } }),
    );

    expect(f.messages).toEqual([
      { via: 'robot', msgtype: 'markdown', content, mentioned_list: ['zhangsan', 'li.si'] },
      { via: 'robot', msgtype: 'markdown_v2', content },
      { via: 'robot', msgtype: 'markdown', content: 'no one' },
    ]);
  });

  it('serves a scripted HTTP 502, then recovers', async () => {
    const f = await start({ failures: { webhook: [{ status: 502 }] } });
    const msg = { msgtype: 'text', text: { content: 'retry me' } };

    const first = await post(f.webhookUrl, msg);
    expect(first.status).toBe(502);
    await first.text();
    const second = await reply(await post(f.webhookUrl, msg));

    expect(second.errcode).toBe(0);
    expect(f.requests.map((r) => r.answered)).toEqual([{ status: 502 }, { status: 200, errcode: 0 }]);
    expect(f.messages).toHaveLength(1);
  });

  it('rejects a body that is not JSON and an unknown msgtype', async () => {
    const f = await start();

    const broken = await reply(await post(f.webhookUrl, '{"msgtype": "text",'));
    const unknownType = await reply(await post(f.webhookUrl, { msgtype: 'voice', voice: {} }));

    expect(broken.errcode).not.toBe(0);
    expect(unknownType.errcode).toBe(40008);
    expect(f.requests[0]?.body).toBeUndefined();
    expect(f.requests[0]?.rawBody).toBe('{"msgtype": "text",');
    expect(f.messages).toEqual([]);
  });
});

describe('fake WeCom: app message API', () => {
  it('issues a token and delivers a message with it', async () => {
    const f = await start();

    const q = new URLSearchParams({ corpid: f.corpId, corpsecret: f.corpSecret });
    const tokenReply = await reply(await fetch(`${f.url}/cgi-bin/gettoken?${q}`));
    expect(tokenReply).toMatchObject({ errcode: 0, errmsg: 'ok', expires_in: 7200 });
    const token = tokenReply.access_token ?? '';
    expect(token.length).toBeGreaterThan(20);
    expect(f.issuedTokens).toEqual([token]);

    const sent = await reply(
      await post(`${f.url}/cgi-bin/message/send?access_token=${token}`, {
        touser: 'zhangsan|lisi',
        msgtype: 'markdown',
        agentid: f.agentId,
        markdown: { content: '# 过期密钥\n- AKIA…' },
      }),
    );

    expect(sent).toMatchObject({ errcode: 0, errmsg: 'ok', invaliduser: '' });
    expect(sent.msgid).toEqual(expect.any(String));
    expect(f.messages).toEqual([
      { via: 'app', msgtype: 'markdown', content: '# 过期密钥\n- AKIA…', touser: 'zhangsan|lisi', agentid: 1000002 },
    ]);
    expect(f.requests.map((r) => r.endpoint)).toEqual(['gettoken', 'send']);
  });

  it('refuses a wrong corpid (40013) and a wrong secret (40001)', async () => {
    const f = await start();
    const get = (corpid: string, corpsecret: string) =>
      fetch(`${f.url}/cgi-bin/gettoken?${new URLSearchParams({ corpid, corpsecret })}`).then(reply);

    const badCorp = await get('ww-other', f.corpSecret);
    const badSecret = await get(f.corpId, 'wrong');

    expect(badCorp.errcode).toBe(40013);
    expect(badCorp.errmsg).toMatch(errmsgPattern('invalid corpid', 40013));
    expect(badSecret.errcode).toBe(40001);
    expect(badCorp.access_token).toBeUndefined();
    expect(f.issuedTokens).toEqual([]);
  });

  it('answers 40014 for an access_token it never issued', async () => {
    const f = await start();
    await getToken(f);

    const body = await reply(
      await post(`${f.url}/cgi-bin/message/send?access_token=forged`, {
        touser: '@all',
        msgtype: 'text',
        agentid: f.agentId,
        text: { content: 'hi' },
      }),
    );

    expect(body.errcode).toBe(40014);
    expect(body.errmsg).toMatch(errmsgPattern('invalid access_token', 40014));
    expect(f.messages).toEqual([]);
  });

  it('answers 40058 for app text over 2048 bytes', async () => {
    const f = await start();
    const token = await getToken(f);

    const body = await reply(
      await post(`${f.url}/cgi-bin/message/send?access_token=${token}`, {
        touser: '@all',
        msgtype: 'text',
        agentid: f.agentId,
        text: { content: 'a'.repeat(2047) + '密' },
      }),
    );

    expect(body.errcode).toBe(40058);
    expect(body.errmsg).toMatch(/^text\.content exceed max length 2048\. /);
    expect(f.messages).toEqual([]);
  });

  it('serves a scripted 60020 (trusted-IP refusal) on send', async () => {
    const f = await start({ failures: { send: [60020] } });
    const token = await getToken(f);
    const msg = { touser: '@all', msgtype: 'text', agentid: f.agentId, text: { content: 'hi' } };
    const url = `${f.url}/cgi-bin/message/send?access_token=${token}`;

    const refused = await reply(await post(url, msg));
    const accepted = await reply(await post(url, msg));

    expect(refused.errcode).toBe(60020);
    expect(refused.errmsg).toMatch(errmsgPattern('not allow to access from your ip', 60020));
    expect(accepted.errcode).toBe(0);
    expect(f.messages).toHaveLength(1);
  });
});

describe('fake WeCom: hanging requests', () => {
  it('lets a client time out, then close() resolves promptly', async () => {
    const f = await start({ failures: { webhook: [{ hang: true }] } });

    const attempt = post(
      f.webhookUrl,
      { msgtype: 'text', text: { content: 'hang' } },
      { signal: AbortSignal.timeout(200) },
    );

    await expect(attempt).rejects.toMatchObject({ name: 'TimeoutError' });
    expect(f.requests).toHaveLength(1);
    expect(f.requests[0]?.answered).toEqual({ status: 0 });
    expect(f.messages).toEqual([]);

    const started = Date.now();
    await f.close();
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('close() does not wait for a request still hanging', async () => {
    const f = await start({ failures: { gettoken: [{ hang: true }] } });

    const pending = fetch(`${f.url}/cgi-bin/gettoken?corpid=${f.corpId}&corpsecret=${f.corpSecret}`);
    const outcome = pending.then(
      () => 'answered',
      () => 'failed',
    );
    await vi.waitFor(() => expect(f.requests).toHaveLength(1));

    const started = Date.now();
    await f.close();
    expect(Date.now() - started).toBeLessThan(1000);
    expect(await outcome).toBe('failed');
  });
});
