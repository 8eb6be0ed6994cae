/**
 * Loopback fake of a DingTalk custom robot (钉钉自定义机器人): `POST /robot/send?access_token=TOKEN`
 * with a JSON body. Like the service, every answer is HTTP 200 with `{"errcode":…,"errmsg":…}`.
 *
 * What it enforces, and where that was confirmed (public issue threads quoting the live service,
 * and copies of DingTalk's custom-robot guide):
 * - an unknown token: 300001 "token is not exist" (timonwong/prometheus-webhook-dingtalk#91);
 * - the 加签 security setting (`secret`, "SEC…"): the query carries `timestamp` (ms, within an hour
 *   of now either way) and `sign` = urlEncode(base64(HmacSHA256(key = secret, data =
 *   `${timestamp}\n${secret}`))); a stale or missing one and a wrong sign are both errcode 310000,
 *   with different errmsg (jenkinsci/dingtalk-plugin#116, qd-today/qd#510, 0wQ/air780e-forwarder#51);
 * - the keyword setting: the text must contain one keyword, else 310000 (zhuifengshen/DingtalkChatbot#44,
 *   RayWangQvQ/BiliBiliToolPro#271);
 * - 20 messages a minute, then the robot is silenced for 10 minutes: 130101 "send too fast, exceed
 *   20 times per minute" (the guide: 每个机器人每分钟最多发送20条…会限流10分钟; ccfos/nightingale#369);
 * - a body of at most 20,000 bytes: 460101 (timonwong/prometheus-webhook-dingtalk#30,
 *   feiyu563/PrometheusAlert#318). The live errmsg speaks of the body ("body 大小不合法…20000bytes");
 *   whether it counts the HTTP body or the message is not documented, so the fake counts the raw
 *   HTTP body, the stricter reading (a markdown text near 20,000 bytes is refused once wrapped);
 * - a body that is not JSON: 40035 "缺少参数 json" (ccfos/nightingale#2704);
 * - a missing markdown title/text or text content: 400402 with a 错误描述/解决方案 errmsg
 *   (cryozerolabs/n8n-nodes-dingtalk#10; older services answered 400403 "miss param : markdown->text",
 *   feiyu563/PrometheusAlert#63). No code for an unknown msgtype was found: the fake answers 400402
 *   about `msgtype`.
 *
 * DingTalk has reworded its errmsgs over the years (since about 2022 as "description:…;solution:…;").
 * The fake answers the current wording; `errmsgStyle: 'legacy'` gives the older English ones
 * ("sign not match, more: [...]", "keywords not in content, …", "message too long, exceed 20000
 * bytes"). Clients should only rely on errcode. The order of the checks is not documented; the fake
 * checks token, signature, frequency, size, JSON, fields, keywords, in that order.
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
  stringArray,
  type RecordedWebhookRequest,
  type ScriptedHttpFailure,
  type WebhookAnswer,
  type WebhookRequest,
} from './chat-webhook.js';

/** A scripted answer: a DingTalk errcode (HTTP 200 with its errmsg), an HTTP status, or a hang. */
export type ScriptedDingtalkFailure = number | ScriptedHttpFailure;

export interface FakeDingtalkOptions {
  /** The robot's access_token; default 'test-dingtalk-token-0001'. */
  accessToken?: string;
  /** The 加签 secret ("SEC…"): when set, every request must be signed with it. */
  secret?: string;
  /** The 自定义关键词 setting (DingTalk allows up to 10): the text must contain one of them. */
  keywords?: string[];
  /** Answers served, in order, before the real behaviour resumes. */
  failures?: ScriptedDingtalkFailure[];
  /**
   * The frequency limit, off by default: over `perMinute` messages in any 60 s (DingTalk says 20)
   * the robot answers 130101 and stays silenced for `silenceMs` (default 10 minutes), refusing
   * everything. Every authenticated request counts, refused ones too. `now` defaults to the
   * fake's `now`.
   */
  rateLimit?: { perMinute: number; silenceMs?: number; now?: () => number };
  /** The fake's clock in ms, for the signature's timestamp window; default `Date.now`. */
  now?: () => number;
  /** Default 'current' (DingTalk's wording since about 2022). */
  errmsgStyle?: 'current' | 'legacy';
}

export type RecordedDingtalkRequest = RecordedWebhookRequest<{ errcode: number }>;

/** A message DingTalk accepted (errcode 0). */
export interface DeliveredDingtalkMessage {
  msgtype: 'text' | 'markdown';
  /** The markdown title (what the notification shows). */
  title?: string;
  /** `text.content` or `markdown.text`. */
  text: string;
  atMobiles: string[];
  atUserIds: string[];
  isAtAll: boolean;
  /**
   * Each of `atMobiles`, and whether `@<mobile>` is also in the text: DingTalk only highlights an
   * @ (and, for markdown, only notifies) when the text carries it.
   */
  mentions: { mobile: string; inText: boolean }[];
}

export interface FakeDingtalk {
  /** The webhook URL to give the action: `${origin}/robot/send?access_token=TOKEN`. */
  url: string;
  /** `http://127.0.0.1:PORT` */
  origin: string;
  accessToken: string;
  /** Every request received, in arrival order. */
  requests(): RecordedDingtalkRequest[];
  /** The messages accepted, in order. */
  messages(): DeliveredDingtalkMessage[];
  close(): Promise<void>;
}

/** The body limit, in bytes of the raw HTTP body. */
export const DINGTALK_MAX_BODY_BYTES = 20_000;
/** How far a signature's timestamp may be from now, either way. */
export const DINGTALK_SIGN_WINDOW_MS = 60 * 60 * 1000;
/** How long the robot stays silenced once over its frequency limit. */
export const DINGTALK_SILENCE_MS = 10 * 60 * 1000;

export const DINGTALK_ERRCODE = {
  ok: 0,
  systemBusy: -1,
  notJson: 40035,
  sendTooFast: 130101,
  tokenNotExist: 300001,
  /** Signature, timestamp and keyword refusals share it. */
  security: 310000,
  missingParam: 400402,
  bodyTooLarge: 460101,
} as const;

const MORE = 'more: [https://ding-doc.dingtalk.com/doc#/serverapi2/qf2nxq]';
const DOC_LINK = '请参考本接口对应文档获得具体要求，或者在https://open.dingtalk.com/document/  搜索相关文档;';

/** The errmsg of each refusal, in both wordings. */
const ERRMSG = {
  signMismatch: {
    current: `description:机器人发送签名不匹配;solution:请确认签名和生成签名的时间戳必须都放在调用的网址中，请确认机器人的密钥加密和填写正确;link:${DOC_LINK}`,
    legacy: `sign not match, ${MORE}`,
  },
  signExpired: {
    current: 'description:机器人发送签名过期;solution:签名生成时间和发送时间请保持在 timestampms 以内;',
    legacy: `invalid timestamp, ${MORE}`,
  },
  keywords: {
    current: 'description:关键词不匹配;solution:请联系群管理员查看此机器人的关键词，并在发送的信息中包含此关键词;',
    legacy: `keywords not in content, ${MORE}`,
  },
  bodyTooLarge: {
    current: `description: body 大小不合法;solution:请保持大小在 ${DINGTALK_MAX_BODY_BYTES}bytes 以内;`,
    legacy: `message too long, exceed ${DINGTALK_MAX_BODY_BYTES} bytes`,
  },
} as const;

/** errmsg of the codes a test may script (an unknown code gets "error"). */
const SCRIPTED_ERRMSG: Readonly<Record<number, string>> = {
  [DINGTALK_ERRCODE.systemBusy]: '系统繁忙',
  [DINGTALK_ERRCODE.notJson]: '缺少参数 json',
  [DINGTALK_ERRCODE.sendTooFast]: 'send too fast, exceed 20 times per minute',
  [DINGTALK_ERRCODE.tokenNotExist]: 'token is not exist',
  [DINGTALK_ERRCODE.security]: ERRMSG.signMismatch.current,
  [DINGTALK_ERRCODE.bodyTooLarge]: ERRMSG.bodyTooLarge.current,
};

/** Starts the fake on 127.0.0.1 (ephemeral port). */
export async function startFakeDingtalk(opts: FakeDingtalkOptions = {}): Promise<FakeDingtalk> {
  const accessToken = opts.accessToken ?? 'test-dingtalk-token-0001';
  const style = opts.errmsgStyle ?? 'current';
  const now = opts.now ?? Date.now;
  const rateNow = opts.rateLimit?.now ?? now;
  const queue = [...(opts.failures ?? [])];
  const requests: RecordedDingtalkRequest[] = [];
  const messages: DeliveredDingtalkMessage[] = [];
  const sends = new RollingWindow(60_000);
  let silencedUntil = -Infinity;

  const refuse = (errcode: number, errmsg: string): WebhookAnswer => json({ errcode, errmsg });

  /** Whether this send is over the frequency limit (it is counted either way). */
  function tooFast(): boolean {
    const limit = opts.rateLimit;
    if (!limit) return false;
    const t = rateNow();
    if (t < silencedUntil) return true;
    const over = sends.count(t) >= limit.perMinute;
    sends.add(t);
    if (over) silencedUntil = t + (limit.silenceMs ?? DINGTALK_SILENCE_MS);
    return over;
  }

  /** The signature check, on the query's `timestamp` and `sign`; undefined when it passes. */
  function signatureRefusal(query: Record<string, string>, secret: string): WebhookAnswer | undefined {
    const { timestamp, sign } = query;
    if (timestamp === undefined || sign === undefined) {
      return refuse(DINGTALK_ERRCODE.security, ERRMSG.signMismatch[style]);
    }
    if (!/^\d{1,16}$/.test(timestamp) || Math.abs(now() - Number(timestamp)) > DINGTALK_SIGN_WINDOW_MS) {
      return refuse(DINGTALK_ERRCODE.security, ERRMSG.signExpired[style]);
    }
    const expected = createHmac('sha256', secret).update(`${timestamp}\n${secret}`, 'utf8').digest('base64');
    // `sign` arrives URL-decoded; a client that forgot to encode it sent "+" that decoded to " ".
    if (sign !== expected) return refuse(DINGTALK_ERRCODE.security, ERRMSG.signMismatch[style]);
    return undefined;
  }

  function missingParam(msgtype: string, field: string): WebhookAnswer {
    return style === 'current'
      ? refuse(
          DINGTALK_ERRCODE.missingParam,
          `错误描述:参数 ${msgtype} --》 ${field} 缺失，或者参数格式不正确; 解决方案:请填充上对应参数;参考链接:${DOC_LINK}`,
        )
      : refuse(400403, `miss param : ${msgtype}->${field}`);
  }

  function handle(req: WebhookRequest): WebhookAnswer {
    if (req.path !== '/robot/send') return { status: 404, body: 'Not Found', contentType: 'text/plain' };
    const scripted = queue.shift();
    if (scripted !== undefined) {
      return typeof scripted === 'number'
        ? refuse(scripted, SCRIPTED_ERRMSG[scripted] ?? (scripted === 0 ? 'ok' : 'error'))
        : 'hang' in scripted
          ? scripted
          : httpFailureAnswer(scripted);
    }

    if (req.query['access_token'] !== accessToken) return refuse(DINGTALK_ERRCODE.tokenNotExist, 'token is not exist');
    if (opts.secret !== undefined) {
      const refusal = signatureRefusal(req.query, opts.secret);
      if (refusal) return refusal;
    }
    if (tooFast()) return refuse(DINGTALK_ERRCODE.sendTooFast, 'send too fast, exceed 20 times per minute');
    if (req.raw.length > DINGTALK_MAX_BODY_BYTES) {
      return refuse(DINGTALK_ERRCODE.bodyTooLarge, ERRMSG.bodyTooLarge[style]);
    }
    if (!req.json.ok || !isRecord(req.json.value)) return refuse(DINGTALK_ERRCODE.notJson, '缺少参数 json');

    const body = req.json.value;
    const msgtype = body['msgtype'];
    let message: Pick<DeliveredDingtalkMessage, 'msgtype' | 'title' | 'text'>;
    if (msgtype === 'text') {
      const content = isRecord(body['text']) ? body['text']['content'] : undefined;
      if (typeof content !== 'string' || content === '') return missingParam('text', 'content');
      message = { msgtype, text: content };
    } else if (msgtype === 'markdown') {
      const markdown = isRecord(body['markdown']) ? body['markdown'] : {};
      const { title, text } = markdown;
      if (typeof title !== 'string' || title === '') return missingParam('markdown', 'title');
      if (typeof text !== 'string' || text === '') return missingParam('markdown', 'text');
      message = { msgtype, title, text };
    } else {
      return missingParam(typeof msgtype === 'string' ? msgtype : 'msgtype', 'msgtype');
    }

    // Only the text is searched, not the markdown title: the stricter reading of "the message".
    const keywords = opts.keywords ?? [];
    if (keywords.length > 0 && !keywords.some((k) => message.text.includes(k))) {
      return refuse(DINGTALK_ERRCODE.security, ERRMSG.keywords[style]);
    }

    const at = isRecord(body['at']) ? body['at'] : {};
    const atMobiles = stringArray(at['atMobiles']) ?? [];
    messages.push({
      ...message,
      atMobiles,
      atUserIds: stringArray(at['atUserIds']) ?? [],
      isAtAll: at['isAtAll'] === true,
      mentions: atMobiles.map((mobile) => ({ mobile, inText: message.text.includes(`@${mobile}`) })),
    });
    return json({ errcode: 0, errmsg: 'ok' });
  }

  const server = await startLoopback(handle, (req, answer) => {
    const errcode = 'hang' in answer ? undefined : errcodeOf(answer);
    requests.push(recordOf<{ errcode: number }>(req, answer, errcode === undefined ? {} : { errcode }));
  });

  return {
    url: `${server.origin}/robot/send?access_token=${encodeURIComponent(accessToken)}`,
    origin: server.origin,
    accessToken,
    requests: () => [...requests],
    messages: () => [...messages],
    close: server.close,
  };
}

function json(payload: { errcode: number; errmsg: string }): WebhookAnswer {
  return { status: 200, body: JSON.stringify(payload), contentType: 'application/json;charset=UTF-8' };
}

function errcodeOf(answer: { contentType: string; body: string }): number | undefined {
  if (!answer.contentType.startsWith('application/json')) return undefined;
  const parsed = JSON.parse(answer.body) as { errcode?: unknown };
  return typeof parsed.errcode === 'number' ? parsed.errcode : undefined;
}
