/**
 * `node --import tsx bench/scale-recovery-trials.ts [trials]`: scale-out scenario 2 (a worker
 * SIGKILLed as it starts a job) several times over, on one PostgreSQL and s3rver, with the worst
 * case: issue 12 asks for "running again within 30 s every time", which one trial cannot show.
 */
import os from 'node:os';
import { recoveryScenario, type RecoveryResult } from './scale-recovery.ts';
import { startBackends, stopEverything } from './scale.ts';

const log = (line: string) => console.log(line);

async function main(): Promise<void> {
  const trials = Number(process.argv[2] ?? 5);
  if (!Number.isInteger(trials) || trials < 1 || trials > 50) throw new Error('trials must be 1..50');
  log(`SIGKILL recovery, ${trials} trials; ${os.availableParallelism()} cores, load ${os.loadavg().map((l) => l.toFixed(2)).join(' / ')}`);
  const backends = await startBackends();
  const results: RecoveryResult[] = [];
  try {
    for (let i = 1; i <= trials; i++) {
      log(`trial ${i}:`);
      results.push(await recoveryScenario(backends, log));
    }
  } finally {
    await backends.stop();
  }
  const rerun = results.map((r) => r.rerunStartedSeconds);
  const completed = results.map((r) => r.completedSeconds);
  log('');
  log(`kill → running again (s): ${rerun.join(', ')}; max ${Math.max(...rerun)}`);
  log(`kill → completed (s):     ${completed.join(', ')}; max ${Math.max(...completed)}`);
  log(`job starts / notifications per trial: ${results.map((r) => `${r.jobStartsForFile}/${r.notificationsForFile}`).join(', ')}`);
  log(`load average at the end: ${os.loadavg().map((l) => l.toFixed(2)).join(' / ')}`);
  log(JSON.stringify({ bench: 'scale-recovery-trials', trials, rerunStartedSeconds: rerun, completedSeconds: completed, results }));
}

main().catch(async (err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
  await stopEverything(20_000);
  process.exit(1);
});
