/** Store ports: a segmented transcode's bookkeeping (issue 12). */
import type { SegmentedPlan } from './segmented/plan.ts';

/** A segmented transcode's bookkeeping (issue 12): its plan and its parts' progress. */
export interface SegmentRunsRepo {
  /** Records the plan and one part row per planned part, none done. */
  create(run: { fileId: string; generation: number; plan: SegmentedPlan; createdAt: number }): Promise<void>;
  find(fileId: string, generation: number): Promise<{ plan: SegmentedPlan; createdAt: number } | undefined>;
  setPartProgress(fileId: string, generation: number, part: number, progress: number): Promise<void>;
  /** Progress (0..100) of each part, by part number. */
  partProgress(fileId: string, generation: number): Promise<Map<number, number>>;
  /**
   * Marks the part done and counts it off, in the caller's transaction. 'last' for exactly one
   * part of a run however they interleave (the count is one row, updated under its row lock);
   * 'gone' when the part was already done or the run no longer exists.
   */
  finishPart(fileId: string, generation: number, part: number): Promise<'last' | 'more' | 'gone'>;
  /** The numbers of the parts that are done, read in the caller's transaction. */
  doneParts(fileId: string, generation: number): Promise<Set<number>>;
  /** Raises a running file's progress, never lowers it (parts report in any order). */
  raiseFileProgress(fileId: string, generation: number, progress: number): Promise<void>;
  /** Forgets the file's runs: one generation, or all of them. */
  remove(fileId: string, generation?: number): Promise<void>;
}
