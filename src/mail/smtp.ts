import nodemailer from 'nodemailer';
import type { Mailer, MailResult } from '../domain/ports.ts';

/** What nodemailer puts on a failure: the server's reply code when there was one. */
interface SmtpFailure {
  message?: string;
  responseCode?: number;
  code?: string;
}

/**
 * The Mailer over SMTP (nodemailer), one connection per message: mail is rare here (one per
 * finished job), and a fresh connection never inherits a broken one. Time limits are short so a
 * dead server costs an attempt, not a slot for minutes.
 */
export function createSmtpMailer(settings: { smtpUrl: string; from: string }): Mailer {
  const transport = nodemailer.createTransport(
    { url: settings.smtpUrl, connectionTimeout: 15_000, greetingTimeout: 15_000, socketTimeout: 30_000 },
    // The message is our own text: never let a field be read as a file or URL to attach.
    { from: settings.from, disableFileAccess: true, disableUrlAccess: true },
  );
  return {
    async send(mail): Promise<MailResult> {
      try {
        await transport.sendMail({
          to: mail.to,
          subject: mail.subject,
          text: mail.text,
          messageId: mail.messageId,
          // RFC 3834: an automatic message, so auto-responders stay quiet.
          headers: { 'Auto-Submitted': 'auto-generated' },
        });
        return { ok: true };
      } catch (err) {
        const e = err as SmtpFailure;
        const code = typeof e.responseCode === 'number' ? e.responseCode : undefined;
        const reason = (e.message ?? String(err)).replace(/\s+/g, ' ').slice(0, 300);
        // 5xx is the server saying no for good (unknown mailbox, refused sender); 4xx, a dropped
        // connection or a timeout may pass.
        return { ok: false, permanent: code !== undefined && code >= 500 && code < 600, reason };
      }
    },
  };
}
