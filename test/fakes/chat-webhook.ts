/**
 * What the loopback fakes of chat webhooks (DingTalk, Feishu, Slack) share: a `node:http` server
 * on 127.0.0.1 and an ephemeral port that reads each body whole, hands it to the fake's handler,
 * records the request with what was answered, can leave a request unanswered, and closes without
 * waiting for those; plus the bits of bookkeeping every fake's rate limit needs.
 *
 * The service-specific rules (paths, signatures, error codes, limits) live in each fake's module.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A request as a fake's handler sees it, its body read whole. */
export interface WebhookRequest {
  method: string;
  /** Path and query as received. */
  url: string;
  /** The path alone, still percent-encoded as received. */
  path: string;
  /** The query, decoded as `URLSearchParams` decodes it (`+` is a space). */
  query: Record<string, string>;
  contentType?: string;
  raw: Buffer;
  rawBody: string;
  /** The body parsed as JSON; `ok: false` when empty or not JSON. */
  json: { ok: true; value: unknown } | { ok: false };
}

/** An answer ready to be written, or a deliberate non-answer (the client must time out). */
export type WebhookAnswer =
  { status: number; body: string; contentType: string; headers?: Record<string, string> } | { hang: true };

/**
 * A scripted failure the fakes have in common: a bare HTTP status (a gateway's 502, a 429 with
 * `Retry-After`), with optional headers and body, or a request never answered.
 */
export type ScriptedHttpFailure = { status: number; headers?: Record<string, string>; body?: string } | { hang: true };

/** One request as recorded, with what the fake answered. */
export interface RecordedWebhookRequest<Answered extends object = object> {
  method: string;
  url: string;
  path: string;
  query: Record<string, string>;
  contentType?: string;
  /** The parsed JSON body; absent when the body is empty or not JSON. */
  body?: unknown;
  rawBody: string;
  /** Size of the raw body in bytes. */
  bytes: number;
  /** `status: 0` means never answered (a scripted hang). */
  answered: { status: number; body?: string; headers?: Record<string, string> } & Partial<Answered>;
  /** Wall-clock `Date.now()` when the body had been read. */
  at: number;
}

export interface Loopback {
  /** `http://127.0.0.1:PORT` */
  origin: string;
  /** Stops the server, dropping every open connection (hanging ones included). */
  close(): Promise<void>;
}

/**
 * Starts a server on 127.0.0.1 (ephemeral port). `handle` turns each request into an answer;
 * `record` is told of each request with the answer given (before it is written).
 */
export async function startLoopback(
  handle: (req: WebhookRequest) => WebhookAnswer,
  record: (req: WebhookRequest, answer: WebhookAnswer) => void,
): Promise<Loopback> {
  const hanging = new Set<ServerResponse>();

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const target = new URL(req.url ?? '/', 'http://127.0.0.1');
    const raw = await readBody(req);
    const rawBody = raw.toString('utf8');
    const request: WebhookRequest = {
      method: req.method ?? 'GET',
      url: req.url ?? '/',
      path: target.pathname,
      query: Object.fromEntries(target.searchParams),
      ...(req.headers['content-type'] ? { contentType: req.headers['content-type'] } : {}),
      raw,
      rawBody,
      json: parseJson(rawBody),
    };
    const answer = handle(request);
    record(request, answer);
    if ('hang' in answer) {
      hanging.add(res);
      res.on('close', () => hanging.delete(res));
      return;
    }
    res
      .writeHead(answer.status, {
        'Content-Type': answer.contentType,
        'Content-Length': Buffer.byteLength(answer.body),
        ...answer.headers,
      })
      .end(answer.body);
  }

  const server = createServer((req, res) => {
    serve(req, res).catch((err: unknown) => {
      // A client that hung up mid-body lands here too; answer if still possible.
      if (!res.headersSent && !res.destroyed) res.writeHead(500, { 'Content-Type': 'text/plain' }).end(String(err));
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
  return { origin: `http://127.0.0.1:${port}`, close };
}

/** The record of a request: what the handler saw, and what it answered (`extra`: service codes). */
export function recordOf<Answered extends object>(
  req: WebhookRequest,
  answer: WebhookAnswer,
  extra: Partial<Answered>,
): RecordedWebhookRequest<Answered> {
  return {
    method: req.method,
    url: req.url,
    path: req.path,
    query: req.query,
    ...(req.contentType === undefined ? {} : { contentType: req.contentType }),
    ...(req.json.ok ? { body: req.json.value } : {}),
    rawBody: req.rawBody,
    bytes: req.raw.length,
    answered:
      'hang' in answer
        ? ({ status: 0 } as RecordedWebhookRequest<Answered>['answered'])
        : {
            status: answer.status,
            body: answer.body,
            ...(answer.headers ? { headers: answer.headers } : {}),
            ...extra,
          },
    at: Date.now(),
  };
}

/** The answer to a scripted `{ status }`: a gateway's HTML page unless a body is given. */
export function httpFailureAnswer(failure: {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}): WebhookAnswer {
  return {
    status: failure.status,
    body: failure.body ?? `<html><head><title>${failure.status}</title></head><body>${failure.status}</body></html>`,
    contentType: failure.body === undefined ? 'text/html' : 'text/plain; charset=utf-8',
    ...(failure.headers ? { headers: failure.headers } : {}),
  };
}

/**
 * Times of past events within a rolling window: the fakes count sends this way, the stricter
 * reading of a limit whose services do not say whether their minute is rolling or fixed.
 */
export class RollingWindow {
  private readonly times: number[] = [];
  constructor(private readonly windowMs: number) {}

  /** How many events happened in the window ending at `now`. */
  count(now: number): number {
    while (this.times.length > 0 && this.times[0]! <= now - this.windowMs) this.times.shift();
    return this.times.length;
  }

  add(now: number): void {
    this.times.push(now);
  }

  /** When the oldest event in the window leaves it (ms), or `now` if the window is empty. */
  nextFreeAt(now: number): number {
    this.count(now);
    return this.times.length === 0 ? now : this.times[0]! + this.windowMs;
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function stringArray(value: unknown): string[] | undefined {
  return Array.isArray(value) && value.every((v) => typeof v === 'string') ? value : undefined;
}

/** The whole request body. */
export function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** JSON, or `{ ok: false }` for an empty or unreadable body. */
export function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  if (text.trim() === '') return { ok: false };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false };
  }
}
