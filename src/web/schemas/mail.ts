import { Type } from 'typebox';
import { MAX_EMAIL_LENGTH, type MailSettingsView } from '../../domain/mail-settings.ts';
import { json, jsonBody, Nullable, problem, readOnly, unauthenticated, withCode } from './common.ts';

const MailSettingsSchema = Type.Object(
  {
    email: Nullable(Type.String(), 'Where the mail goes; null: none given'),
    onJobEnd: Type.Boolean({ description: 'Mail me when one of my jobs completes or fails' }),
    available: Type.Boolean({ description: 'Whether this server can send mail at all (its operator set SMTP_URL); when false nothing is sent' }),
  },
  { title: 'MailSettings' },
);

const MailSettingsInput = Type.Object(
  {
    email: Type.Optional(withCode(Nullable(Type.String({ maxLength: MAX_EMAIL_LENGTH }), 'An address like ana@example.com; null or empty removes it'), 'invalid_email')),
    onJobEnd: Type.Optional(withCode(Type.Boolean(), 'invalid_setting')),
  },
  { title: 'MailSettingsInput' },
);
export type MailSettingsBody = { email?: unknown; onJobEnd?: unknown };

const answer = json(Type.Unsafe<MailSettingsView>(MailSettingsSchema), 'Mail settings');

export const getMailSettingsSchema = {
  summary: "The caller's mail settings: address, and whether to be mailed when a job ends",
  response: { 200: answer, 401: unauthenticated },
};

export const updateMailSettingsSchema = {
  summary: 'Change the address or the opt-in; absent fields stay as they are',
  description:
    'With onJobEnd true, each of the caller\'s transcodes that completes or fails sends one mail to the address (file name, outcome and reason, a link to the file page), from the queue, retried on MAIL_RETRY_SCHEDULE. The Message-ID is the same on every attempt at one notification.',
  body: jsonBody(MailSettingsInput),
  response: {
    200: answer,
    401: unauthenticated,
    403: readOnly,
    409: problem('This server cannot send mail: SMTP_URL is not set (mail_unavailable)'),
    422: problem('invalid_email, invalid_setting, or email_required (onJobEnd without an address)'),
  },
};
