import { createHmac } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  DINGTALK_MAX_BODY_BYTES,
  startFakeDingtalk,
  type FakeDingtalk,
  type FakeDingtalkOptions,
} from '../fakes/dingtalk.js';

interface DingtalkReply {
  errcode: number;
  errmsg: string;
}

const SECRET = 'SEC3c9f2a7d41e8b6055c0d9a1e27f4b38c6d5e0a9f1b2c3d4e5f60718293a4b5c6';
/**
 * A known answer, computed by hand with openssl, not with the code under test:
 *   printf '%s\n%s' 1700000000004 SEC3c9f…b5c6 | openssl dgst -sha256 -hmac SEC3c9f…b5c6 -binary | base64
 * Its "+" makes the URL-encoding matter.
 */
const KAT = { timestamp: 1_700_000_000_004, sign: 'HDntS3oWEANGNHnpEA8fPooF22v7ZYy76kg+pNwTh8M=' };

const CURRENT_SIGN_MISMATCH =
  'description:机器人发送签名不匹配;solution:请确认签名和生成签名的时间戳必须都放在调用的网址中，请确认机器人的密钥加密和填写正确;link:请参考本接口对应文档获得具体要求，或者在https://open.dingtalk.com/document/  搜索相关文档;';
const CURRENT_SIGN_EXPIRED = 'description:机器人发送签名过期;solution:签名生成时间和发送时间请保持在 timestampms 以内;';

let fake: FakeDingtalk | undefined;

afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

async function start(opts?: FakeDingtalkOptions): Promise<FakeDingtalk> {
  fake = await startFakeDingtalk(opts);
  return fake;
}

/** The test's own signing, checked against the openssl answer below. */
function sign(secret: string, timestamp: number): string {
  return createHmac('sha256', secret).update(`${timestamp}\n${secret}`).digest('base64');
}

function signedUrl(f: FakeDingtalk, timestamp: number, signature = sign(SECRET, timestamp)): string {
  return `${f.url}&timestamp=${timestamp}&sign=${encodeURIComponent(signature)}`;
}

async function post(url: string, body: unknown, init: RequestInit = {}): Promise<DingtalkReply> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json; charset=utf-8' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    ...init,
  });
  expect(res.status).toBe(200);
  return (await res.json()) as DingtalkReply;
}

const markdown = (text: string, title = '过期密钥') => ({ msgtype: 'markdown', markdown: { title, text } });

describe('fake DingTalk: signature (加签)', () => {
  it('its signature check agrees with a known answer computed with openssl', async () => {
    expect(sign(SECRET, KAT.timestamp)).toBe(KAT.sign);

    const f = await start({ secret: SECRET, now: () => KAT.timestamp + 5_000 });
    const url = `${f.url}&timestamp=${KAT.timestamp}&sign=HDntS3oWEANGNHnpEA8fPooF22v7ZYy76kg%2BpNwTh8M%3D`;

    expect(await post(url, markdown('**2** stale keys'))).toEqual({ errcode: 0, errmsg: 'ok' });
    expect(f.messages()).toHaveLength(1);
  });

  it('accepts a right signature and records the message and request', async () => {
    const f = await start({ secret: SECRET });
    const timestamp = Date.now();

    const reply = await post(signedUrl(f, timestamp), markdown('### 过期密钥\n- AKIA… 120 天'));

    expect(reply).toEqual({ errcode: 0, errmsg: 'ok' });
    expect(f.url).toBe(`${f.origin}/robot/send?access_token=test-dingtalk-token-0001`);
    expect(f.messages()).toEqual([
      {
        msgtype: 'markdown',
        title: '过期密钥',
        text: '### 过期密钥\n- AKIA… 120 天',
        atMobiles: [],
        atUserIds: [],
        isAtAll: false,
        mentions: [],
      },
    ]);
    const [request] = f.requests();
    expect(request).toMatchObject({
      method: 'POST',
      path: '/robot/send',
      query: { access_token: 'test-dingtalk-token-0001', timestamp: String(timestamp), sign: sign(SECRET, timestamp) },
      body: markdown('### 过期密钥\n- AKIA… 120 天'),
      answered: { status: 200, errcode: 0 },
    });
    expect(request?.bytes).toBe(Buffer.byteLength(request?.rawBody ?? ''));
  });

  it('refuses a wrong, an unencoded or a missing sign with 310000', async () => {
    const f = await start({ secret: SECRET, now: () => KAT.timestamp });
    const msg = markdown('hi');

    const wrongSecret = await post(signedUrl(f, KAT.timestamp, sign('SECother', KAT.timestamp)), msg);
    // "+" sent as is decodes to a space, as on the real service.
    const unencoded = await post(`${f.url}&timestamp=${KAT.timestamp}&sign=${KAT.sign}`, msg);
    const noSign = await post(`${f.url}&timestamp=${KAT.timestamp}`, msg);
    const noTimestamp = await post(`${f.url}&sign=${encodeURIComponent(KAT.sign)}`, msg);

    for (const reply of [wrongSecret, unencoded, noSign, noTimestamp]) {
      expect(reply).toEqual({ errcode: 310000, errmsg: CURRENT_SIGN_MISMATCH });
    }
    expect(f.messages()).toEqual([]);
    expect(f.requests().map((r) => r.answered.errcode)).toEqual([310000, 310000, 310000, 310000]);
  });

  it('refuses a timestamp more than an hour away with 310000, and accepts one just inside', async () => {
    let clock = KAT.timestamp;
    const f = await start({ secret: SECRET, now: () => clock });
    const msg = markdown('hi');

    clock = KAT.timestamp + 3_600_000;
    expect(await post(signedUrl(f, KAT.timestamp), msg)).toEqual({ errcode: 0, errmsg: 'ok' });
    clock = KAT.timestamp + 3_600_001;
    expect(await post(signedUrl(f, KAT.timestamp), msg)).toEqual({ errcode: 310000, errmsg: CURRENT_SIGN_EXPIRED });
    clock = KAT.timestamp - 3_600_001; // a clock running behind is refused too
    expect((await post(signedUrl(f, KAT.timestamp), msg)).errcode).toBe(310000);
    // Seconds instead of milliseconds are a timestamp 54 years ago.
    clock = Date.now();
    const seconds = Math.floor(clock / 1000);
    expect(await post(signedUrl(f, seconds), msg)).toEqual({ errcode: 310000, errmsg: CURRENT_SIGN_EXPIRED });
  });

  it('words its refusals the older way when asked', async () => {
    const f = await start({ secret: SECRET, keywords: ['密钥'], errmsgStyle: 'legacy', now: () => KAT.timestamp });

    expect(await post(`${f.url}&timestamp=${KAT.timestamp}&sign=x`, markdown('密钥'))).toEqual({
      errcode: 310000,
      errmsg: 'sign not match, more: [https://ding-doc.dingtalk.com/doc#/serverapi2/qf2nxq]',
    });
    expect(await post(signedUrl(f, KAT.timestamp - 3_600_001), markdown('密钥'))).toEqual({
      errcode: 310000,
      errmsg: 'invalid timestamp, more: [https://ding-doc.dingtalk.com/doc#/serverapi2/qf2nxq]',
    });
    expect(await post(signedUrl(f, KAT.timestamp), markdown('no keyword'))).toEqual({
      errcode: 310000,
      errmsg: 'keywords not in content, more: [https://ding-doc.dingtalk.com/doc#/serverapi2/qf2nxq]',
    });
    expect(await post(signedUrl(f, KAT.timestamp), { msgtype: 'markdown', markdown: { text: '密钥' } })).toEqual({
      errcode: 400403,
      errmsg: 'miss param : markdown->title',
    });
  });
});

describe('fake DingTalk: robot', () => {
  it('answers 300001 for a wrong or missing access_token', async () => {
    const f = await start();
    const msg = { msgtype: 'text', text: { content: 'hi' } };

    const wrong = await post(`${f.origin}/robot/send?access_token=nope`, msg);
    const missing = await post(`${f.origin}/robot/send`, msg);

    expect(wrong).toEqual({ errcode: 300001, errmsg: 'token is not exist' });
    expect(missing).toEqual({ errcode: 300001, errmsg: 'token is not exist' });
    expect(f.messages()).toEqual([]);
  });

  it('keeps to the keyword rule: one keyword in the text, the markdown title not counting', async () => {
    const f = await start({ keywords: ['IAM', '密钥'] });
    const keywordsMsg =
      'description:关键词不匹配;solution:请联系群管理员查看此机器人的关键词，并在发送的信息中包含此关键词;';

    expect(await post(f.url, markdown('3 个过期密钥', 'report'))).toEqual({ errcode: 0, errmsg: 'ok' });
    expect(await post(f.url, { msgtype: 'text', text: { content: 'IAM report' } })).toEqual({
      errcode: 0,
      errmsg: 'ok',
    });
    expect(await post(f.url, markdown('3 stale keys', 'IAM 密钥'))).toEqual({ errcode: 310000, errmsg: keywordsMsg });
    expect(f.messages().map((m) => m.text)).toEqual(['3 个过期密钥', 'IAM report']);
  });

  it('records each @mobile and whether the text carries it', async () => {
    const f = await start();

    await post(f.url, {
      ...markdown('请 @13800000000 轮换密钥'),
      at: { atMobiles: ['13800000000', '13900000000'], atUserIds: ['user01'], isAtAll: false },
    });
    await post(f.url, { msgtype: 'text', text: { content: '全体注意' }, at: { isAtAll: true } });

    expect(f.messages()).toEqual([
      expect.objectContaining({
        atMobiles: ['13800000000', '13900000000'],
        atUserIds: ['user01'],
        isAtAll: false,
        mentions: [
          { mobile: '13800000000', inText: true },
          { mobile: '13900000000', inText: false },
        ],
      }),
      expect.objectContaining({ msgtype: 'text', text: '全体注意', atMobiles: [], isAtAll: true, mentions: [] }),
    ]);
  });

  it('takes a body of 20,000 bytes and refuses 20,001 with 460101, counting UTF-8 bytes', async () => {
    const f = await start();
    const envelope = Buffer.byteLength(JSON.stringify(markdown('')));
    // "密" is 3 bytes: 6,000 of them and ASCII padding up to the limit.
    const text = '密'.repeat(6000) + 'a'.repeat(DINGTALK_MAX_BODY_BYTES - envelope - 18_000);
    const exact = JSON.stringify(markdown(text));
    expect(Buffer.byteLength(exact)).toBe(DINGTALK_MAX_BODY_BYTES);
    expect(exact.length).toBeLessThan(DINGTALK_MAX_BODY_BYTES); // a character count would pass 20,001 too

    expect(await post(f.url, exact)).toEqual({ errcode: 0, errmsg: 'ok' });
    expect(await post(f.url, JSON.stringify(markdown(`${text}a`)))).toEqual({
      errcode: 460101,
      errmsg: 'description: body 大小不合法;solution:请保持大小在 20000bytes 以内;',
    });
    expect(f.messages()).toHaveLength(1);
  });

  it('refuses a body that is not JSON (40035) and missing fields (400402)', async () => {
    const f = await start();

    expect(await post(f.url, '{"msgtype": "text",')).toEqual({ errcode: 40035, errmsg: '缺少参数 json' });
    const noTitle = await post(f.url, { msgtype: 'markdown', markdown: { text: 'x' } });
    const noContent = await post(f.url, { msgtype: 'text', text: {} });
    const unknownType = await post(f.url, { msgtype: 'voice' });

    expect(noTitle.errcode).toBe(400402);
    expect(noTitle.errmsg).toMatch(/^错误描述:参数 markdown --》 title 缺失/);
    expect(noContent.errmsg).toMatch(/^错误描述:参数 text --》 content 缺失/);
    expect(unknownType.errcode).toBe(400402);
    expect(f.requests()[0]?.body).toBeUndefined();
    expect(f.messages()).toEqual([]);
  });
});

describe('fake DingTalk: frequency limit', () => {
  it('refuses the 21st message in a minute with 130101, then stays silent for 10 minutes', async () => {
    let clock = 1_800_000_000_000;
    const f = await start({ rateLimit: { perMinute: 20, now: () => clock } });
    const send = async () => (await post(f.url, { msgtype: 'text', text: { content: 'hi' } })).errcode;

    for (let i = 0; i < 20; i++) {
      expect(await send()).toBe(0);
      clock += 1_000;
    }
    const refused = await post(f.url, { msgtype: 'text', text: { content: 'hi' } });
    expect(refused).toEqual({ errcode: 130101, errmsg: 'send too fast, exceed 20 times per minute' });
    const silencedAt = clock;

    // A minute later the first 20 are out of the window, but the robot is still silenced.
    clock = silencedAt + 60_000;
    expect(await send()).toBe(130101);
    clock = silencedAt + 10 * 60_000 - 1;
    expect(await send()).toBe(130101);
    clock = silencedAt + 10 * 60_000;
    expect(await send()).toBe(0);

    expect(f.messages()).toHaveLength(21);
    expect(f.requests().filter((r) => r.answered.errcode === 130101)).toHaveLength(3);
  });

  it('counts refused sends but not unauthenticated ones', async () => {
    const f = await start({ keywords: ['IAM'], rateLimit: { perMinute: 2, now: () => 1_800_000_000_000 } });

    expect((await post(f.url, { msgtype: 'text', text: { content: 'no keyword' } })).errcode).toBe(310000);
    expect((await post(`${f.origin}/robot/send?access_token=x`, markdown('IAM'))).errcode).toBe(300001);
    expect((await post(f.url, markdown('IAM'))).errcode).toBe(0);
    expect((await post(f.url, markdown('IAM'))).errcode).toBe(130101);
    expect(f.messages()).toHaveLength(1);
  });
});

describe('fake DingTalk: scripted failures', () => {
  it('serves a scripted errcode and an HTTP 502, then the real answer', async () => {
    const f = await start({ failures: [-1, { status: 502 }] });
    const msg = { msgtype: 'text', text: { content: 'retry me' } };

    expect(await post(f.url, msg)).toEqual({ errcode: -1, errmsg: '系统繁忙' });
    const gateway = await fetch(f.url, { method: 'POST', body: JSON.stringify(msg) });
    expect(gateway.status).toBe(502);
    expect(await gateway.text()).toContain('502');
    expect(await post(f.url, msg)).toEqual({ errcode: 0, errmsg: 'ok' });

    expect(f.requests().map((r) => r.answered.status)).toEqual([200, 502, 200]);
    expect(f.requests().map((r) => r.answered.errcode)).toEqual([-1, undefined, 0]);
    expect(f.messages()).toHaveLength(1);
  });

  it('never answers a scripted hang; close() does not wait for it', async () => {
    const f = await start({ failures: [{ hang: true }] });

    const attempt = fetch(f.url, {
      method: 'POST',
      body: JSON.stringify({ msgtype: 'text', text: { content: 'hang' } }),
      signal: AbortSignal.timeout(200),
    });

    await expect(attempt).rejects.toMatchObject({ name: 'TimeoutError' });
    await vi.waitFor(() => expect(f.requests()).toHaveLength(1));
    expect(f.requests()[0]?.answered).toEqual({ status: 0 });
    expect(f.messages()).toEqual([]);

    const started = Date.now();
    await f.close();
    expect(Date.now() - started).toBeLessThan(1000);
  });
});
