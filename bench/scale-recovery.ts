/** Scale-out scenario 2: a worker SIGKILLed as it starts a job; the other worker must take the job over. */
import { apiJson, signUpAndLogIn, watchCompletions } from './http.ts';
import { diskFile, ensureInputWav } from './input.ts';
import { uploadWith } from './scale-client.ts';
import { Cluster, type Backends } from './scale.ts';
import { failureOf, firstLine, jsonLines, type LogLine } from './scale-worker.ts';
import { round, sleep } from './util.ts';

const PRESET = 'aac-256k';

type Log = (line: string) => void;

export interface RecoveryResult {
  inputSeconds: number;
  preset: string;
  /** SIGKILL → the surviving worker's "job started" line for the file. */
  rerunStartedSeconds: number;
  /** SIGKILL → file.updated "completed" on the event stream. */
  completedSeconds: number;
  /** Whether any process of the killed worker's group (such as an ffmpeg it had started) still ran 1 s after the SIGKILL. */
  leftoversAfter1s: boolean;
  /** Which processes logged "released the jobs of silent workers", and how long after the SIGKILL (pino's time). */
  releases: { by: string; afterSeconds: number }[];
  rerunAttempt: number | null;
  jobStartsForFile: number;
  notificationsForFile: number;
}

const RELEASED = 'released the jobs of silent workers';

/** Two workers of one slot; the one that starts a long job is SIGKILLed; the other must take it over. */
export async function recoveryScenario(backends: Backends, log: Log): Promise<RecoveryResult> {
  const input = await ensureInputWav();
  const { cluster } = await Cluster.create('recovery', backends);
  try {
    const web = await cluster.startWeb('web');
    const token = await signUpAndLogIn(web.port);
    const watch = await watchCompletions(web.port, token);
    try {
      // One pass (no segments): the scenario is about one job that only the dead worker had.
      const onePass = { SEGMENT_MIN_SECONDS: '0' };
      const workers = [await cluster.startWorker('worker 1', 1, 60_000, onePass), await cluster.startWorker('worker 2', 1, 60_000, onePass)];
      const { id } = await uploadWith(web.port, token, await diskFile(input, 'audio/wav'), { presets: PRESET, name: 'Survivor' }, 120_000);
      const startedFor = (l: LogLine) => l.msg === 'job started' && l.fields.job === 'transcode' && l.fileId === id;
      const { worker: victim } = await firstLine(workers, startedFor, '"job started"', 60_000);
      const survivor = workers.find((w) => w !== victim);
      if (!survivor) throw new Error('no surviving worker');
      const killedAt = victim.kill();
      const killedEpoch = Date.now();
      log(`  SIGKILLed ${victim.name} (pid ${victim.pid}) as it started the job; waiting for ${survivor.name} to take it over`);
      await sleep(1000);
      const leftoversAfter1s = victim.groupAlive();
      const rerun = await survivor.waitFor(startedFor, '"job started" for the orphaned job', 90_000);
      const rerunStartedSeconds = round((rerun.at - killedAt) / 1000, 2);
      log(`  running again on ${survivor.name} after ${rerunStartedSeconds} s`);
      const watchFailure = failureOf([survivor], new Set([id]));
      const completed = watch.completedAt(id, 120_000);
      completed.catch(() => undefined);
      let doneAt: number;
      try {
        doneAt = await Promise.race([completed, watchFailure.failed]);
      } finally {
        watchFailure.close();
      }
      const completedSeconds = round((doneAt - killedAt) / 1000, 2);
      log(`  completed ${completedSeconds} s after the SIGKILL`);
      const sweeps = [
        ...survivor.lines.map((l) => ({ by: survivor.name, fields: l.fields })),
        ...jsonLines(web.logTail()).map((fields) => ({ by: 'web', fields })),
      ];
      const releases = sweeps.flatMap(({ by, fields }) =>
        fields.msg === RELEASED && typeof fields.time === 'number' ? [{ by, afterSeconds: round((fields.time - killedEpoch) / 1000, 2) }] : [],
      );
      log(`  "${RELEASED}": ${releases.map((r) => `${r.by} after ${r.afterSeconds} s`).join(', ') || 'logged by nobody'}`);
      await sleep(500);
      const notes = await apiJson(web.port, 'GET', '/notifications', { token, expect: 200 });
      const list = Array.isArray(notes.notifications) ? (notes.notifications as unknown[]) : [];
      const attempt = rerun.fields.attempt;
      return {
        inputSeconds: 600,
        preset: PRESET,
        rerunStartedSeconds,
        completedSeconds,
        leftoversAfter1s,
        releases,
        rerunAttempt: typeof attempt === 'number' ? attempt : null,
        jobStartsForFile: workers.reduce((n, w) => n + w.lines.filter(startedFor).length, 0),
        notificationsForFile: list.filter((n) => typeof n === 'object' && n !== null && 'fileId' in n && n.fileId === id).length,
      };
    } finally {
      watch.close();
    }
  } finally {
    await cluster.stop();
  }
}
