import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sendJobEndMail } from '../src/domain/job-end-mail.ts';
import { fixtures } from './helpers/audio.ts';
import { ApiClient, PageClient, type FileJson } from './helpers/clients.ts';
import { startServer, waitFor, type TestServer } from './helpers/server.ts';
import { fileSettled } from './helpers/files.ts';
import { startSmtpSink } from './helpers/smtp-sink.ts';
import { limitFixtures } from './unit/limit-fixtures.ts';

interface MailSettings { email: string | null; onJobEnd: boolean; available: boolean }
interface Notification { id: string; kind: string; fileId: string | null }

const PUBLIC_URL = 'http://reprise.test.example:8080';

const done = (api: ApiClient, id: string) => fileSettled(api, id);

/** The notification the file's end made (its id names the mail). */
async function notificationOf(api: ApiClient, fileId: string): Promise<Notification> {
  return waitFor(`the notification of ${fileId}`, async () => {
    const list = await api.json<{ notifications: Notification[] }>('GET', '/notifications');
    return list.body.notifications.find((n) => n.fileId === fileId);
  });
}

describe('mail when a job ends', () => {
  let srv: TestServer;
  let sink: Awaited<ReturnType<typeof startSmtpSink>>;
  let ana: ApiClient;
  let bob: ApiClient;
  let cleo: ApiClient;
  let failing = '';

  const sendRow = (notificationId: string) => srv.app.deps.store.mailSends.find(notificationId);
  const optIn = async (client: ApiClient, email: string) => {
    const res = await client.json<MailSettings>('PATCH', '/settings/mail', { email, onJobEnd: true });
    assert.equal(res.status, 200, JSON.stringify(res.body));
  };

  before(async () => {
    // Permanent refusal for one address, a temporary one for another: both are ends a real server gives.
    sink = await startSmtpSink((rcpt) =>
      rcpt === 'nobody@example.com' ? { code: 550, message: 'No such user here' } : rcpt === 'busy@example.com' ? { code: 451, message: 'Try again later' } : undefined,
    );
    srv = await startServer({
      SMTP_URL: `smtp://127.0.0.1:${sink.port}`,
      MAIL_FROM: 'Reprise <reprise@test.example>',
      PUBLIC_URL,
      MAIL_RETRY_SCHEDULE: '0.5,1,1,1,1',
      MAX_INPUT_SECONDS: '500',
    });
    ana = await ApiClient.signUp(srv.url, 'ana-mail');
    bob = await ApiClient.signUp(srv.url, 'bob-mail');
    cleo = await ApiClient.signUp(srv.url, 'cleo-mail');
    failing = await limitFixtures(await mkdtemp(path.join(os.tmpdir(), 'reprise-mail-'))).lyingFlac();
  });
  after(async () => {
    await srv?.close();
    await sink?.close();
  });

  it('keeps each user\'s address and opt-in; an opt-in without an address, or a bad address, is 422', async () => {
    const initial = await ana.json<MailSettings>('GET', '/settings/mail');
    assert.deepEqual(initial.body, { email: null, onJobEnd: false, available: true });
    const noAddress = await ana.json<{ code: string; field: string }>('PATCH', '/settings/mail', { onJobEnd: true });
    assert.deepEqual([noAddress.status, noAddress.body.code, noAddress.body.field], [422, 'email_required', 'email']);
    for (const email of ['not-an-address', 'a@b', 'ana@example.com\r\nBcc: victim@evil.example', 'Ana <ana@example.com>', 42]) {
      const res = await ana.json<{ code: string }>('PATCH', '/settings/mail', { email });
      assert.equal(res.status, 422, JSON.stringify(email));
      assert.equal(res.body.code, 'invalid_email', JSON.stringify(email));
    }
    assert.equal((await ana.json('PATCH', '/settings/mail', { onJobEnd: 'yes' })).status, 422);
    await optIn(ana, 'ana@example.com');
    assert.deepEqual((await ana.json<MailSettings>('GET', '/settings/mail')).body, { email: 'ana@example.com', onJobEnd: true, available: true });
    // Turning it off keeps the address; another user's settings are their own.
    const off = await bob.json<MailSettings>('PATCH', '/settings/mail', { email: 'bob@example.com', onJobEnd: false });
    assert.deepEqual(off.body, { email: 'bob@example.com', onJobEnd: false, available: true });
    assert.equal((await new ApiClient(srv.url).json('GET', '/settings/mail')).status, 401);
  });

  it('mails exactly once per finished job, completed and failed, to its owner only', async () => {
    const good = await ana.upload(await fixtures.wav(), { name: 'Morning take.wav', presets: 'flac-cd' });
    const bad = await ana.upload(failing, { name: 'Broken take.flac', presets: 'flac-cd' });
    assert.equal((await done(ana, good.body.id)).status, 'completed');
    assert.equal((await done(ana, bad.body.id)).status, 'failed');
    for (const [file, kind] of [[good.body, 'completed'], [bad.body, 'failed']] as const) {
      const n = await notificationOf(ana, file.id);
      const row = await waitFor(`the mail of ${file.id}`, async () => {
        const r = await sendRow(n.id);
        return r?.state === 'sent' ? r : undefined;
      });
      assert.equal(row.attempts, 1);
      // A second run of the job (a redelivery, a replayed queue) finds the row sent and sends nothing.
      assert.equal(await sendJobEndMail(srv.app.deps, { notificationId: n.id }), 'skipped');
      const mails = sink.to('ana@example.com').filter((m) => m.parsed.text?.includes(`/files/${file.id}`));
      assert.equal(mails.length, 1, `one mail for the ${kind} file`);
      const mail = mails[0]!;
      assert.deepEqual(mail.rcptTo, ['ana@example.com']);
      assert.equal(mail.mailFrom, 'reprise@test.example');
      assert.equal(mail.parsed.messageId, `<notification.${n.id}@reprise.test.example>`);
      assert.ok(mail.parsed.text?.includes(`${PUBLIC_URL}/files/${file.id}`));
      if (kind === 'completed') {
        assert.equal(mail.parsed.subject, 'Ready: Morning take.wav');
      } else {
        assert.equal(mail.parsed.subject, 'Failed: Broken take.flac');
        const reason = (await ana.json<FileJson>('GET', `/files/${file.id}`)).body.error ?? '';
        assert.ok(reason.length > 0);
        assert.ok(mail.parsed.text?.includes(`Reason: ${reason}`), mail.parsed.text);
      }
    }
    assert.equal(sink.received.filter((m) => !m.rcptTo.includes('ana@example.com')).length, 0);
  });

  it('sends nothing to a user who has not opted in, and nothing to others about their jobs', async () => {
    const before = sink.received.length;
    const up = await bob.upload(await fixtures.wav(), { presets: 'flac-cd' });
    await done(bob, up.body.id);
    const n = await notificationOf(bob, up.body.id);
    // No row: nothing was queued, so nothing can be sent later either.
    assert.equal(await sendRow(n.id), undefined);
    assert.equal(sink.received.length, before);
    assert.equal(sink.received.filter((m) => m.parsed.text?.includes(up.body.id)).length, 0);
  });

  it('keeps a file name with CR/LF inside the subject: no header or recipient is added', async () => {
    const evil = 'Evil\r\nBcc: victim@evil.example\r\nX-Injected: yes\nSubject: owned';
    const up = await ana.upload(await fixtures.wav(), { name: evil, presets: 'flac-cd' });
    await done(ana, up.body.id);
    const mail = await waitFor('the mail about the evil name', async () => sink.received.find((m) => m.parsed.text?.includes(up.body.id)));
    assert.deepEqual(mail.rcptTo, ['ana@example.com']);
    assert.equal(mail.parsed.bcc, undefined);
    assert.equal(mail.parsed.headers.has('x-injected'), false);
    assert.equal(mail.parsed.headers.get('subject'), mail.parsed.subject);
    assert.match(mail.parsed.subject ?? '', /^Ready: Evil Bcc: victim@evil\.example X-Injected: yes Subject: owned$/);
    assert.equal(sink.received.some((m) => m.rcptTo.includes('victim@evil.example')), false);
  });

  it('retries while the mail server is down and delivers once when it is back', async () => {
    await sink.stop();
    let restarted = false;
    try {
      const up = await ana.upload(await fixtures.wav(), { presets: 'flac-cd' });
      await done(ana, up.body.id);
      const n = await notificationOf(ana, up.body.id);
      const failedOnce = await waitFor('a failed attempt', async () => {
        const r = await sendRow(n.id);
        return r && r.attempts >= 1 ? r : undefined;
      });
      assert.equal(failedOnce.state, 'pending');
      assert.match(failedOnce.last_error ?? '', /ECONNREFUSED|connect/i);
      await sink.start();
      restarted = true;
      const sent = await waitFor('the mail after the retry', async () => {
        const r = await sendRow(n.id);
        return r?.state === 'sent' ? r : undefined;
      });
      assert.ok(sent.attempts >= 2);
      assert.equal(sink.received.filter((m) => m.parsed.text?.includes(up.body.id)).length, 1);
    } finally {
      if (!restarted) await sink.start();
    }
  });

  it('gives up on a permanent refusal at once, and on a temporary one after the schedule, saying why', async () => {
    await optIn(cleo, 'nobody@example.com');
    const refused = await cleo.upload(await fixtures.wav(), { presets: 'flac-cd' });
    await done(cleo, refused.body.id);
    const n1 = await notificationOf(cleo, refused.body.id);
    const gone = await waitFor('the refused mail to be given up', async () => {
      const r = await sendRow(n1.id);
      return r?.state === 'failed' ? r : undefined;
    });
    assert.equal(gone.attempts, 1);
    assert.match(gone.last_error ?? '', /550/);

    await optIn(cleo, 'busy@example.com');
    const later = await cleo.upload(await fixtures.wav(), { presets: 'flac-cd' });
    await done(cleo, later.body.id);
    const n2 = await notificationOf(cleo, later.body.id);
    const tired = await waitFor('the deferred mail to be given up', async () => {
      const r = await sendRow(n2.id);
      return r?.state === 'failed' ? r : undefined;
    });
    // The first try and one per entry of MAIL_RETRY_SCHEDULE.
    assert.equal(tired.attempts, 6);
    assert.match(tired.last_error ?? '', /every attempt failed.*451/);
    assert.equal(sink.received.some((m) => m.rcptTo.includes('busy@example.com') || m.rcptTo.includes('nobody@example.com')), false);
  });

  it('takes the choice on the settings page, refusing an opt-in without an address', async () => {
    const page = await PageClient.signUp(srv.url, 'dora-mail');
    const shown = await page.get('/settings');
    assert.match(shown.html, /Email me when a job completes or fails/);
    assert.doesNotMatch(shown.html, /data-mail-unavailable/);
    const refused = await page.post('/settings/mail', { email: '', onJobEnd: '1' });
    assert.equal(refused.status, 422);
    assert.match(refused.text, /Give an email address/);
    const saved = await page.post('/settings/mail', { email: 'dora@example.com', onJobEnd: '1' });
    assert.equal(saved.status, 303);
    const after = await page.get('/settings');
    assert.match(after.html, /value="dora@example.com"/);
    assert.match(after.html, /name="onJobEnd" value="1" checked/);
  });
});

describe('mail without SMTP_URL', () => {
  let srv: TestServer;
  let api: ApiClient;
  before(async () => {
    srv = await startServer({});
    api = await ApiClient.signUp(srv.url, 'no-smtp');
  });
  after(async () => srv?.close());

  it('is shown as unavailable, refuses the opt-in and queues nothing', async () => {
    assert.deepEqual((await api.json<MailSettings>('GET', '/settings/mail')).body, { email: null, onJobEnd: false, available: false });
    const on = await api.json<{ code: string }>('PATCH', '/settings/mail', { email: 'x@example.com', onJobEnd: true });
    assert.deepEqual([on.status, on.body.code], [409, 'mail_unavailable']);
    // An address alone can still be kept.
    assert.equal((await api.json('PATCH', '/settings/mail', { email: 'x@example.com' })).status, 200);
    const up = await api.upload(await fixtures.wav(), { presets: 'flac-cd' });
    await done(api, up.body.id);
    const n = await notificationOf(api, up.body.id);
    assert.equal(await srv.app.deps.store.mailSends.find(n.id), undefined);
  });

  it('says so on the settings page, with the form turned off', async () => {
    const page = await PageClient.signUp(srv.url, 'no-smtp-page');
    const shown = await page.get('/settings');
    assert.match(shown.html, /data-mail-unavailable/);
    assert.match(shown.html, /<fieldset disabled>/);
  });
});
