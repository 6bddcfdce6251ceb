/** Store ports: users' mail choices and the mails sent at a job's end. */
import type { MailSendRecord, MailSettings } from './records.ts';

export interface MailSettingsRepo {
  /** The user's choice; a user who never chose has no address and no opt-in. */
  get(userId: string): Promise<MailSettings>;
  put(userId: string, settings: MailSettings, now: number): Promise<void>;
}

export interface MailSendsRepo {
  /** False when this notification already has its row (a re-run cannot queue a second mail). */
  insertOnce(send: MailSendRecord): Promise<boolean>;
  find(notificationId: string): Promise<MailSendRecord | undefined>;
  /** Applies the patch only while the row is still pending; tells whether it did. */
  updatePending(notificationId: string, patch: Partial<Omit<MailSendRecord, 'notification_id' | 'user_id'>>): Promise<boolean>;
}
