/**
 * Child process entry: performs one task (JSON in argv[2]) and prints its outcome as one JSON line,
 * with the process's peak memory. Each kind loads only the modules it needs.
 */
import { peakRssBytes, type Task } from './tasks.js';

async function perform(task: Task): Promise<object> {
  switch (task.kind) {
    case 'scan':
      return (await import('./scan-task.js')).scan(task.method, task.policy, new Date(task.now));
    case 'parse':
      return (await import('./parse-task.js')).parseReport(task.csvPath);
    case 'fetch-report':
      return (await import('./fetch-task.js')).fetchReport();
    case 'idle':
      return {};
  }
}

const task = JSON.parse(process.argv[2] ?? '') as Task;
const outcome = await perform(task);
process.stdout.write(`${JSON.stringify({ ...outcome, peakRssBytes: peakRssBytes() })}\n`);
