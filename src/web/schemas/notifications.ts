import { Type } from 'typebox';
import type { NotificationView } from '../../domain/notifications.ts';
import { DateTime, IdParams, Nullable, json, notFound, problem, readOnly, ref, unauthenticated } from './common.ts';

export const NotificationSchema = Type.Object(
  {
    id: Type.String(),
    kind: Type.Union([Type.Literal('completed'), Type.Literal('failed'), Type.Literal('expiring')], { description: "expiring: the file will be deleted in about a day (retention)" }),
    message: Type.String(),
    fileId: Nullable(Type.String()),
    createdAt: DateTime(),
    dismissedAt: Nullable(DateTime()),
  },
  { $id: 'Notification', title: 'Notification' },
);
const NotificationRef = ref<NotificationView>('Notification');

export const listNotificationsSchema = {
  summary: "The caller's notifications, newest first",
  querystring: Type.Object({
    state: Type.Optional(Type.Union([Type.Literal('unread'), Type.Literal('all')], { description: 'unread: undismissed only; all (the default): every one' })),
  }),
  response: {
    200: json(Type.Object({ notifications: Type.Array(NotificationRef) }), 'Notifications'),
    401: unauthenticated,
    422: problem('A query parameter the route does not take in that form (invalid_query)'),
  },
};

export const dismissNotificationSchema = {
  summary: 'Dismiss one notification',
  params: IdParams('Notification'),
  response: { 200: json(NotificationRef, 'Dismissed'), 401: unauthenticated, 403: readOnly, 404: notFound('notification') },
};

export const dismissAllSchema = {
  summary: 'Dismiss every notification',
  response: { 200: json(Type.Object({ dismissed: Type.Integer({ description: 'How many were dismissed' }) }), 'Dismissed'), 401: unauthenticated, 403: readOnly },
};
