/** Store ports: per-user limits and the usage they are checked against (issue 13). */


/** Per-user overrides of the quota settings; null: the setting's default. */
export interface QuotaOverrides {
  quotaBytes: number | null;
  queuedJobs: number | null;
  filesPerDay: number | null;
  maxUploadBytes: number | null;
  maxInputSeconds: number | null;
  maxOutputBytes: number | null;
}

export interface QuotasRepo {
  /** All null when the user has no overrides. */
  overridesOf(userId: string): Promise<QuotaOverrides>;
  /** Replaces the user's overrides (all null forgets them). */
  setOverrides(userId: string, overrides: QuotaOverrides, now: number): Promise<void>;
  /** Bytes of the user's sources and outputs, from the sizes recorded with them. */
  storedBytes(userId: string): Promise<number>;
  /** Unsettled reservations that have not expired at `now`: their count and bytes. */
  openReservations(userId: string, now: number): Promise<{ count: number; bytes: number }>;
  /** Reservations made since `since`, settled or not (refused uploads leave none): the day's uploads. */
  uploadsSince(userId: string, since: number): Promise<number>;
  /** Holds the user's row until the transaction ends, so two admissions of one user run one after the other. */
  lockUser(userId: string): Promise<void>;
  reserve(reservation: { id: string; userId: string; bytes: number; createdAt: number; expiresAt: number }): Promise<void>;
  /** The reservation's bytes while it is open; undefined once settled, released or never made. */
  openBytes(id: string): Promise<number | undefined>;
  /** The upload became a file: its bytes now count there. */
  settle(id: string): Promise<void>;
  /** The upload was refused or abandoned: forget it (a settled reservation stays). */
  release(id: string): Promise<void>;
  /** Forgets reservations made before `before` (past the day they count for). */
  pruneBefore(before: number): Promise<number>;
}
