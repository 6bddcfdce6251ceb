import { AppError, conflict } from '../errors.ts';
import type { Deps, MailSettings } from './ports.ts';

export interface MailSettingsView {
  email: string | null;
  /** Mail me when one of my jobs completes or fails. */
  onJobEnd: boolean;
  /** Whether this server can send mail at all (SMTP_URL is set). */
  available: boolean;
}

export const MAX_EMAIL_LENGTH = 254;

// One address, no display name: no spaces, quotes, angle brackets or control characters, one @,
// a dot in the domain. Deliverability is the mail server's call; this keeps out header tricks.
// eslint-disable-next-line no-control-regex -- refusing control characters is the point
const addressPattern = /^[^\s@<>()",;:\\[\]\u0000-\u001f\u007f]+@[^\s@<>()",;:\\[\]\u0000-\u001f\u007f]+\.[^\s@<>()",;:\\[\]\u0000-\u001f\u007f.]+$/u;

const invalid = (code: string, field: string, detail: string) => new AppError(code, 422, detail, { field });

function checkEmail(raw: unknown): string | null {
  if (raw === null || raw === '') return null;
  if (typeof raw !== 'string') throw invalid('invalid_email', 'email', 'email is an address like ana@example.com, or null to remove it.');
  const email = raw.trim();
  if (email === '') return null;
  if (email.length > MAX_EMAIL_LENGTH || !addressPattern.test(email)) {
    throw invalid('invalid_email', 'email', `“${email.slice(0, 80)}” is not an email address like ana@example.com (at most ${MAX_EMAIL_LENGTH} characters).`);
  }
  return email;
}

const view = (s: MailSettings, available: boolean): MailSettingsView => ({ email: s.email, onJobEnd: s.onJobEnd, available });

export async function getMailSettings(deps: Pick<Deps, 'store' | 'config'>, userId: string): Promise<MailSettingsView> {
  return view(await deps.store.mailSettings.get(userId), deps.config.mail !== undefined);
}

/**
 * Changes what is given (`email`, `onJobEnd`), keeps the rest. Turning mail on needs an address
 * (422 email_required) and a server that can send (409 mail_unavailable).
 */
export async function updateMailSettings(deps: Pick<Deps, 'store' | 'config' | 'now'>, userId: string, input: Record<string, unknown>): Promise<MailSettingsView> {
  const current = await deps.store.mailSettings.get(userId);
  const email = input.email === undefined ? current.email : checkEmail(input.email);
  if (input.onJobEnd !== undefined && typeof input.onJobEnd !== 'boolean') {
    throw invalid('invalid_setting', 'onJobEnd', 'onJobEnd is true or false.');
  }
  const onJobEnd = input.onJobEnd ?? current.onJobEnd;
  if (input.onJobEnd === true && deps.config.mail === undefined) {
    throw conflict('This server cannot send mail (its operator has not set SMTP_URL).', 'mail_unavailable');
  }
  if (onJobEnd && email === null) {
    throw invalid('email_required', 'email', 'Give an email address to be mailed when a job ends.');
  }
  const next = { email, onJobEnd };
  await deps.store.mailSettings.put(userId, next, deps.now());
  return view(next, deps.config.mail !== undefined);
}
