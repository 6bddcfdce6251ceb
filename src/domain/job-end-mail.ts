import { mailKey, type JobPayload } from '../jobs/definitions.ts';
import { jobEndMail, jobEndMessageId } from './mail-message.ts';
import type { Deps, MailSendRecord, Store } from './ports.ts';

export type MailOutcome = 'sent' | 'retrying' | 'failed' | 'skipped';

/**
 * Queues the mail a job's end deserves, inside the transaction that records its notification:
 * only for an owner who opted in and gave an address, only when this server can mail. The row
 * is keyed by the notification, so a re-run of the job cannot queue a second mail.
 */
export async function queueJobEndMail(
  tx: Store,
  deps: Pick<Deps, 'config' | 'now'>,
  n: { notificationId: string; userId: string; fileId: string; fileName: string; kind: 'completed' | 'failed'; reason: string | null },
): Promise<boolean> {
  const publicUrl = deps.config.publicUrl;
  if (!deps.config.mail || !publicUrl) return false;
  const settings = await tx.mailSettings.get(n.userId);
  if (!settings.onJobEnd || !settings.email) return false;
  const now = deps.now();
  const mail = jobEndMail({ ...n, publicUrl });
  const inserted = await tx.mailSends.insertOnce({
    notification_id: n.notificationId,
    user_id: n.userId,
    to_address: settings.email,
    subject: mail.subject,
    body: mail.body,
    state: 'pending',
    attempts: 0,
    last_error: null,
    sent_at: null,
    created_at: now,
    updated_at: now,
  });
  if (inserted) {
    const payload = { notificationId: n.notificationId };
    await tx.jobs.enqueue({ name: 'mail.send', payload }, { key: mailKey(payload) });
  }
  return inserted;
}

/**
 * One attempt at one notification's mail (the `mail.send` job). The row stays pending until the
 * server has accepted the message, then is marked sent; a row that is no longer pending is never
 * sent again. The one way to a second copy is a crash after the server accepted and before the
 * mark: the retry sends the same Message-ID, so the receiver can tell. A temporary failure is
 * retried on MAIL_RETRY_SCHEDULE; a permanent refusal (5xx), or the end of the schedule, gives up
 * and records why on the row.
 */
export async function sendJobEndMail(deps: Deps, job: JobPayload<'mail.send'>): Promise<MailOutcome> {
  const send = await deps.store.mailSends.find(job.notificationId);
  if (!send || send.state !== 'pending') return 'skipped';
  const { mailer } = deps;
  const publicUrl = deps.config.publicUrl;
  if (!mailer || !deps.config.mail || !publicUrl) {
    await giveUp(deps, send, send.attempts, 'this server no longer has mail settings (SMTP_URL)');
    return 'failed';
  }
  const result = await mailer.send({
    to: send.to_address,
    subject: send.subject,
    text: send.body,
    messageId: jobEndMessageId(send.notification_id, publicUrl),
  });
  const attempts = send.attempts + 1;
  const now = deps.now();
  if (result.ok) {
    await deps.store.mailSends.updatePending(send.notification_id, { state: 'sent', attempts, sent_at: now, last_error: null, updated_at: now });
    return 'sent';
  }
  const delay = deps.config.mail.retryScheduleMs[attempts - 1];
  if (result.permanent || delay === undefined) {
    const why = result.permanent ? `the mail server refused it: ${result.reason}` : `every attempt failed (last: ${result.reason})`;
    await giveUp(deps, send, attempts, why);
    return 'failed';
  }
  await deps.store.transaction(async (tx) => {
    const still = await tx.mailSends.updatePending(send.notification_id, { attempts, last_error: result.reason, updated_at: now });
    const payload = { notificationId: send.notification_id };
    if (still) await tx.jobs.enqueue({ name: 'mail.send', payload }, { key: mailKey(payload), runAt: now + delay });
  });
  return 'retrying';
}

async function giveUp(deps: Deps, send: MailSendRecord, attempts: number, why: string): Promise<void> {
  const now = deps.now();
  await deps.store.mailSends.updatePending(send.notification_id, { state: 'failed', attempts, last_error: why.slice(0, 500), updated_at: now });
  deps.log.warn({ notificationId: send.notification_id, attempts, why }, 'gave up mailing a notification');
}
