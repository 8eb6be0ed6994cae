/** Signing in as the job: the role in role-to-assume with the job's OIDC token, or the environment's credentials. */
import * as core from '@actions/core';
import { assumeRoleWithOidc, type AwsCredentials, type SignInOptions } from '../aws/credentials.js';
import { webIdentityCredentials } from '../aws/sessions.js';
import { requestIdToken } from '../runner/oidc.js';
import type { Config } from '../inputs.js';
import type { Runtime } from './runtime.js';

/** The job's OIDC token for an audience, asked of the runner with time-outs and bounded retries. */
export function idTokenGetter(runtime: Runtime): (audience: string) => Promise<string> {
  return (audience) =>
    requestIdToken(audience, { env: runtime.env, setSecret: core.setSecret, sleep: runtime.sleep, info: core.info });
}

export async function signIn(config: Config, runtime: Runtime): Promise<AwsCredentials | undefined> {
  if (!config.roleToAssume) {
    core.info('No role-to-assume: using the AWS credentials already in the environment.');
    return undefined;
  }
  core.info(`Assuming ${config.roleToAssume} with the job's OIDC token (audience ${config.audience}).`);
  return assumeRoleWithOidc(
    { ...config, roleToAssume: config.roleToAssume },
    {
      getIdToken: idTokenGetter(runtime),
      setSecret: core.setSecret,
      sleep: runtime.sleep,
      info: core.info,
    },
  );
}

/**
 * The hub's session in the organisation mode: renewed with a fresh OIDC token before it ends, so a
 * long run outlives it. `undefined` for the environment's credentials.
 */
export function hubCredentials(config: Config, runtime: Runtime): (() => Promise<AwsCredentials>) | undefined {
  if (!config.roleToAssume) {
    core.info('No role-to-assume: using the AWS credentials already in the environment as the hub.');
    return undefined;
  }
  const options: SignInOptions = { ...config, roleToAssume: config.roleToAssume };
  core.info(`Assuming ${config.roleToAssume} with the job's OIDC token (audience ${config.audience}).`);
  return webIdentityCredentials(options, {
    getIdToken: idTokenGetter(runtime),
    setSecret: core.setSecret,
    sleep: runtime.sleep,
    info: core.info,
  });
}
