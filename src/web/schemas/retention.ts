import { Type } from 'typebox';
import type { RetentionSetting } from '../../domain/retention-settings.ts';
import { Nullable, json, jsonBody, problem, readOnly, ref, unauthenticated, withCode } from './common.ts';

export const RetentionSettingSchema = Type.Object(
  {
    days: Nullable(Type.Integer(), "The caller's own choice; null: the server's setting"),
    instanceDays: Nullable(Type.Integer(), "The server's RETENTION_DAYS; null: the server keeps files until they are deleted"),
    effectiveDays: Nullable(Type.Integer(), "What applies: the caller's choice, never over the server's; null: files are kept"),
    maxDays: Type.Integer({ description: 'The largest choice accepted (RETENTION_DAYS when set)' }),
  },
  { $id: 'RetentionSetting', title: 'RetentionSetting' },
);
const SettingRef = ref<RetentionSetting>('RetentionSetting');

export const getRetentionSchema = {
  summary: 'How long the caller\'s files are kept',
  description: 'Files (source and outputs) older than `effectiveDays` are deleted, after a notification a day before; each file shows its `expiresAt`.',
  response: { 200: json(SettingRef, 'Retention'), 401: unauthenticated },
};

export const putRetentionSchema = {
  summary: 'Choose how long the caller\'s files are kept',
  description:
    'A whole number of days, at most the server\'s RETENTION_DAYS when it sets one (any number to 36,500 when it does not), or null for the server\'s setting. Applies to files already uploaded: those it makes due get their notification at once and are deleted a day later at the earliest.',
  body: jsonBody(
    Type.Object({ days: withCode(Nullable(Type.Integer({ minimum: 1 }), 'Days to keep files; null: the server\'s setting'), 'invalid_retention') }),
  ),
  response: {
    200: json(SettingRef, 'Saved'),
    401: unauthenticated,
    403: readOnly,
    422: problem('Not a whole number from 1 to the largest accepted, nor null (invalid_retention, field days)'),
  },
};
