import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { jobEndMail, jobEndMessageId, oneLine } from '../../src/domain/mail-message.ts';

const facts = { notificationId: '0b5e6f7a-1111-4222-8333-944445555666', fileId: 'f1e2d3c4-aaaa-4bbb-8ccc-dddddddddddd', publicUrl: 'https://reprise.example' };

describe('the mail a job end sends', () => {
  it('keeps any name on one line: no CR, LF, other controls or line separators reach a header', () => {
    const name = 'Evil\r\nBcc: victim@evil.example\n\rX-Injected: 1\u0085\u2028Subject: owned\u0000';
    const mail = jobEndMail({ ...facts, fileName: name, kind: 'completed', reason: null });
    // eslint-disable-next-line no-control-regex -- checking for control characters is the point
    assert.doesNotMatch(mail.subject, /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/);
    assert.equal(mail.subject, 'Ready: Evil Bcc: victim@evil.example X-Injected: 1 Subject: owned');
    assert.equal(oneLine('a\r\n\r\nb'), 'a b');
  });

  it('says which file, whether it failed and why, and links to its page', () => {
    const mail = jobEndMail({ ...facts, fileName: 'Take 3.wav', kind: 'failed', reason: 'ffmpeg said:\nno audio\r\n' });
    assert.equal(mail.subject, 'Failed: Take 3.wav');
    assert.match(mail.body, /Transcoding “Take 3\.wav” failed\./);
    assert.match(mail.body, /^Reason: ffmpeg said: no audio$/m);
    assert.match(mail.body, new RegExp(`^Open the file: https://reprise\\.example/files/${facts.fileId}$`, 'm'));
  });

  it('cuts a very long name on a code point, never inside an emoji', () => {
    const subject = jobEndMail({ ...facts, fileName: '🎵'.repeat(300), kind: 'completed', reason: null }).subject;
    assert.ok(Array.from(subject).length <= 160);
    assert.doesNotMatch(subject, /[\ud800-\udbff](?![\udc00-\udfff])/);
  });

  it('gives one notification the same Message-ID every time', () => {
    const id = jobEndMessageId(facts.notificationId, facts.publicUrl);
    assert.equal(id, `<notification.${facts.notificationId}@reprise.example>`);
    assert.equal(jobEndMessageId(facts.notificationId, facts.publicUrl), id);
  });
});

describe('mail settings', () => {
  it('needs MAIL_FROM and PUBLIC_URL once SMTP_URL is set, and refuses bad values with their name', () => {
    assert.equal(loadConfig({}).mail, undefined);
    assert.throws(() => loadConfig({ SMTP_URL: 'smtp://mail.example:587' }), (e: Error) => e instanceof ConfigError && /^invalid MAIL_FROM: required/.test(e.message));
    assert.throws(() => loadConfig({ SMTP_URL: 'smtp://mail.example:587', MAIL_FROM: 'r@reprise.example' }), /invalid PUBLIC_URL: required/);
    assert.throws(() => loadConfig({ SMTP_URL: 'http://mail.example' }), /invalid SMTP_URL/);
    assert.throws(() => loadConfig({ MAIL_FROM: 'Reprise\r\nBcc: x@y.example <r@reprise.example>' }), /invalid MAIL_FROM/);
    assert.throws(() => loadConfig({ PUBLIC_URL: 'ftp://reprise.example' }), /invalid PUBLIC_URL/);
    const c = loadConfig({ SMTP_URL: 'smtps://u:p@mail.example', MAIL_FROM: 'Reprise <r@reprise.example>', PUBLIC_URL: 'https://reprise.example/', MAIL_RETRY_SCHEDULE: '1,2.5' });
    assert.deepEqual(c.mail, { smtpUrl: 'smtps://u:p@mail.example', from: 'Reprise <r@reprise.example>', retryScheduleMs: [1000, 2500] });
    assert.equal(c.publicUrl, 'https://reprise.example');
  });
});
