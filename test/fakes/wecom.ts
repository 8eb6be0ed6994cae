/**
 * Loopback fake of the WeCom (企业微信) APIs used by the action:
 *
 * - the group robot webhook: `POST /cgi-bin/webhook/send?key=KEY`
 * - the app message API: `GET /cgi-bin/gettoken?corpid=&corpsecret=` then
 *   `POST /cgi-bin/message/send?access_token=T`
 *
 * Like the real service, API errors are HTTP 200 with a JSON `errcode`/`errmsg`
 * (the errmsg carries the usual `hint: [...], from ip: ..., more info at ...`
 * tail). Content limits are counted in UTF-8 bytes, as WeCom does.
 *
 * Uses `node:http` only and binds 127.0.0.1 on an ephemeral port.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseJson, readBody } from './chat-webhook.js';

/** The endpoints the fake understands. */
export type WecomEndpoint = 'webhook' | 'gettoken' | 'send';

/**
 * A scripted answer: a WeCom errcode (HTTP 200 + that errcode and a realistic
 * errmsg), a bare HTTP status (e.g. a 502 from the gateway), or a request that
 * is never answered (for client time-out tests).
 */
export type ScriptedWecomFailure = number | { status: number } | { hang: true };

export interface FakeWecomOptions {
  /** Accepted webhook key; default 'test-robot-key-0001'. */
  robotKey?: string;
  /** Default 'ww-test-corp'. */
  corpId?: string;
  /** Default 'test-corp-secret-0001'. */
  corpSecret?: string;
  /** Default 1000002. */
  agentId?: number;
  /**
   * Scripted answers served, in order, before the real behaviour resumes, per
   * endpoint: either a WeCom errcode (HTTP 200 with that errcode + a realistic
   * errmsg, e.g. 45009 "api freq out of limit", 93000, 40058, 60020) or an HTTP
   * status (`{ status: 502 }`) or `{ hang: true }` (never answers).
   */
  failures?: Partial<Record<WecomEndpoint, ScriptedWecomFailure[]>>;
  /**
   * The group robot's frequency limit: over `perMinute` sends in any 60 s, refused ones counted
   * too, the robot answers 45009 (WeCom says 20 a minute, counts failed sends, and does not say
   * whether its minute is rolling or fixed: this fake rolls, the stricter). Off by default. `now`
   * is the fake's clock in ms (default `Date.now`), so a test's injected sleep can move it.
   */
  robotRateLimit?: { perMinute: number; now?: () => number };
}

export interface RecordedWecomRequest {
  endpoint: WecomEndpoint | 'unknown';
  method: string;
  /** Path and query as received, e.g. `/cgi-bin/webhook/send?key=...`. */
  url: string;
  query: Record<string, string>;
  /** The parsed JSON body; absent when the body is empty or not valid JSON. */
  body?: any;
  rawBody: string;
  /** Size of the raw body in bytes. */
  bytes: number;
  /** What the fake answered; `status: 0` means it never answered (scripted hang). */
  answered: { status: number; errcode?: number };
  /** `Date.now()` when the request body had been read. */
  at: number;
}

/** A message WeCom accepted (errcode 0), from the robot or the app API. */
export interface DeliveredWecomMessage {
  via: 'robot' | 'app';
  msgtype: string;
  content: string;
  /**
   * Who was mentioned: a robot text message's `mentioned_list`, or the `<@userid>` of a robot
   * markdown message's content, in order, each once.
   */
  mentioned_list?: string[];
  mentioned_mobile_list?: string[];
  touser?: string;
  agentid?: number;
}

export interface FakeWecom {
  /** Base URL, e.g. `http://127.0.0.1:PORT` (use as `wecom-api-base-url`). */
  url: string;
  /** `${url}/cgi-bin/webhook/send?key=${robotKey}` (use as `wecom-webhook-url`). */
  webhookUrl: string;
  robotKey: string;
  corpId: string;
  corpSecret: string;
  agentId: number;
  /** Every request received, in arrival order. */
  requests: RecordedWecomRequest[];
  /** Successfully delivered messages (robot and app), in order. */
  messages: DeliveredWecomMessage[];
  /** Access tokens handed out by gettoken, in order. */
  issuedTokens: string[];
  /** Stops the server, dropping every open connection (hanging ones included). */
  close(): Promise<void>;
}

/** Robot `text` and app message content limit, in UTF-8 bytes. */
export const TEXT_MAX_BYTES = 2048;
/** Robot `markdown` / `markdown_v2` content limit, in UTF-8 bytes. */
export const MARKDOWN_MAX_BYTES = 4096;
/**
 * errcode for a body that is not valid JSON. WeCom's documented "data format
 * error"; the exact code the live service uses for a broken body is not
 * guaranteed, so clients should only rely on it being non-zero.
 */
export const INVALID_JSON_ERRCODE = 47001;

/** Realistic errmsg texts (the part before `, hint: [...]`). */
const ERRMSG: Readonly<Record<number, string>> = {
  [-1]: 'system busy',
  40001: 'invalid credential',
  40008: 'invalid message type',
  40013: 'invalid corpid',
  40014: 'invalid access_token',
  40056: 'invalid agentid',
  40058: 'invalid Request Parameter',
  41001: 'access_token missing',
  41002: 'corpid missing',
  41004: 'corpsecret missing',
  42001: 'access_token expired',
  43002: 'require POST method',
  44004: 'empty content',
  45009: 'api freq out of limit',
  45033: 'api concurrent out of limit',
  [INVALID_JSON_ERRCODE]: 'data format error',
  60020: 'not allow to access from your ip',
  93000: 'invalid webhook url',
};

/** An answer ready to be written, or a deliberate non-answer. */
type Answer = { status: number; body: string; contentType: string; errcode?: number } | { hang: true };

/** What a route handler sees of a request. */
interface RequestContext {
  method: string;
  query: Record<string, string>;
  /** Whether the body parsed as JSON (an empty body does not). */
  isJson: boolean;
  body: unknown;
  /** Peer address, echoed in errmsg like the real `from ip: ...`. */
  ip: string;
}

const DEFAULTS = {
  robotKey: 'test-robot-key-0001',
  corpId: 'ww-test-corp',
  corpSecret: 'test-corp-secret-0001',
  agentId: 1000002,
} as const;

/** Starts the fake on 127.0.0.1 (ephemeral port). */
export async function startFakeWecom(opts: FakeWecomOptions = {}): Promise<FakeWecom> {
  const robotKey = opts.robotKey ?? DEFAULTS.robotKey;
  const corpId = opts.corpId ?? DEFAULTS.corpId;
  const corpSecret = opts.corpSecret ?? DEFAULTS.corpSecret;
  const agentId = opts.agentId ?? DEFAULTS.agentId;

  const queues: Record<WecomEndpoint, ScriptedWecomFailure[]> = {
    webhook: [...(opts.failures?.webhook ?? [])],
    gettoken: [...(opts.failures?.gettoken ?? [])],
    send: [...(opts.failures?.send ?? [])],
  };
  const requests: RecordedWecomRequest[] = [];
  const messages: DeliveredWecomMessage[] = [];
  const issuedTokens: string[] = [];
  const validTokens = new Set<string>();
  /** Responses deliberately left open (scripted hangs). */
  const hanging = new Set<ServerResponse>();
  /** When each of the robot's sends in the last minute came, refused ones included. */
  const robotSends: number[] = [];

  /** Counts a send to the robot; whether it is over the frequency limit. */
  function overRobotLimit(): boolean {
    const limit = opts.robotRateLimit;
    if (!limit) return false;
    const now = (limit.now ?? Date.now)();
    while (robotSends.length > 0 && robotSends[0]! <= now - 60_000) robotSends.shift();
    robotSends.push(now);
    return robotSends.length > limit.perMinute;
  }

  /** `POST /cgi-bin/webhook/send?key=KEY` */
  function handleWebhook(ctx: RequestContext): Answer {
    if (ctx.query['key'] !== robotKey) return wecomError(93000, ctx.ip);
    if (overRobotLimit()) return wecomError(45009, ctx.ip);
    if (ctx.method !== 'POST') return wecomError(43002, ctx.ip);
    if (!ctx.isJson || !isRecord(ctx.body)) return wecomError(INVALID_JSON_ERRCODE, ctx.ip);

    const msgtype = ctx.body['msgtype'];
    if (msgtype !== 'text' && msgtype !== 'markdown' && msgtype !== 'markdown_v2') {
      return wecomError(40008, ctx.ip);
    }
    const payload = ctx.body[msgtype];
    const content = isRecord(payload) ? payload['content'] : undefined;
    if (typeof content !== 'string' || content === '') return wecomError(44004, ctx.ip);

    const limit = msgtype === 'text' ? TEXT_MAX_BYTES : MARKDOWN_MAX_BYTES;
    if (Buffer.byteLength(content, 'utf8') > limit) return tooLong(msgtype, limit, ctx.ip);

    const message: DeliveredWecomMessage = { via: 'robot', msgtype, content };
    if (msgtype === 'text' && isRecord(payload)) {
      const mentioned = stringArray(payload['mentioned_list']);
      const mobiles = stringArray(payload['mentioned_mobile_list']);
      if (mentioned) message.mentioned_list = mentioned;
      if (mobiles) message.mentioned_mobile_list = mobiles;
    }
    if (msgtype === 'markdown') {
      // `<@userid>` in markdown content mentions that member (markdown_v2 has no mentions, and
      // markdown takes no mentioned_list: WeCom ignores one).
      const mentioned = markdownMentions(content);
      if (mentioned.length > 0) message.mentioned_list = mentioned;
    }
    messages.push(message);
    return json({ errcode: 0, errmsg: 'ok' });
  }

  /** `GET /cgi-bin/gettoken?corpid=ID&corpsecret=SECRET` */
  function handleGettoken(ctx: RequestContext): Answer {
    const id = ctx.query['corpid'];
    const secret = ctx.query['corpsecret'];
    if (!id) return wecomError(41002, ctx.ip);
    if (id !== corpId) return wecomError(40013, ctx.ip);
    if (!secret) return wecomError(41004, ctx.ip);
    if (secret !== corpSecret) return wecomError(40001, ctx.ip);

    const token = randomBytes(48).toString('base64url');
    issuedTokens.push(token);
    validTokens.add(token);
    return json({ errcode: 0, errmsg: 'ok', access_token: token, expires_in: 7200 });
  }

  /** `POST /cgi-bin/message/send?access_token=T` */
  function handleSend(ctx: RequestContext): Answer {
    const token = ctx.query['access_token'];
    if (!token) return wecomError(41001, ctx.ip);
    if (!validTokens.has(token)) return wecomError(40014, ctx.ip);
    if (ctx.method !== 'POST') return wecomError(43002, ctx.ip);
    if (!ctx.isJson || !isRecord(ctx.body)) return wecomError(INVALID_JSON_ERRCODE, ctx.ip);

    const { msgtype, agentid, touser } = ctx.body;
    if (Number(agentid) !== agentId) return wecomError(40056, ctx.ip);
    if (msgtype !== 'text' && msgtype !== 'markdown') return wecomError(40008, ctx.ip);
    const payload = ctx.body[msgtype];
    const content = isRecord(payload) ? payload['content'] : undefined;
    if (typeof content !== 'string' || content === '') return wecomError(44004, ctx.ip);
    if (Buffer.byteLength(content, 'utf8') > TEXT_MAX_BYTES) {
      return tooLong(msgtype, TEXT_MAX_BYTES, ctx.ip);
    }

    messages.push({
      via: 'app',
      msgtype,
      content,
      ...(typeof touser === 'string' ? { touser } : {}),
      agentid: agentId,
    });
    return json({ errcode: 0, errmsg: 'ok', invaliduser: '', msgid: randomBytes(36).toString('base64url') });
  }

  const routes: Record<WecomEndpoint, (ctx: RequestContext) => Answer> = {
    webhook: handleWebhook,
    gettoken: handleGettoken,
    send: handleSend,
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const target = new URL(req.url ?? '/', 'http://127.0.0.1');
    const endpoint = endpointOf(target.pathname);
    const raw = await readBody(req);
    const rawBody = raw.toString('utf8');
    const parsed = parseJson(rawBody);
    const ctx: RequestContext = {
      method: req.method ?? 'GET',
      query: Object.fromEntries(target.searchParams),
      isJson: parsed.ok,
      body: parsed.ok ? parsed.value : undefined,
      ip: req.socket.remoteAddress ?? '127.0.0.1',
    };

    let answer: Answer;
    if (endpoint === 'unknown') {
      answer = { status: 404, body: 'Not Found', contentType: 'text/plain; charset=utf-8' };
    } else {
      const scripted = queues[endpoint].shift();
      answer = scripted === undefined ? routes[endpoint](ctx) : scriptedAnswer(scripted, ctx.ip);
    }

    requests.push({
      endpoint,
      method: ctx.method,
      url: req.url ?? '/',
      query: ctx.query,
      ...(parsed.ok ? { body: parsed.value } : {}),
      rawBody,
      bytes: raw.length,
      answered:
        'hang' in answer
          ? { status: 0 }
          : { status: answer.status, ...(answer.errcode === undefined ? {} : { errcode: answer.errcode }) },
      at: Date.now(),
    });

    if ('hang' in answer) {
      hanging.add(res);
      res.on('close', () => hanging.delete(res));
      return;
    }
    const headers: Record<string, string | number> = {
      'Content-Type': answer.contentType,
      'Content-Length': Buffer.byteLength(answer.body),
    };
    if (answer.errcode !== undefined) {
      // The real API mirrors errcode/errmsg in these headers.
      headers['Error-Code'] = answer.errcode;
      headers['Error-Msg'] = ERRMSG[answer.errcode] ?? (answer.errcode === 0 ? 'ok' : 'error');
    }
    res.writeHead(answer.status, headers).end(answer.body);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      // A client that hung up mid-body lands here too; answer if still possible.
      if (!res.headersSent && !res.destroyed) {
        res.writeHead(500, { 'Content-Type': 'text/plain' }).end(String(err));
      }
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= new Promise<void>((resolve, reject) => {
      for (const res of hanging) res.socket?.destroy();
      hanging.clear();
      server.close((err) => (err ? reject(err) : resolve()));
      server.closeAllConnections();
    });
    return closing;
  };

  return {
    url,
    webhookUrl: `${url}/cgi-bin/webhook/send?key=${encodeURIComponent(robotKey)}`,
    robotKey,
    corpId,
    corpSecret,
    agentId,
    requests,
    messages,
    issuedTokens,
    close,
  };
}

/** Maps a request path to the endpoint it targets. */
function endpointOf(pathname: string): WecomEndpoint | 'unknown' {
  switch (pathname) {
    case '/cgi-bin/webhook/send':
      return 'webhook';
    case '/cgi-bin/gettoken':
      return 'gettoken';
    case '/cgi-bin/message/send':
      return 'send';
    default:
      return 'unknown';
  }
}

/** Turns a scripted failure into an answer. */
function scriptedAnswer(failure: ScriptedWecomFailure, ip: string): Answer {
  if (typeof failure === 'number') return wecomError(failure, ip);
  if ('hang' in failure) return { hang: true };
  return {
    status: failure.status,
    body: `<html><head><title>${failure.status}</title></head><body>${failure.status}</body></html>`,
    contentType: 'text/html',
  };
}

/** A 200 JSON answer; its errcode is recorded. */
function json(payload: { errcode: number } & Record<string, unknown>): Answer {
  return {
    status: 200,
    body: JSON.stringify(payload),
    contentType: 'application/json; charset=UTF-8',
    errcode: payload.errcode,
  };
}

/** A WeCom API error, errmsg shaped like the live service's. */
function wecomError(errcode: number, ip: string, detail?: string): Answer {
  const text = detail ?? ERRMSG[errcode] ?? 'unknown error';
  const hint = `${Math.floor(Date.now() / 1000)}_${randomBytes(2).readUInt16BE()}_${randomBytes(16).toString('hex')}`;
  const errmsg = `${text}, hint: [${hint}], from ip: ${ip}, more info at https://open.work.weixin.qq.com/devtool/query?e=${errcode}`;
  return json({ errcode, errmsg });
}

/** 40058 for content over its byte limit, e.g. "markdown.content exceed max length 4096. ..." */
function tooLong(msgtype: string, limit: number, ip: string): Answer {
  return wecomError(40058, ip, `${msgtype}.content exceed max length ${limit}. invalid Request Parameter`);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function stringArray(value: unknown): string[] | undefined {
  return Array.isArray(value) && value.every((v) => typeof v === 'string') ? value : undefined;
}

/**
 * The members a robot markdown content mentions: each `<@userid>` (a WeCom user ID: letters,
 * digits and `_.@-`), in order, once. `<@all>` is not documented for markdown, so it counts as a
 * user named "all", which is what a live group would make of it: nobody.
 */
export function markdownMentions(content: string): string[] {
  return [...new Set([...content.matchAll(/<@([\w.@-]{1,64})>/g)].map((m) => m[1]!))];
}
