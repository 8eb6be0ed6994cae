/** What the runner tells about the repository and the run, read once from its environment and event. */
import { context } from '@actions/github';

export interface RunContext {
  owner: string | null;
  repo: string | null;
  apiUrl: string;
  /** Link to this workflow run, when the runner says which one it is. */
  runUrl: string | null;
  /** `false` for public repositories, and when the event does not say. */
  repositoryIsPrivate: boolean;
}

export function runContext(env: NodeJS.ProcessEnv): RunContext {
  const [owner = null, repo = null] = (env.GITHUB_REPOSITORY ?? '').split('/').filter(Boolean);
  const server = env.GITHUB_SERVER_URL || 'https://github.com';
  const runUrl =
    owner && repo && env.GITHUB_RUN_ID ? `${server}/${owner}/${repo}/actions/runs/${env.GITHUB_RUN_ID}` : null;
  const repository = context.payload.repository as { private?: boolean; visibility?: string } | undefined;
  return {
    owner,
    repo,
    apiUrl: env.GITHUB_API_URL || 'https://api.github.com',
    runUrl,
    repositoryIsPrivate:
      repository?.private === true || repository?.visibility === 'private' || repository?.visibility === 'internal',
  };
}
