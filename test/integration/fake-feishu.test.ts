import { createHmac } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FEISHU_MAX_BODY_BYTES, startFakeFeishu, type FakeFeishu, type FakeFeishuOptions } from '../fakes/feishu.js';

interface FeishuReply {
  code: number;
  data: Record<string, never>;
  msg: string;
}

const SECRET = 'Qx7bTn2Vd9sKp4LmWz8HcR';
/**
 * A known answer, computed by hand with openssl, not with the code under test (the key is the
 * timestamp, a newline and the secret; the data is empty):
 *   printf '' | openssl dgst -sha256 -hmac "$(printf '%s\n%s' 1700000000 Qx7bTn2Vd9sKp4LmWz8HcR)" -binary | base64
 */
const KAT = { timestamp: '1700000000', sign: '0SfensmtBMo+08ZEj6Icf5bUFDRArr2w6xKDlf5DvU0=' };
const KAT_NOW = 1_700_000_000_000;

const SIGN_FAIL = {
  code: 19021,
  data: {},
  msg: 'sign match fail or timestamp is not within one hour from current time',
};
const OK = { code: 0, data: {}, msg: 'success' };

let fake: FakeFeishu | undefined;

afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

async function start(opts?: FakeFeishuOptions): Promise<FakeFeishu> {
  fake = await startFakeFeishu(opts);
  return fake;
}

/** The test's own signing, checked against the openssl answer below. */
function sign(secret: string, timestamp: string): string {
  return createHmac('sha256', `${timestamp}\n${secret}`).update('').digest('base64');
}

async function post(url: string, body: unknown, status = 200): Promise<FeishuReply> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json; charset=utf-8' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  expect(res.status).toBe(status);
  return (await res.json()) as FeishuReply;
}

const text = (t: string) => ({ msg_type: 'text', content: { text: t } });

const CARD = {
  header: { title: { tag: 'plain_text', content: 'IAM: 2 stale keys' }, template: 'red' },
  elements: [
    {
      tag: 'div',
      text: {
        tag: 'lark_md',
        content: '**svc-deploy** AKIA…XYZ, 120 days <at id=ou_7d8a6e6df7621556ce0d21922b676706></at>',
      },
    },
    { tag: 'div', fields: [{ is_short: true, text: { tag: 'lark_md', content: '**Owner**\n<at id=all></at>' } }] },
    { tag: 'hr' },
    {
      tag: 'action',
      actions: [
        {
          tag: 'button',
          text: { tag: 'plain_text', content: 'Open the issue' },
          type: 'primary',
          url: 'https://github.com/o/r/issues/1',
        },
      ],
    },
    { tag: 'note', elements: [{ tag: 'plain_text', content: 'iam-stale-keys' }] },
  ],
};

describe('fake Feishu: signature (签名校验)', () => {
  it('its signature check agrees with a known answer computed with openssl', async () => {
    expect(sign(SECRET, KAT.timestamp)).toBe(KAT.sign);

    const f = await start({ secret: SECRET, now: () => KAT_NOW + 30_000 });
    const reply = await post(f.url, { ...text('hi'), timestamp: KAT.timestamp, sign: KAT.sign });

    expect(reply).toEqual(OK);
    expect(f.messages()).toHaveLength(1);
  });

  it('accepts a signed card and records its header, buttons and @ mentions', async () => {
    const f = await start({ secret: SECRET });
    const timestamp = String(Math.floor(Date.now() / 1000));

    const reply = await post(f.url, { timestamp, sign: sign(SECRET, timestamp), msg_type: 'interactive', card: CARD });

    expect(reply).toEqual(OK);
    expect(f.url).toBe(`${f.origin}/open-apis/bot/v2/hook/test-feishu-hook-0001`);
    expect(f.messages()).toEqual([
      {
        msg_type: 'interactive',
        text: [
          'IAM: 2 stale keys',
          '**svc-deploy** AKIA…XYZ, 120 days <at id=ou_7d8a6e6df7621556ce0d21922b676706></at>',
          '**Owner**\n<at id=all></at>',
          'Open the issue',
          'iam-stale-keys',
        ].join('\n'),
        mentions: ['ou_7d8a6e6df7621556ce0d21922b676706', 'all'],
        card: {
          title: 'IAM: 2 stale keys',
          template: 'red',
          buttons: [{ text: 'Open the issue', url: 'https://github.com/o/r/issues/1' }],
        },
        payload: CARD,
      },
    ]);
    expect(f.requests()[0]).toMatchObject({
      method: 'POST',
      path: '/open-apis/bot/v2/hook/test-feishu-hook-0001',
      answered: { status: 200, code: 0 },
    });
  });

  it('refuses a wrong or missing sign with 19021', async () => {
    const f = await start({ secret: SECRET, now: () => KAT_NOW });

    const wrong = await post(f.url, { ...text('hi'), timestamp: KAT.timestamp, sign: sign('other', KAT.timestamp) });
    // DingTalk's scheme (secret as the key, timestamp+secret as the data) is not Feishu's.
    const dingtalkStyle = createHmac('sha256', SECRET).update(`${KAT.timestamp}\n${SECRET}`).digest('base64');
    const swapped = await post(f.url, { ...text('hi'), timestamp: KAT.timestamp, sign: dingtalkStyle });
    const missing = await post(f.url, text('hi'));

    for (const reply of [wrong, swapped, missing]) expect(reply).toEqual(SIGN_FAIL);
    expect(f.messages()).toEqual([]);
  });

  it('refuses a timestamp more than an hour away, or in milliseconds, with 19021', async () => {
    let clock = KAT_NOW;
    const f = await start({ secret: SECRET, now: () => clock });
    const signed = (ts: string) => ({ ...text('hi'), timestamp: ts, sign: sign(SECRET, ts) });

    clock = KAT_NOW + 3_600_000;
    expect(await post(f.url, signed(KAT.timestamp))).toEqual(OK);
    clock = KAT_NOW + 3_601_000;
    expect(await post(f.url, signed(KAT.timestamp))).toEqual(SIGN_FAIL);
    clock = KAT_NOW - 3_601_000;
    expect(await post(f.url, signed(KAT.timestamp))).toEqual(SIGN_FAIL);
    clock = KAT_NOW;
    expect(await post(f.url, signed(String(KAT_NOW)))).toEqual(SIGN_FAIL);
    // A number is taken as its digits.
    expect(await post(f.url, { ...text('hi'), timestamp: 1_700_000_000, sign: KAT.sign })).toEqual(OK);
  });
});

describe('fake Feishu: bot', () => {
  it('answers 19001 for an unknown token', async () => {
    const f = await start();

    const reply = await post(`${f.origin}/open-apis/bot/v2/hook/00000000-0000-0000-0000-000000000000`, text('hi'));

    expect(reply).toEqual({ code: 19001, data: {}, msg: 'param invalid: incoming webhook access token invalid' });
    expect(f.requests()[0]?.answered).toMatchObject({ status: 200, code: 19001 });
  });

  it('keeps to the keyword rule with 19024', async () => {
    const f = await start({ keywords: ['IAM'] });

    expect(await post(f.url, text('stale keys'))).toEqual({ code: 19024, data: {}, msg: 'Key Words Not Found' });
    expect(await post(f.url, { msg_type: 'interactive', card: CARD })).toEqual(OK);
    expect(f.messages()).toHaveLength(1);
  });

  it('takes a body of 20,000 bytes and refuses 20,001 with 19036', async () => {
    const f = await start();
    const envelope = Buffer.byteLength(JSON.stringify(text('')));
    const body = text('键'.repeat(5000) + 'a'.repeat(FEISHU_MAX_BODY_BYTES - envelope - 15_000));
    expect(Buffer.byteLength(JSON.stringify(body))).toBe(FEISHU_MAX_BODY_BYTES);

    expect(await post(f.url, body)).toEqual(OK);
    const over = await post(f.url, text(`${body.content.text}a`));

    expect(over).toEqual({ code: 19036, data: {}, msg: 'The message exceeds the size limit of 20KB' });
    expect(f.messages()).toHaveLength(1);
  });

  it('answers HTTP 400 with 9499 for a body that is not JSON, and 19002 without msg_type', async () => {
    const f = await start();

    expect(await post(f.url, '{"msg_type":', 400)).toEqual({ code: 9499, data: {}, msg: 'Bad Request' });
    expect(await post(f.url, { text: 'hi' })).toEqual({ code: 19002, data: {}, msg: 'params error, msg_type need' });
    expect(f.requests().map((r) => r.answered)).toMatchObject([
      { status: 400, code: 9499 },
      { status: 200, code: 19002 },
    ]);
  });

  it('refuses malformed cards with 19002', async () => {
    const f = await start();
    const card = (patch: object) => ({ msg_type: 'interactive', card: { ...CARD, ...patch } });

    const badTemplate = await post(f.url, card({ header: { ...CARD.header, template: 'crimson' } }));
    const badTitle = await post(f.url, card({ header: { title: { tag: 'markdown', content: 'x' } } }));
    const noElements = await post(f.url, card({ elements: undefined }));
    const badElement = await post(f.url, card({ elements: [{ tag: 'table' }] }));
    const badButton = await post(
      f.url,
      card({ elements: [{ tag: 'action', actions: [{ tag: 'button', text: 'x' }] }] }),
    );
    const noCard = await post(f.url, { msg_type: 'interactive', content: CARD });

    for (const reply of [badTemplate, badTitle, noElements, badElement, badButton, noCard]) {
      expect(reply.code).toBe(19002);
      expect(reply.msg).toMatch(/^params error, /);
    }
    expect(badTemplate.msg).toBe('params error, unknown card header template crimson');
    expect(f.messages()).toEqual([]);
  });

  it('records text and post messages with their @ mentions', async () => {
    const f = await start();

    await post(f.url, text('<at user_id="ou_abc">Li Lei</at> 请轮换 <at user_id="all">所有人</at>'));
    await post(f.url, {
      msg_type: 'post',
      content: {
        post: {
          zh_cn: {
            title: '过期密钥',
            content: [
              [
                { tag: 'text', text: 'svc-deploy: ' },
                { tag: 'a', text: 'issue', href: 'https://github.com/o/r/issues/1' },
              ],
              [{ tag: 'at', user_id: 'ou_def' }],
            ],
          },
        },
      },
    });

    expect(f.messages().map(({ msg_type, text: t, mentions }) => ({ msg_type, text: t, mentions }))).toEqual([
      {
        msg_type: 'text',
        text: '<at user_id="ou_abc">Li Lei</at> 请轮换 <at user_id="all">所有人</at>',
        mentions: ['ou_abc', 'all'],
      },
      { msg_type: 'post', text: '过期密钥\nsvc-deploy: \nissue', mentions: ['ou_def'] },
    ]);
  });
});

describe('fake Feishu: frequency limit', () => {
  it('refuses a 6th request within a second with 11232, and takes it a second later', async () => {
    let clock = 1_800_000_000_000;
    const f = await start({ rateLimit: { perMinute: 100, perSecond: 5, now: () => clock } });

    for (let i = 0; i < 5; i++) expect(await post(f.url, text('hi'))).toEqual(OK);
    expect(await post(f.url, text('hi'))).toEqual({
      code: 11232,
      data: {},
      msg: 'frequency limited psm[lark.oapi.app_platform_runtime]appID[1500]',
    });
    clock += 1_000;
    expect(await post(f.url, text('hi'))).toEqual(OK);
    expect(f.messages()).toHaveLength(6);
  });

  it('refuses the 101st request in a minute, counting refused ones', async () => {
    let clock = 1_800_000_000_000;
    const start0 = clock;
    const f = await start({ rateLimit: { perMinute: 100, perSecond: 5, now: () => clock } });
    const send = async () => (await post(f.url, text('hi'))).code;

    for (let i = 0; i < 100; i++) {
      expect(await send()).toBe(0);
      clock += 250; // 4 a second
    }
    expect(await send()).toBe(11232);
    // At start + 60 s only the first send has left the minute; the refused one still counts.
    clock = start0 + 60_000;
    expect(await send()).toBe(11232);
    clock = start0 + 60_500; // the first three have left by now
    expect(await send()).toBe(0);
    expect(f.messages()).toHaveLength(101);
  });
});

describe('fake Feishu: scripted failures', () => {
  it('serves a scripted code and an HTTP 503, then the real answer', async () => {
    const f = await start({ failures: [11232, { status: 503 }] });

    expect((await post(f.url, text('hi'))).code).toBe(11232);
    const unavailable = await fetch(f.url, { method: 'POST', body: JSON.stringify(text('hi')) });
    expect(unavailable.status).toBe(503);
    await unavailable.text();
    expect(await post(f.url, text('hi'))).toEqual(OK);
    expect(f.requests().map((r) => r.answered.code)).toEqual([11232, undefined, 0]);
  });

  it('never answers a scripted hang; close() does not wait for it', async () => {
    const f = await start({ failures: [{ hang: true }] });

    const attempt = fetch(f.url, {
      method: 'POST',
      body: JSON.stringify(text('hang')),
      signal: AbortSignal.timeout(200),
    });

    await expect(attempt).rejects.toMatchObject({ name: 'TimeoutError' });
    await vi.waitFor(() => expect(f.requests()).toHaveLength(1));
    expect(f.requests()[0]?.answered).toEqual({ status: 0 });
    const started = Date.now();
    await f.close();
    expect(Date.now() - started).toBeLessThan(1000);
  });
});
