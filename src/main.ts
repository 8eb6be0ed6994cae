/**
 * One run: inputs, then the single-account mode or the organisation mode, then the one outcome.
 * This file only wires them together and reports a failure once.
 */
import * as core from '@actions/core';
import { readConfig } from './inputs.js';
import { runOrganization } from './run/many.js';
import { defaultRuntime, type Runtime } from './run/runtime.js';
import { runSingleAccount } from './run/single.js';
import { SECRET_INPUTS } from './notifications/index.js';
import { webhookSecrets } from './notifications/webhooks.js';

export type { Runtime };

export async function run(runtime: Runtime = defaultRuntime): Promise<void> {
  try {
    const read = (name: string) => core.getInput(name);
    maskSecretInputs(read);
    const config = readConfig(read);
    for (const warning of config.warnings) core.warning(warning);
    maskProxyCredentials(process.env);
    const outcome = config.accounts ? await runOrganization(config, runtime) : await runSingleAccount(config, runtime);
    for (const warning of outcome.warnings) core.warning(warning);
    if (outcome.failure) core.setFailed(outcome.failure);
  } catch (err) {
    core.setFailed(err instanceof Error ? err.message : String(err));
  }
}

/** Every secret input is masked first, with its parts, before a message about any input can be printed. */
function maskSecretInputs(read: (name: string) => string): void {
  for (const name of ['github-token', ...SECRET_INPUTS]) {
    const value = read(name).trim();
    if (!value) continue;
    core.setSecret(value);
    if (name.endsWith('-url')) for (const part of webhookSecrets(value)) core.setSecret(part);
  }
}

/** A proxy's password is a secret too: a debug log of a proxy library may print the proxy's URL. */
function maskProxyCredentials(env: NodeJS.ProcessEnv): void {
  for (const name of ['https_proxy', 'HTTPS_PROXY', 'http_proxy', 'HTTP_PROXY']) {
    const value = env[name];
    if (!value) continue;
    try {
      const { password } = new URL(value.includes('://') ? value : `http://${value}`);
      if (password) for (const s of new Set([password, decodeURIComponent(password)])) core.setSecret(s);
    } catch {
      // Not a URL: the proxy module says so when it is used.
    }
  }
}
