/**
 * One request from a fresh Node process, through whatever proxy its environment names, for
 * test/integration/proxy.test.ts: Node reads `NODE_EXTRA_CA_CERTS` (the test CA the fake proxy's
 * certificate comes from) at start only, so a test process cannot begin to trust it.
 *
 * `node --import tsx test/helpers/proxy-probe.ts '<probe JSON>'` prints one line of JSON: the
 * answer, or the error's name, code and message.
 */
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { IAMClient, ListUsersCommand } from '@aws-sdk/client-iam';
import { request } from 'undici';
import { awsRequestHandler, type AwsHttpTimeouts } from '../../src/aws/http.js';
import { proxyDispatcher } from '../../src/net/proxy.js';
import { createGithubClient } from '../../src/tracking-issue/github-client.js';
import { sendRobotMessage } from '../../src/notifications/wecom/client.js';

export type Probe =
  | { kind: 'sts' | 'iam'; endpoint: string; requests?: number; timeouts?: AwsHttpTimeouts }
  | { kind: 'undici'; url: string; timeoutMs?: number }
  | { kind: 'github'; baseUrl: string; requests?: number }
  | { kind: 'wecom'; webhookUrl: string };

export interface ProbeResult {
  /** What answered: the account, the user names, the HTTP status, the repository's name. */
  ok?: unknown;
  error?: { name: string; code?: string; message: string };
  ms: number;
}

const CREDENTIALS = {
  accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
};

async function run(probe: Probe): Promise<unknown> {
  switch (probe.kind) {
    case 'sts': {
      const sts = new STSClient({
        region: 'us-east-1',
        endpoint: probe.endpoint,
        credentials: CREDENTIALS,
        maxAttempts: 1,
        requestHandler: awsRequestHandler(probe.timeouts),
      });
      try {
        const accounts: unknown[] = [];
        for (let i = 0; i < (probe.requests ?? 1); i++) {
          accounts.push((await sts.send(new GetCallerIdentityCommand({}))).Account);
        }
        return accounts;
      } finally {
        sts.destroy();
      }
    }
    case 'iam': {
      const iam = new IAMClient({
        region: 'us-east-1',
        endpoint: probe.endpoint,
        credentials: CREDENTIALS,
        maxAttempts: 1,
        requestHandler: awsRequestHandler(probe.timeouts),
      });
      try {
        const out = await iam.send(new ListUsersCommand({}));
        return (out.Users ?? []).map((u) => u.UserName);
      } finally {
        iam.destroy();
      }
    }
    case 'undici': {
      const res = await request(probe.url, {
        dispatcher: proxyDispatcher(probe.url),
        signal: AbortSignal.timeout(probe.timeoutMs ?? 10_000),
      });
      return { status: res.statusCode, body: await res.body.text() };
    }
    case 'github': {
      const github = createGithubClient({
        token: 'ghs_probeToken000000000000000000000000',
        baseUrl: probe.baseUrl,
        throttle: false,
        info: () => {},
      });
      const names: string[] = [];
      for (let i = 0; i < (probe.requests ?? 1); i++) {
        names.push((await github.octokit.rest.repos.get({ owner: 'octo-org', repo: 'security' })).data.full_name);
      }
      return names;
    }
    case 'wecom': {
      const message = { msgtype: 'text', text: { content: 'through the proxy' } } as const;
      await sendRobotMessage(probe.webhookUrl, message, { sleep: async () => {}, setSecret: () => {}, attempts: 1 });
      return 'sent';
    }
  }
}

const started = Date.now();
let result: ProbeResult;
try {
  result = { ok: await run(JSON.parse(process.argv[2] ?? '{}') as Probe), ms: 0 };
} catch (err) {
  const e = err as { name?: string; code?: string; message?: string };
  result = { error: { name: e.name ?? 'Error', code: e.code, message: e.message ?? String(err) }, ms: 0 };
}
result.ms = Date.now() - started;
process.stdout.write(`${JSON.stringify(result)}\n`);
