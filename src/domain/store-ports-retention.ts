/** Store ports: retention choices and the files their age makes due. */
import type { FilePosition, FileStatus } from './records.ts';

/** A file as the retention sweep needs it. */
export interface RetentionCandidate {
  id: string;
  user_id: string;
  name: string;
  status: FileStatus;
  created_at: number;
  expiry_warned_at: number | null;
}

/** Owners' retention choices, and the files their age may have made due (see domain/retention.ts). */
export interface RetentionRepo {
  /** The user's own choice of days; null: the instance's setting. */
  choiceOf(userId: string): Promise<number | null>;
  setChoice(userId: string, days: number | null): Promise<void>;
  /** Every user who made a choice of their own. */
  choices(): Promise<{ userId: string; days: number }[]>;
  /**
   * Files created at or before `before`, oldest first (ties by id), after the position `after`:
   * of one user, or (`userId` absent) of every user who made no choice of their own.
   */
  candidates(query: { before: number; userId?: string; after?: FilePosition; limit: number }): Promise<RetentionCandidate[]>;
  markWarned(fileId: string, at: number): Promise<void>;
  /** Deletes the file unless a job is queued or running for it; tells whether it did. */
  deleteIfIdle(fileId: string): Promise<boolean>;
}
