import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { inputKey } from '../src/domain/uploads.ts';
import { fixtures } from './helpers/audio.ts';
import { launchBrowser, screenshot, signUpInBrowser } from './helpers/browser.ts';
import { startServer, type TestServer } from './helpers/server.ts';

const percentShown = (page: Page) =>
  page.evaluate(() => Number(/(\d+)% ·/.exec(document.querySelector('[data-upload-text]')?.textContent ?? '')?.[1] ?? -1));

describe('resumable uploads in a real browser', () => {
  let srv: TestServer;
  let browser: Browser;
  let page: Page;

  before(async () => {
    srv = await startServer({ WORKER_CONCURRENCY: '1' });
    browser = await launchBrowser();
    page = await (await browser.newContext()).newPage();
  });
  after(async () => {
    await browser?.close();
    await srv?.close();
  });

  it('after a reload mid-upload, choosing the same file again resumes where it stopped', async () => {
    await signUpInBrowser(page, srv.url, 'resumer');
    assert.equal(await page.evaluate(() => typeof (window as unknown as { tus?: unknown }).tus), 'object', 'the tus client loaded');

    const source = await fixtures.long();
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 4 * 1024 * 1024 });
    await page.getByLabel('Audio file').setInputFiles(source);
    await page.getByRole('button', { name: 'Upload and transcode' }).click();
    await page.waitForFunction(() => Number(/(\d+)% ·/.exec(document.querySelector('[data-upload-text]')?.textContent ?? '')?.[1] ?? 0) >= 40, undefined, { timeout: 60_000 });
    const before = await percentShown(page);
    await page.reload();

    await page.getByLabel('Audio file').setInputFiles(source);
    await page.getByRole('button', { name: 'Upload and transcode' }).click();
    // The first progress report after resuming starts from the bytes the server already holds.
    await page.waitForFunction(() => /\d+% ·/.test(document.querySelector('[data-upload-text]')?.textContent ?? ''));
    const resumedAt = await percentShown(page);
    assert.ok(resumedAt >= before - 5, `resumed at ${resumedAt}% after reaching ${before}%`);
    await page.waitForURL(/\/files\/[0-9a-f-]{36}$/, { timeout: 60_000 });
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
    await screenshot(page, 'upload-resumed');

    const fileId = page.url().split('/').pop() ?? '';
    const chunks: Buffer[] = [];
    for await (const c of (await srv.app.deps.blobs.get(inputKey(fileId))) as Readable) chunks.push(c as Buffer);
    assert.equal(Buffer.compare(Buffer.concat(chunks), await readFile(source)), 0, 'the stored input is the file, byte for byte');
  });
});
