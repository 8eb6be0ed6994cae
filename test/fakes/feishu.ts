/**
 * Loopback fake of a Feishu/Lark custom bot (飞书自定义机器人): `POST /open-apis/bot/v2/hook/TOKEN`
 * with a JSON body. Answers are `{"code":…,"data":{},"msg":…}`, HTTP 200 except for 9499.
 *
 * What it enforces, and where that was confirmed (Feishu's 自定义机器人使用指南 at
 * open.feishu.cn/document/client-docs/bot-v3/add-custom-bot, and issue threads quoting the service):
 * - success `{"code":0,"data":{},"msg":"success"}` (older bots also sent `StatusCode: 0`; the
 *   current guide documents `code`);
 * - an unknown token: 19001 "param invalid: incoming webhook access token invalid"
 *   (sansan0/TrendRadar#278);
 * - the 签名校验 setting (`secret`): the body carries `timestamp` (seconds, as a string; within an
 *   hour of now) and `sign` = base64(HmacSHA256(key = `${timestamp}\n${secret}`, data = empty));
 *   a wrong or stale one: 19021 "sign match fail or timestamp is not within one hour from current
 *   time" (the guide; feiyu563/PrometheusAlert#422);
 * - the keyword setting: 19024 "Key Words Not Found" (the guide, quoted in RaineaAN/GlaDOS_Checkin_ql#6);
 * - 100 requests a minute and 5 a second per bot: 11232 "frequency limited psm[…]appID[…]" (the
 *   guide; the msg as the live service words it, quoted in several public test suites);
 * - a body that is not JSON: HTTP 400 with 9499 "Bad Request" (as apprise's Feishu plugin records);
 * - no or an unknown `msg_type`, or a malformed `content`/`card`: 19002 "params error, …" (the live
 *   "params error, msg_type need" is widely quoted; the detail after the comma for other faults is
 *   the fake's own);
 * - a body over 20 KB (the guide: 请求体的数据大小不能超过 20 KB). The code is not documented: the
 *   only size refusal seen from this endpoint is 19036 "The message exceeds the size limit of
 *   30KB" (XUJiahua/alertmanager-webhook-feishu#3, from when the limit was 30 KB), so the fake
 *   answers 19036 with the limit it enforces, and reads "20 KB" as 20,000 bytes, the stricter.
 *
 * Message types: `text`, `post` and `interactive` (a v1 card: `header` {title {tag, content},
 * template}, `elements` of div/markdown/hr/note/action/img). The fake is stricter than Feishu on
 * cards: an unknown header template or element tag is refused (Feishu may render a default). The
 * order of the checks is not documented; the fake checks token, size, JSON, signature, frequency,
 * message, keywords, in that order.
 *
 * Uses `node:http` only and binds 127.0.0.1 on an ephemeral port.
 */
import { createHmac } from 'node:crypto';
import {
  httpFailureAnswer,
  isRecord,
  recordOf,
  RollingWindow,
  startLoopback,
  type RecordedWebhookRequest,
  type ScriptedHttpFailure,
  type WebhookAnswer,
  type WebhookRequest,
} from './chat-webhook.js';

/** A scripted answer: a Feishu code (with its msg and HTTP status), an HTTP status, or a hang. */
export type ScriptedFeishuFailure = number | ScriptedHttpFailure;

export interface FakeFeishuOptions {
  /** The hook's token (the last path segment); default 'test-feishu-hook-0001'. */
  token?: string;
  /** The 签名校验 secret: when set, every body must carry `timestamp` and `sign`. */
  secret?: string;
  /** The 自定义关键词 setting: the message's text must contain one of them. */
  keywords?: string[];
  /** Answers served, in order, before the real behaviour resumes. */
  failures?: ScriptedFeishuFailure[];
  /**
   * The frequency limit, off by default: over `perMinute` requests in any 60 s or `perSecond` in
   * any second (Feishu: 100 and 5), 11232. Every authenticated request counts, refused ones too.
   * `now` defaults to the fake's `now`.
   */
  rateLimit?: { perMinute: number; perSecond?: number; now?: () => number };
  /** The fake's clock in ms, for the signature's timestamp window; default `Date.now`. */
  now?: () => number;
}

export type RecordedFeishuRequest = RecordedWebhookRequest<{ code: number }>;

/** A message Feishu accepted (code 0). */
export interface DeliveredFeishuMessage {
  msg_type: 'text' | 'post' | 'interactive';
  /** The visible text, in order, one piece a line: what the keyword check searches. */
  text: string;
  /**
   * Who is @-mentioned: the ids of `<at id=…></at>` / `<at user_id="…">` / `<at email=…>` in the
   * text and lark_md, and of post `at` elements, in order, each once; "all" for everyone.
   */
  mentions: string[];
  /** For a card: its header and buttons. */
  card?: { title?: string; template?: string; buttons: { text: string; url?: string }[] };
  /** As posted: `content` for text and post, `card` for interactive. */
  payload: unknown;
}

export interface FakeFeishu {
  /** The webhook URL to give the action: `${origin}/open-apis/bot/v2/hook/TOKEN`. */
  url: string;
  /** `http://127.0.0.1:PORT` */
  origin: string;
  token: string;
  /** Every request received, in arrival order. */
  requests(): RecordedFeishuRequest[];
  /** The messages accepted, in order. */
  messages(): DeliveredFeishuMessage[];
  close(): Promise<void>;
}

/** The body limit in bytes ("20 KB", read as 20,000). */
export const FEISHU_MAX_BODY_BYTES = 20_000;
/** How far a signature's timestamp may be from now, either way, in seconds. */
export const FEISHU_SIGN_WINDOW_S = 60 * 60;

export const FEISHU_CODE = {
  ok: 0,
  badRequest: 9499,
  frequencyLimited: 11232,
  tokenInvalid: 19001,
  paramsError: 19002,
  signMismatch: 19021,
  ipNotAllowed: 19022,
  keywordsNotFound: 19024,
  bodyTooLarge: 19036,
} as const;

/** The header templates (colours) Feishu documents for v1 cards. */
export const FEISHU_CARD_TEMPLATES = [
  'blue',
  'wathet',
  'turquoise',
  'green',
  'yellow',
  'orange',
  'red',
  'carmine',
  'violet',
  'purple',
  'indigo',
  'grey',
  'default',
] as const;

const MSG: Readonly<Record<number, string>> = {
  [FEISHU_CODE.ok]: 'success',
  [FEISHU_CODE.badRequest]: 'Bad Request',
  [FEISHU_CODE.frequencyLimited]: 'frequency limited psm[lark.oapi.app_platform_runtime]appID[1500]',
  [FEISHU_CODE.tokenInvalid]: 'param invalid: incoming webhook access token invalid',
  [FEISHU_CODE.paramsError]: 'params error',
  [FEISHU_CODE.signMismatch]: 'sign match fail or timestamp is not within one hour from current time',
  [FEISHU_CODE.ipNotAllowed]: 'Ip Not Allowed',
  [FEISHU_CODE.keywordsNotFound]: 'Key Words Not Found',
  [FEISHU_CODE.bodyTooLarge]: 'The message exceeds the size limit of 20KB',
};

const HOOK_PREFIX = '/open-apis/bot/v2/hook/';

/** What a message's check found: its text, mentions and card summary, or a params error. */
type Parsed = { ok: true; message: Omit<DeliveredFeishuMessage, 'msg_type' | 'payload'> } | { ok: false; why: string };

/** Starts the fake on 127.0.0.1 (ephemeral port). */
export async function startFakeFeishu(opts: FakeFeishuOptions = {}): Promise<FakeFeishu> {
  const token = opts.token ?? 'test-feishu-hook-0001';
  const now = opts.now ?? Date.now;
  const rateNow = opts.rateLimit?.now ?? now;
  const queue = [...(opts.failures ?? [])];
  const requests: RecordedFeishuRequest[] = [];
  const messages: DeliveredFeishuMessage[] = [];
  const minute = new RollingWindow(60_000);
  const second = new RollingWindow(1_000);

  /** Whether this request is over the frequency limit (it is counted either way). */
  function tooFrequent(): boolean {
    const limit = opts.rateLimit;
    if (!limit) return false;
    const t = rateNow();
    const over =
      minute.count(t) >= limit.perMinute || (limit.perSecond !== undefined && second.count(t) >= limit.perSecond);
    minute.add(t);
    second.add(t);
    return over;
  }

  function signatureMatches(body: Record<string, unknown>, secret: string): boolean {
    const { timestamp, sign } = body;
    const ts = typeof timestamp === 'number' && Number.isInteger(timestamp) ? String(timestamp) : timestamp;
    if (typeof ts !== 'string' || !/^\d{1,13}$/.test(ts) || typeof sign !== 'string') return false;
    if (Math.abs(now() / 1000 - Number(ts)) > FEISHU_SIGN_WINDOW_S) return false;
    const expected = createHmac('sha256', `${ts}\n${secret}`).update(Buffer.alloc(0)).digest('base64');
    return sign === expected;
  }

  function handle(req: WebhookRequest): WebhookAnswer {
    if (!req.path.startsWith(HOOK_PREFIX))
      return { status: 404, body: '404 page not found', contentType: 'text/plain' };
    const scripted = queue.shift();
    if (scripted !== undefined) {
      return typeof scripted === 'number'
        ? answer(scripted)
        : 'hang' in scripted
          ? scripted
          : httpFailureAnswer(scripted);
    }

    if (decodeURIComponent(req.path.slice(HOOK_PREFIX.length)) !== token) return answer(FEISHU_CODE.tokenInvalid);
    if (req.raw.length > FEISHU_MAX_BODY_BYTES) return answer(FEISHU_CODE.bodyTooLarge);
    if (!req.json.ok || !isRecord(req.json.value)) return answer(FEISHU_CODE.badRequest);
    const body = req.json.value;
    if (opts.secret !== undefined && !signatureMatches(body, opts.secret)) return answer(FEISHU_CODE.signMismatch);
    if (tooFrequent()) return answer(FEISHU_CODE.frequencyLimited);

    const msgType = body['msg_type'];
    if (typeof msgType !== 'string' || msgType === '')
      return answer(FEISHU_CODE.paramsError, 'params error, msg_type need');
    let parsed: Parsed;
    let payload: unknown;
    if (msgType === 'text') {
      payload = body['content'];
      parsed = parseText(payload);
    } else if (msgType === 'post') {
      payload = body['content'];
      parsed = parsePost(payload);
    } else if (msgType === 'interactive') {
      payload = body['card'];
      parsed = parseCard(payload);
    } else {
      return answer(FEISHU_CODE.paramsError, `params error, unsupported msg_type ${msgType}`);
    }
    if (!parsed.ok) return answer(FEISHU_CODE.paramsError, `params error, ${parsed.why}`);

    const keywords = opts.keywords ?? [];
    if (keywords.length > 0 && !keywords.some((k) => parsed.message.text.includes(k))) {
      return answer(FEISHU_CODE.keywordsNotFound);
    }
    messages.push({ msg_type: msgType, ...parsed.message, payload });
    return answer(FEISHU_CODE.ok);
  }

  const server = await startLoopback(handle, (req, given) => {
    const code = 'hang' in given ? undefined : codeOf(given);
    requests.push(recordOf<{ code: number }>(req, given, code === undefined ? {} : { code }));
  });

  return {
    url: `${server.origin}${HOOK_PREFIX}${encodeURIComponent(token)}`,
    origin: server.origin,
    token,
    requests: () => [...requests],
    messages: () => [...messages],
    close: server.close,
  };
}

/** Feishu's answer for a code: JSON, HTTP 400 for 9499 and 200 otherwise. */
function answer(code: number, msg?: string): WebhookAnswer {
  return {
    status: code === FEISHU_CODE.badRequest ? 400 : 200,
    body: JSON.stringify({ code, data: {}, msg: msg ?? MSG[code] ?? 'error' }),
    contentType: 'application/json; charset=utf-8',
  };
}

function codeOf(given: { contentType: string; body: string }): number | undefined {
  if (!given.contentType.startsWith('application/json')) return undefined;
  const parsed = JSON.parse(given.body) as { code?: unknown };
  return typeof parsed.code === 'number' ? parsed.code : undefined;
}

/** `{"text": "…"}`; mentions are `<at user_id="ou_…">name</at>`. */
function parseText(content: unknown): Parsed {
  const text = isRecord(content) ? content['text'] : undefined;
  if (typeof text !== 'string' || text === '') return { ok: false, why: 'content.text need' };
  return { ok: true, message: { text, mentions: atTags([text]) } };
}

/** `{"post": {"zh_cn": {"title": "…", "content": [[{"tag": "text", "text": "…"}, …], …]}}}` */
function parsePost(content: unknown): Parsed {
  const post = isRecord(content) ? content['post'] : undefined;
  if (!isRecord(post) || Object.keys(post).length === 0) return { ok: false, why: 'content.post need' };
  const lines: string[] = [];
  const mentions: string[] = [];
  for (const [locale, body] of Object.entries(post)) {
    if (!isRecord(body) || !Array.isArray(body['content'])) return { ok: false, why: `post.${locale}.content need` };
    if (typeof body['title'] === 'string' && body['title'] !== '') lines.push(body['title']);
    for (const paragraph of body['content']) {
      if (!Array.isArray(paragraph)) return { ok: false, why: `post.${locale}.content must be a list of lists` };
      for (const element of paragraph) {
        if (!isRecord(element) || typeof element['tag'] !== 'string')
          return { ok: false, why: 'post element tag need' };
        if ((element['tag'] === 'text' || element['tag'] === 'a') && typeof element['text'] === 'string') {
          lines.push(element['text']);
        }
        if (element['tag'] === 'at' && typeof element['user_id'] === 'string') mentions.push(element['user_id']);
      }
    }
  }
  return { ok: true, message: { text: lines.join('\n'), mentions: [...new Set(mentions)] } };
}

/** A v1 card: `header` {title: {tag, content}, template} and `elements`. */
function parseCard(card: unknown): Parsed {
  if (!isRecord(card)) return { ok: false, why: 'card need' };
  const texts: string[] = [];
  const markdowns: string[] = [];
  const buttons: { text: string; url?: string }[] = [];
  const summary: NonNullable<DeliveredFeishuMessage['card']> = { buttons };

  const header = card['header'];
  if (header !== undefined) {
    if (!isRecord(header)) return { ok: false, why: 'card.header must be an object' };
    const title = textObject(header['title']);
    if (!title) return { ok: false, why: 'card.header.title must be {tag: plain_text|lark_md, content}' };
    const template = header['template'];
    if (template !== undefined) {
      if (typeof template !== 'string' || !(FEISHU_CARD_TEMPLATES as readonly string[]).includes(template)) {
        return { ok: false, why: `unknown card header template ${String(template)}` };
      }
      summary.template = template;
    }
    summary.title = title.content;
    texts.push(title.content);
  }

  const elements = card['elements'];
  if (!Array.isArray(elements)) return { ok: false, why: 'card.elements need' };
  for (const [i, element] of elements.entries()) {
    const where = `card.elements[${i}]`;
    if (!isRecord(element)) return { ok: false, why: `${where} must be an object` };
    switch (element['tag']) {
      case 'div': {
        const pieces: { tag: string; content: string }[] = [];
        if (element['text'] !== undefined) {
          const text = textObject(element['text']);
          if (!text) return { ok: false, why: `${where}.text must be {tag: plain_text|lark_md, content}` };
          pieces.push(text);
        }
        if (element['fields'] !== undefined) {
          if (!Array.isArray(element['fields'])) return { ok: false, why: `${where}.fields must be a list` };
          for (const field of element['fields']) {
            const text = isRecord(field) ? textObject(field['text']) : undefined;
            if (!text) return { ok: false, why: `${where}.fields[].text must be a text object` };
            pieces.push(text);
          }
        }
        if (pieces.length === 0) return { ok: false, why: `${where} needs text or fields` };
        for (const piece of pieces) {
          texts.push(piece.content);
          if (piece.tag === 'lark_md') markdowns.push(piece.content);
        }
        break;
      }
      case 'markdown': {
        if (typeof element['content'] !== 'string') return { ok: false, why: `${where}.content need` };
        texts.push(element['content']);
        markdowns.push(element['content']);
        break;
      }
      case 'note': {
        if (!Array.isArray(element['elements'])) return { ok: false, why: `${where}.elements need` };
        for (const item of element['elements']) {
          const text = textObject(item);
          if (text) {
            texts.push(text.content);
            if (text.tag === 'lark_md') markdowns.push(text.content);
          } else if (!isRecord(item) || item['tag'] !== 'img') {
            return { ok: false, why: `${where}.elements[] must be text or img` };
          }
        }
        break;
      }
      case 'action': {
        const actions = element['actions'];
        if (!Array.isArray(actions) || actions.length === 0) return { ok: false, why: `${where}.actions need` };
        for (const action of actions) {
          if (!isRecord(action) || action['tag'] !== 'button')
            return { ok: false, why: `${where}.actions[] must be buttons` };
          const text = textObject(action['text']);
          if (!text) return { ok: false, why: `${where}.actions[].text must be a text object` };
          const url = action['url'] ?? (isRecord(action['multi_url']) ? action['multi_url']['url'] : undefined);
          if (url !== undefined && typeof url !== 'string')
            return { ok: false, why: `${where}.actions[].url must be a string` };
          buttons.push(url === undefined ? { text: text.content } : { text: text.content, url });
          texts.push(text.content);
        }
        break;
      }
      case 'hr':
        break;
      case 'img': {
        if (typeof element['img_key'] !== 'string') return { ok: false, why: `${where}.img_key need` };
        break;
      }
      default:
        return { ok: false, why: `unknown card element tag ${String(element['tag'])}` };
    }
  }
  return { ok: true, message: { text: texts.join('\n'), mentions: atTags(markdowns), card: summary } };
}

/** `{tag: 'plain_text' | 'lark_md', content: string}`, or undefined. */
function textObject(value: unknown): { tag: string; content: string } | undefined {
  if (!isRecord(value)) return undefined;
  const { tag, content } = value;
  if ((tag !== 'plain_text' && tag !== 'lark_md') || typeof content !== 'string') return undefined;
  return { tag, content };
}

/** The ids of the `<at …>` tags in these texts, in order, each once. */
function atTags(texts: string[]): string[] {
  const ids = texts.flatMap((text) =>
    [...text.matchAll(/<at\s+(?:id|user_id|email)\s*=\s*["']?([^"'\s>]+)["']?\s*>/g)].map((m) => m[1]!),
  );
  return [...new Set(ids)];
}
