/**
 * Issue 13's fairness figure in the scale-out mode: the same rounds as bench/fairness.ts against
 * one web process and two worker processes of one slot each (2 slots in all, as in the embedded
 * run), on a fresh PostgreSQL database and S3 bucket. The queue is graphile-worker, so B's wait
 * measures its priorities and the per-user cap's forbidden flags (decision 0024).
 */
import { fairnessRounds, SLOTS, type FairnessRun } from './fairness.ts';
import { Cluster, startBackends } from './scale.ts';

export async function fairnessScaleOutBenchmark(rounds: number, log: (line: string) => void): Promise<FairnessRun> {
  const backends = await startBackends();
  try {
    const { cluster } = await Cluster.create('fairness', backends);
    try {
      const web = await cluster.startWeb('web');
      for (let i = 0; i < SLOTS; i++) await cluster.startWorker(`worker ${i + 1}`, 1);
      return await fairnessRounds(web.port, rounds, log);
    } finally {
      await cluster.stop();
    }
  } finally {
    await backends.stop();
  }
}
