/** Store ports: reads across every user, for the admin area only (issue 13). */
import type { FileRecord } from './records.ts';

/** A file whose job is queued or running, or that failed, with its owner's name: what an administrator sees. */
export interface AdminFileRow {
  file: FileRecord;
  username: string;
}

/** A worker pool's last heartbeat. */
export interface WorkerBeat {
  id: string;
  host: string;
  pid: number;
  lastSeen: number;
  version: string;
}

/** Reads across every user, for the admin area only. */
export interface AdminViewsRepo {
  /** Queued and running files, oldest first. */
  activeFiles(limit: number): Promise<AdminFileRow[]>;
  /** Failed files, most recently failed first. */
  recentFailures(limit: number): Promise<AdminFileRow[]>;
  /** Worker pools heard from since `since`, most recent first. */
  workers(since: number): Promise<WorkerBeat[]>;
}
