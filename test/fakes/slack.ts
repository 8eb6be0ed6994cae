/**
 * Loopback fake of a Slack incoming webhook: `POST /services/TEAM/BOT/TOKEN` with a JSON body
 * (or a form with `payload=<json>`, which Slack also takes). Like Slack, it answers HTTP 200 and
 * the body `ok`, or an HTTP error status and the error's name as a plain-text body.
 *
 * What it enforces, and where that was confirmed:
 * - the errors of Slack's incoming-webhook guide, with their HTTP status: 400 `invalid_payload`
 *   (not JSON), 400 `no_text` (neither text nor blocks), 403 `invalid_token` (a wrong webhook;
 *   slack-notifier's "invalid_token (HTTP Code 403)" in gueils/whales#38), 404 `channel_not_found`,
 *   404 `no_service`, 403 `action_prohibited`, 410 `channel_is_archived` (the last four scriptable);
 * - 400 `invalid_blocks` for blocks Slack refuses (sankichi92/livelog#792), against the limits of
 *   Slack's Block Kit reference (docs.slack.dev/reference/block-kit): at most 50 blocks; header:
 *   plain_text, up to 150 characters; section: text of 1–3000 characters and/or 1–10 fields of up
 *   to 2000; context: 1–10 elements (text objects or images); actions: 1–25 elements; button: text
 *   plain_text up to 75 characters, url up to 3000, value up to 2000, action_id up to 255, style
 *   primary|danger; divider; block_id up to 255. Only these block types (and button elements in
 *   actions and as a section accessory) are accepted: stricter than Slack, which knows more;
 * - `text` over 40,000 characters: Slack documents truncating such a message (chat.postMessage),
 *   and names the refusal `msg_too_long`; what a webhook does is not documented, so the fake, the
 *   stricter, refuses with 400 `msg_too_long`;
 * - the rate limit of Slack's rate-limits page: "Incoming webhooks: 1 per second, short bursts >1
 *   allowed", over it HTTP 429 with `Retry-After` (seconds). The burst size is not documented: the
 *   fake uses a token bucket of `burst` (default 3) refilled at `perSecond` (default 1), off
 *   unless `rateLimit` is given.
 *
 * Uses `node:http` only and binds 127.0.0.1 on an ephemeral port.
 */
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

/** The webhook errors the fake knows, with the HTTP status Slack answers them with. */
export const SLACK_WEBHOOK_ERRORS = {
  invalid_payload: 400,
  no_text: 400,
  invalid_blocks: 400,
  msg_too_long: 400,
  action_prohibited: 403,
  invalid_token: 403,
  channel_not_found: 404,
  no_service: 404,
  channel_is_archived: 410,
  rate_limited: 429,
} as const;
export type SlackWebhookError = keyof typeof SLACK_WEBHOOK_ERRORS;

/** A scripted answer: a Slack error by name (with its status), an HTTP status, or a hang. */
export type ScriptedSlackFailure = SlackWebhookError | ScriptedHttpFailure;

export interface FakeSlackOptions {
  /** The webhook's path segments; defaults 'T0000TEST', 'B0000TEST', 'testWebhookSecret0001'. */
  team?: string;
  bot?: string;
  secret?: string;
  /** Answers served, in order, before the real behaviour resumes. */
  failures?: ScriptedSlackFailure[];
  /**
   * The rate limit, off by default: a bucket of `burst` sends (default 3) refilled at `perSecond`
   * (default 1), and optionally at most `perMinute` in any 60 s; over it, 429 with `Retry-After`.
   * `now` is the fake's clock in ms (default `Date.now`).
   */
  rateLimit?: { perSecond?: number; burst?: number; perMinute?: number; now?: () => number };
}

export type RecordedSlackRequest = RecordedWebhookRequest<{ error: SlackWebhookError }>;

/** A message Slack accepted. */
export interface DeliveredSlackMessage {
  text?: string;
  blocks?: Record<string, unknown>[];
  /** The whole payload as posted. */
  payload: Record<string, unknown>;
}

export interface FakeSlack {
  /** The webhook URL to give the action: `${origin}/services/TEAM/BOT/SECRET`. */
  url: string;
  /** `http://127.0.0.1:PORT` */
  origin: string;
  /** Every request received, in arrival order. */
  requests(): RecordedSlackRequest[];
  /** The messages accepted, in order. */
  messages(): DeliveredSlackMessage[];
  close(): Promise<void>;
}

export const SLACK_LIMITS = {
  blocks: 50,
  text: 40_000,
  headerText: 150,
  sectionText: 3000,
  sectionFields: 10,
  fieldText: 2000,
  contextElements: 10,
  actionsElements: 25,
  buttonText: 75,
  buttonUrl: 3000,
  buttonValue: 2000,
  actionId: 255,
  blockId: 255,
} as const;

/** Starts the fake on 127.0.0.1 (ephemeral port). */
export async function startFakeSlack(opts: FakeSlackOptions = {}): Promise<FakeSlack> {
  const path = `/services/${opts.team ?? 'T0000TEST'}/${opts.bot ?? 'B0000TEST'}/${opts.secret ?? 'testWebhookSecret0001'}`;
  const queue = [...(opts.failures ?? [])];
  const requests: RecordedSlackRequest[] = [];
  const messages: DeliveredSlackMessage[] = [];
  const limit = opts.rateLimit;
  const clock = limit?.now ?? Date.now;
  const perSecond = limit?.perSecond ?? 1;
  const burst = limit?.burst ?? 3;
  const minute = new RollingWindow(60_000);
  let tokens = burst;
  let refilledAt: number | undefined;

  /** Takes a send from the bucket, or says how many seconds until one is free. */
  function retryAfter(): number | undefined {
    if (!limit) return undefined;
    const t = clock();
    tokens = Math.min(burst, tokens + ((t - (refilledAt ?? t)) / 1000) * perSecond);
    refilledAt = t;
    if (limit.perMinute !== undefined && minute.count(t) >= limit.perMinute) {
      return Math.max(1, Math.ceil((minute.nextFreeAt(t) - t) / 1000));
    }
    if (tokens < 1) return Math.max(1, Math.ceil((1 - tokens) / perSecond));
    tokens -= 1;
    minute.add(t);
    return undefined;
  }

  function handle(req: WebhookRequest): WebhookAnswer {
    if (!req.path.startsWith('/services/')) return { status: 404, body: 'Not Found', contentType: 'text/plain' };
    const scripted = queue.shift();
    if (scripted !== undefined) {
      return typeof scripted === 'string'
        ? slackError(scripted)
        : 'hang' in scripted
          ? scripted
          : httpFailureAnswer(scripted);
    }
    if (req.path !== path) return slackError('invalid_token');
    const wait = retryAfter();
    if (wait !== undefined) return slackError('rate_limited', { 'Retry-After': String(wait) });

    const payload = payloadOf(req);
    if (!isRecord(payload)) return slackError('invalid_payload');
    const { text, blocks } = payload;
    if ((text !== undefined && typeof text !== 'string') || (blocks !== undefined && !Array.isArray(blocks))) {
      return slackError('invalid_payload');
    }
    if ((text === undefined || text === '') && (blocks === undefined || blocks.length === 0))
      return slackError('no_text');
    if (blocks !== undefined && !blocksValid(blocks)) return slackError('invalid_blocks');
    if (text !== undefined && [...text].length > SLACK_LIMITS.text) return slackError('msg_too_long');

    messages.push({
      ...(text === undefined ? {} : { text }),
      ...(blocks === undefined ? {} : { blocks: blocks as Record<string, unknown>[] }),
      payload,
    });
    return { status: 200, body: 'ok', contentType: 'text/html' };
  }

  const server = await startLoopback(handle, (req, given) => {
    const error = 'hang' in given || given.status === 200 ? undefined : knownError(given.body);
    requests.push(recordOf<{ error: SlackWebhookError }>(req, given, error === undefined ? {} : { error }));
  });

  return {
    url: `${server.origin}${path}`,
    origin: server.origin,
    requests: () => [...requests],
    messages: () => [...messages],
    close: server.close,
  };
}

function slackError(error: SlackWebhookError, headers?: Record<string, string>): WebhookAnswer {
  return {
    status: SLACK_WEBHOOK_ERRORS[error],
    body: error,
    contentType: 'text/html',
    ...(headers ? { headers } : {}),
  };
}

function knownError(body: string): SlackWebhookError | undefined {
  return Object.hasOwn(SLACK_WEBHOOK_ERRORS, body) ? (body as SlackWebhookError) : undefined;
}

/** The JSON body, or the JSON in a form's `payload` field; undefined when neither parses. */
function payloadOf(req: WebhookRequest): unknown {
  if (req.contentType?.startsWith('application/x-www-form-urlencoded')) {
    const form = new URLSearchParams(req.rawBody).get('payload');
    if (form === null) return undefined;
    try {
      return JSON.parse(form) as unknown;
    } catch {
      return undefined;
    }
  }
  return req.json.ok ? req.json.value : undefined;
}

/** Characters as Slack counts them (code points). */
function length(text: string): number {
  return [...text].length;
}

/** A text object: `{type: 'plain_text' | 'mrkdwn', text}` of 1 to `max` characters. */
function textOk(value: unknown, max: number, plainOnly = false): boolean {
  if (!isRecord(value)) return false;
  const { type, text } = value;
  if (type !== 'plain_text' && (plainOnly || type !== 'mrkdwn')) return false;
  return typeof text === 'string' && length(text) >= 1 && length(text) <= max;
}

function optionalString(value: unknown, max: number): boolean {
  return value === undefined || (typeof value === 'string' && length(value) <= max);
}

function buttonOk(value: unknown): boolean {
  if (!isRecord(value) || value['type'] !== 'button') return false;
  const { text, url, value: buttonValue, action_id: actionId, style } = value;
  return (
    textOk(text, SLACK_LIMITS.buttonText, true) &&
    optionalString(url, SLACK_LIMITS.buttonUrl) &&
    optionalString(buttonValue, SLACK_LIMITS.buttonValue) &&
    optionalString(actionId, SLACK_LIMITS.actionId) &&
    (style === undefined || style === 'primary' || style === 'danger')
  );
}

function blocksValid(blocks: unknown[]): boolean {
  return blocks.length <= SLACK_LIMITS.blocks && blocks.every(blockOk);
}

function blockOk(block: unknown): boolean {
  if (!isRecord(block) || !optionalString(block['block_id'], SLACK_LIMITS.blockId)) return false;
  switch (block['type']) {
    case 'header':
      return textOk(block['text'], SLACK_LIMITS.headerText, true);
    case 'section': {
      const { text, fields, accessory } = block;
      if (text === undefined && fields === undefined) return false;
      if (text !== undefined && !textOk(text, SLACK_LIMITS.sectionText)) return false;
      if (fields !== undefined) {
        if (!Array.isArray(fields) || fields.length === 0 || fields.length > SLACK_LIMITS.sectionFields) return false;
        if (!fields.every((field) => textOk(field, SLACK_LIMITS.fieldText))) return false;
      }
      return accessory === undefined || buttonOk(accessory);
    }
    case 'context': {
      const { elements } = block;
      if (!Array.isArray(elements) || elements.length === 0 || elements.length > SLACK_LIMITS.contextElements) {
        return false;
      }
      return elements.every(
        (element) =>
          textOk(element, SLACK_LIMITS.sectionText) ||
          (isRecord(element) &&
            element['type'] === 'image' &&
            typeof element['image_url'] === 'string' &&
            typeof element['alt_text'] === 'string'),
      );
    }
    case 'actions': {
      const { elements } = block;
      if (!Array.isArray(elements) || elements.length === 0 || elements.length > SLACK_LIMITS.actionsElements) {
        return false;
      }
      return elements.every(buttonOk);
    }
    case 'divider':
      return true;
    default:
      return false;
  }
}
