import { afterEach, describe, expect, it, vi } from 'vitest';
import { startFakeSlack, type FakeSlack, type FakeSlackOptions } from '../fakes/slack.js';

let fake: FakeSlack | undefined;

afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

async function start(opts?: FakeSlackOptions): Promise<FakeSlack> {
  fake = await startFakeSlack(opts);
  return fake;
}

async function post(url: string, body: unknown): Promise<{ status: number; body: string; retryAfter: string | null }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, body: await res.text(), retryAfter: res.headers.get('retry-after') };
}

const OK = { status: 200, body: 'ok', retryAfter: null };
const plain = (text: string) => ({ type: 'plain_text', text });
const mrkdwn = (text: string) => ({ type: 'mrkdwn', text });
const button = (text: string, url: string) => ({ type: 'button', text: plain(text), url });

/** The blocks an IAM report would use: one of each type the fake validates. */
const REPORT = [
  { type: 'header', text: plain('IAM: 2 stale access keys') },
  {
    type: 'section',
    text: mrkdwn('*svc-deploy* `AKIA…XYZ` 120 days'),
    accessory: button('Issue', 'https://github.com/o/r/issues/1'),
  },
  { type: 'section', fields: [mrkdwn('*Account*\n123456789012'), mrkdwn('*Oldest*\n120 days')] },
  { type: 'divider' },
  { type: 'context', elements: [mrkdwn('iam-stale-keys · <https://github.com/o/r/actions/runs/1|run 1>')] },
  {
    type: 'actions',
    elements: [{ ...button('Open the run', 'https://github.com/o/r/actions/runs/1'), style: 'primary' }],
  },
];

describe('fake Slack: incoming webhook', () => {
  it('accepts text and blocks, answering 200 "ok", and records them', async () => {
    const f = await start();

    expect(await post(f.url, { text: '2 stale keys' })).toEqual(OK);
    expect(await post(f.url, { text: 'IAM: 2 stale access keys', blocks: REPORT })).toEqual(OK);
    expect(await post(f.url, { blocks: REPORT })).toEqual(OK); // text is only a fallback

    expect(f.url).toBe(`${f.origin}/services/T0000TEST/B0000TEST/testWebhookSecret0001`);
    expect(f.messages()).toEqual([
      { text: '2 stale keys', payload: { text: '2 stale keys' } },
      {
        text: 'IAM: 2 stale access keys',
        blocks: REPORT,
        payload: { text: 'IAM: 2 stale access keys', blocks: REPORT },
      },
      { blocks: REPORT, payload: { blocks: REPORT } },
    ]);
    expect(f.requests()[0]).toMatchObject({
      method: 'POST',
      path: '/services/T0000TEST/B0000TEST/testWebhookSecret0001',
      contentType: 'application/json',
      body: { text: '2 stale keys' },
      answered: { status: 200, body: 'ok' },
    });
  });

  it('also takes a form with payload=<json>, as Slack does', async () => {
    const f = await start();

    const res = await fetch(f.url, {
      method: 'POST',
      body: new URLSearchParams({ payload: JSON.stringify({ text: 'hi' }) }),
    });

    expect(res.status).toBe(200);
    expect(await res.text()).toBe('ok');
    expect(f.messages()).toEqual([{ text: 'hi', payload: { text: 'hi' } }]);
  });

  it('answers 403 invalid_token for another webhook path', async () => {
    const f = await start();

    const reply = await post(`${f.origin}/services/T0000TEST/B0000TEST/wrongSecret`, { text: 'hi' });

    expect(reply).toEqual({ status: 403, body: 'invalid_token', retryAfter: null });
    expect(f.requests()[0]?.answered).toMatchObject({ status: 403, body: 'invalid_token', error: 'invalid_token' });
  });

  it('answers 400 invalid_payload for a body that is not a JSON object, and 400 no_text without text or blocks', async () => {
    const f = await start();

    expect(await post(f.url, '{"text":')).toMatchObject({ status: 400, body: 'invalid_payload' });
    expect(await post(f.url, '["hi"]')).toMatchObject({ status: 400, body: 'invalid_payload' });
    expect(await post(f.url, { text: 42 })).toMatchObject({ status: 400, body: 'invalid_payload' });
    expect(await post(f.url, { username: 'bot' })).toMatchObject({ status: 400, body: 'no_text' });
    expect(await post(f.url, { text: '', blocks: [] })).toMatchObject({ status: 400, body: 'no_text' });
    expect(f.messages()).toEqual([]);
  });

  it('takes text of 40,000 characters and refuses 40,001 with 400 msg_too_long', async () => {
    const f = await start();

    expect(await post(f.url, { text: '钥'.repeat(40_000) })).toEqual(OK);
    expect(await post(f.url, { text: '钥'.repeat(40_001) })).toMatchObject({ status: 400, body: 'msg_too_long' });
  });
});

describe('fake Slack: Block Kit limits', () => {
  const cases: [string, unknown[], unknown[]][] = [
    ['50 blocks / 51', Array(50).fill({ type: 'divider' }), Array(51).fill({ type: 'divider' })],
    [
      'a section text of 3000 / 3001 characters',
      [{ type: 'section', text: mrkdwn('x'.repeat(3000)) }],
      [{ type: 'section', text: mrkdwn('x'.repeat(3001)) }],
    ],
    [
      'a section with text / empty text',
      [{ type: 'section', text: mrkdwn('x') }],
      [{ type: 'section', text: mrkdwn('') }],
    ],
    [
      '10 section fields of 2000 / 11',
      [{ type: 'section', fields: Array(10).fill(mrkdwn('x'.repeat(2000))) }],
      [{ type: 'section', fields: Array(11).fill(mrkdwn('x')) }],
    ],
    [
      'a section field of 2000 / 2001 characters',
      [{ type: 'section', fields: [plain('x'.repeat(2000))] }],
      [{ type: 'section', fields: [plain('x'.repeat(2001))] }],
    ],
    [
      'a header of 150 / 151 characters',
      [{ type: 'header', text: plain('x'.repeat(150)) }],
      [{ type: 'header', text: plain('x'.repeat(151)) }],
    ],
    ['a plain_text / mrkdwn header', [{ type: 'header', text: plain('x') }], [{ type: 'header', text: mrkdwn('x') }]],
    [
      'a button url of 3000 / 3001 characters',
      [{ type: 'actions', elements: [button('Open', `https://e.x/${'a'.repeat(3000 - 12)}`)] }],
      [{ type: 'actions', elements: [button('Open', `https://e.x/${'a'.repeat(3001 - 12)}`)] }],
    ],
    [
      'a button text of 75 / 76 characters',
      [{ type: 'actions', elements: [button('x'.repeat(75), 'https://e.x')] }],
      [{ type: 'actions', elements: [button('x'.repeat(76), 'https://e.x')] }],
    ],
    [
      'a plain_text / mrkdwn button text',
      [{ type: 'actions', elements: [button('x', 'https://e.x')] }],
      [{ type: 'actions', elements: [{ type: 'button', text: mrkdwn('x'), url: 'https://e.x' }] }],
    ],
    [
      '25 / 26 actions elements',
      [{ type: 'actions', elements: Array(25).fill(button('x', 'https://e.x')) }],
      [{ type: 'actions', elements: Array(26).fill(button('x', 'https://e.x')) }],
    ],
    [
      '10 / 11 context elements',
      [{ type: 'context', elements: Array(10).fill(mrkdwn('x')) }],
      [{ type: 'context', elements: Array(11).fill(mrkdwn('x')) }],
    ],
    [
      'a button style primary / loud',
      [{ type: 'section', text: mrkdwn('x'), accessory: { ...button('x', 'https://e.x'), style: 'primary' } }],
      [{ type: 'section', text: mrkdwn('x'), accessory: { ...button('x', 'https://e.x'), style: 'loud' } }],
    ],
    ['a divider / an unknown block type', [{ type: 'divider' }], [{ type: 'carousel' }]],
  ];

  it.each(cases)('accepts and refuses with 400 invalid_blocks: %s', async (_name, good, bad) => {
    const f = await start();

    expect(await post(f.url, { text: 'fallback', blocks: good })).toEqual(OK);
    expect(await post(f.url, { text: 'fallback', blocks: bad })).toEqual({
      status: 400,
      body: 'invalid_blocks',
      retryAfter: null,
    });
    expect(f.messages()).toHaveLength(1);
  });
});

describe('fake Slack: rate limit', () => {
  it('allows a short burst, then answers 429 with Retry-After until the bucket refills', async () => {
    let clock = 1_800_000_000_000;
    const f = await start({ rateLimit: { perSecond: 1, burst: 3, now: () => clock } });

    for (let i = 0; i < 3; i++) expect(await post(f.url, { text: `burst ${i}` })).toEqual(OK);
    expect(await post(f.url, { text: 'too fast' })).toEqual({ status: 429, body: 'rate_limited', retryAfter: '1' });
    clock += 500;
    expect(await post(f.url, { text: 'still too fast' })).toMatchObject({ status: 429, retryAfter: '1' });
    clock += 500;
    expect(await post(f.url, { text: 'one a second' })).toEqual(OK);
    clock += 10_000; // the bucket refills to the burst, no further
    for (let i = 0; i < 3; i++) expect(await post(f.url, { text: `burst ${i}` })).toEqual(OK);
    expect((await post(f.url, { text: 'too fast' })).status).toBe(429);

    expect(f.messages()).toHaveLength(7);
    expect(
      f
        .requests()
        .filter((r) => r.answered.status === 429)
        .map((r) => r.answered.headers),
    ).toEqual([{ 'Retry-After': '1' }, { 'Retry-After': '1' }, { 'Retry-After': '1' }]);
  });

  it('says how long to wait for a per-minute limit', async () => {
    let clock = 1_800_000_000_000;
    const f = await start({ rateLimit: { perSecond: 10, burst: 10, perMinute: 2, now: () => clock } });

    expect(await post(f.url, { text: '1' })).toEqual(OK);
    clock += 20_000;
    expect(await post(f.url, { text: '2' })).toEqual(OK);
    clock += 10_000;
    expect(await post(f.url, { text: '3' })).toEqual({ status: 429, body: 'rate_limited', retryAfter: '30' });
    clock += 30_000;
    expect(await post(f.url, { text: '3' })).toEqual(OK);
  });
});

describe('fake Slack: scripted failures', () => {
  it('serves scripted errors with Slack statuses, a 429 and a 500, then the real answer', async () => {
    const f = await start({
      failures: [
        'channel_not_found',
        'no_service',
        'channel_is_archived',
        'action_prohibited',
        { status: 429, headers: { 'Retry-After': '7' }, body: 'rate_limited' },
        { status: 500 },
      ],
    });
    const replies = [];
    for (let i = 0; i < 7; i++) replies.push(await post(f.url, { text: 'hi' }));

    expect(replies.map((r) => [r.status, r.body])).toEqual([
      [404, 'channel_not_found'],
      [404, 'no_service'],
      [410, 'channel_is_archived'],
      [403, 'action_prohibited'],
      [429, 'rate_limited'],
      [500, expect.stringContaining('500')],
      [200, 'ok'],
    ]);
    expect(replies[4]?.retryAfter).toBe('7');
    expect(f.requests().map((r) => r.answered.error)).toEqual([
      'channel_not_found',
      'no_service',
      'channel_is_archived',
      'action_prohibited',
      'rate_limited',
      undefined,
      undefined,
    ]);
    expect(f.messages()).toHaveLength(1);
  });

  it('never answers a scripted hang; close() does not wait for it', async () => {
    const f = await start({ failures: [{ hang: true }] });

    const attempt = fetch(f.url, { method: 'POST', body: '{"text":"hang"}', signal: AbortSignal.timeout(200) });

    await expect(attempt).rejects.toMatchObject({ name: 'TimeoutError' });
    await vi.waitFor(() => expect(f.requests()).toHaveLength(1));
    expect(f.requests()[0]?.answered).toEqual({ status: 0 });
    const started = Date.now();
    await f.close();
    expect(Date.now() - started).toBeLessThan(1000);
  });
});
