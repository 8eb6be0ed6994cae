/** Where and from what the numbers came: the machine, Node, and the commit. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism, cpus, release, totalmem, type } from 'node:os';

export interface Machine {
  cpu: string;
  cores: number;
  memoryBytes: number;
  os: string;
  node: string;
  /** `abc1234`, plus the measured folders that differ from it. */
  commit: string;
}

function cpuModel(): string {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('model name'));
    if (line) return line.split(':')[1]!.trim();
  } catch {
    // Not Linux: fall through.
  }
  return cpus()[0]?.model ?? 'unknown';
}

function commit(): string {
  try {
    const git = (...args: string[]) => execFileSync('git', args, { encoding: 'utf8' }).trim();
    const changed = ['src', 'dist', 'test', 'bench'].filter((dir) => git('status', '--porcelain', '--', dir) !== '');
    const head = git('rev-parse', '--short', 'HEAD');
    return changed.length === 0
      ? head
      : `${head}, with uncommitted changes in ${changed.map((d) => `${d}/`).join(', ')}`;
  } catch {
    return 'unknown';
  }
}

export function describeMachine(): Machine {
  return {
    cpu: cpuModel(),
    cores: availableParallelism(),
    memoryBytes: totalmem(),
    os: `${type()} ${release()}`,
    node: process.version,
    commit: commit(),
  };
}
