import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import type { Browser, Page } from 'playwright-core';
import { ffprobe } from './helpers/audio.ts';
import { launchBrowser, markPage, screenshot, signUpInBrowser, stillSamePage } from './helpers/browser.ts';
import { startServer, type TestServer } from './helpers/server.ts';

const run = promisify(execFile);

// The trim keeps 200 s of the input: long enough for the later AAC run to report progress to a
// page that has just loaded, and a length no untrimmed output could have.
const TRIM = { start: 4.25, end: 204.25 };

/**
 * Issue 10, item 4 in a real browser: a finished file's page asks for another output from the
 * stored upload, and the page follows that run live (progress, then the new player and link)
 * while the output made at upload stays listed.
 */
describe('more outputs later, from the file page in a real browser', () => {
  let srv: TestServer;
  let browser: Browser;
  let page: Page;
  let dir = '';
  let fileUrl = '';

  before(async () => {
    srv = await startServer({ WORKER_CONCURRENCY: '1' });
    dir = await mkdtemp(path.join(os.tmpdir(), 'reprise-browser-more-'));
    browser = await launchBrowser();
    page = await (await browser.newContext({ viewport: { width: 1100, height: 900 } })).newPage();
    await signUpInBrowser(page, srv.url, 'morgan');
  });
  after(async () => {
    await browser?.close();
    await srv?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('uploads a file with a trim and one preset, and shows it completed', async () => {
    // 210 s of pink noise as a small MP3: the upload is quick, the encoding is not instant.
    const input = path.join(dir, 'Field recording.mp3');
    await run('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'anoisesrc=color=pink:duration=210:sample_rate=44100:amplitude=0.2', '-ac', '2', '-c:a', 'libmp3lame', '-b:a', '96k', input]);
    const upload = page.locator('form[data-upload]');
    await upload.getByLabel('Audio file').setInputFiles(input);
    for (const preset of [/^FLAC \(CD quality\)/, /^AAC 256 kbit\/s/]) await upload.getByRole('checkbox', { name: preset }).uncheck();
    await upload.getByRole('checkbox', { name: /^WAV 44\.1 kHz 16-bit/ }).check();
    await upload.getByLabel('Start (seconds)').fill(String(TRIM.start));
    await upload.getByLabel('End (seconds)').fill(String(TRIM.end));
    await upload.getByRole('button', { name: 'Upload and transcode' }).click();
    await page.waitForURL(/\/files\/[0-9a-f-]{36}$/, { timeout: 60_000 });
    fileUrl = page.url();
    await page.locator('[data-status]', { hasText: 'completed' }).waitFor({ timeout: 120_000 });
    // The more-outputs form is not a live region (decision 0017): it shows on a page loaded after the job ended.
    await page.reload();
    await page.locator('[data-more-outputs]').waitFor();
    assert.match(await page.locator('[data-trim]').innerText(), /from 4\.25 s to 204\.25 s/);
  });

  it('asks for AAC in the more-outputs form and follows the run live: progress, then the player and link', async () => {
    const more = page.locator('[data-more-outputs]');
    assert.match(await more.getByRole('group').innerText(), /with its trim/);
    await more.getByRole('checkbox', { name: /^AAC 256 kbit\/s/ }).check();
    await more.getByRole('button', { name: 'Make outputs' }).click();
    // A plain form post answered with a redirect back to the file page, which says what it does.
    await page.getByText('Making 1 output; the others stay as they are.').waitFor();
    assert.equal(page.url(), fileUrl);
    await markPage(page);

    await page.waitForFunction(() => {
      const status = document.querySelector('[data-status]')?.textContent;
      const progress = Number(document.querySelector<HTMLProgressElement>('[data-progress]')?.value ?? 0);
      return status === 'running' && progress > 0 && progress < 100;
    }, undefined, { timeout: 120_000 });
    await screenshot(page, 'more-outputs-running');
    const outputs = page.locator('[data-live="file-outputs"]');
    assert.equal(await outputs.locator('a[href$="/outputs/wav-44k-16"]').count(), 1, 'the WAV made at upload stays downloadable during the run');

    const aacLink = outputs.locator('a[href$="/outputs/aac-256k"]');
    await aacLink.waitFor({ timeout: 120_000 });
    await outputs.locator('audio[src*="/outputs/aac-256k"]').waitFor();
    assert.equal(await page.locator('[data-status]').textContent(), 'completed');
    assert.equal(await outputs.locator('a[href$="/outputs/wav-44k-16"]').count(), 1);
    assert.ok(await stillSamePage(page), 'progress and the new output arrived without a reload');
    await screenshot(page, 'more-outputs-completed');

    const [download] = await Promise.all([page.waitForEvent('download'), aacLink.click()]);
    const saved = path.join(dir, download.suggestedFilename());
    await download.saveAs(saved);
    const probe = await ffprobe(saved);
    assert.deepEqual(probe.streams.filter((s) => s.codec_type === 'audio').map((s) => s.codec_name), ['aac']);
    // ffmpeg's AAC in MP4 ends on a whole 1024-sample packet (23 ms at 44.1 kHz) past the cut.
    const wantMs = (TRIM.end - TRIM.start) * 1000;
    assert.ok(probe.durationMs >= wantMs && probe.durationMs < wantMs + 50, `the later output keeps the trim: ${probe.durationMs} ms, want ${wantMs} ms`);
  });
});
