import assert from 'node:assert/strict';
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { setOverrides } from '../src/domain/quotas.ts';
import { formatBytes } from '../src/format.ts';
import { fixtures } from './helpers/audio.ts';
import { launchBrowser, markPage, screenshot, stillSamePage, signUpInBrowser } from './helpers/browser.ts';
import { ApiClient } from './helpers/clients.ts';
import { startServer, waitFor, type TestServer } from './helpers/server.ts';

/**
 * 1,800,000 bytes: two 4-second WAVs (705,6xx bytes each) take 78 % of it, under the warning;
 * their two MP3 outputs (~64 KB each) take it past 80 %.
 */
const QUOTA = 1_800_000;

/**
 * The usage bars in a real browser: drawn by the server on every load, redrawn in place when an
 * upload ends, a job finishes or a file is deleted, a warning from 80 % and a clear message at
 * the limit; and the admin user page's limits form, on a desktop and a phone screen.
 */
describe('usage bars and the limits form in a real browser', { concurrency: false }, () => {
  let srv: TestServer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let api: ApiClient;
  let dir = '';
  let userId = '';

  const storageItem = () => page.locator('[data-usage-bar="storage"]');
  const storageText = () => storageItem().locator('[data-usage-text]').innerText();
  const usedBytes = async () => {
    const usage = (await api.json<{ storage: { usedBytes: number; reservedBytes: number } }>('GET', '/usage')).body.storage;
    return usage.usedBytes + usage.reservedBytes;
  };
  /** Waits until the page's storage bar says what the server counts now. */
  const barMatchesServer = async () => {
    const expected = `${formatBytes(await usedBytes())} of ${formatBytes(QUOTA)}`;
    await waitFor(`the storage bar to read "${expected}"`, async () => ((await storageText()) === expected ? true : undefined), 30_000);
  };

  before(async () => {
    srv = await startServer({ QUOTA_BYTES: String(QUOTA), WORKER_CONCURRENCY: '1' });
    dir = await mkdtemp(path.join(os.tmpdir(), 'reprise-usage-'));
    for (const name of ['Tone A.wav', 'Tone B.wav']) await copyFile(await fixtures.wav(), path.join(dir, name));
    browser = await launchBrowser();
    context = await browser.newContext({ viewport: { width: 1100, height: 800 } });
    page = await context.newPage();
    await signUpInBrowser(page, srv.url, 'uma');
    userId = (await srv.app.deps.store.users.findByUsername('uma'))!.id;
    api = new ApiClient(srv.url);
    api.token = (await api.json<{ token: string }>('POST', '/tokens', { username: 'uma', password: 'correct horse battery' })).body.token;
  });
  after(async () => {
    await browser?.close();
    await srv?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('draws the storage bar and the other limits on the upload page, without a warning while there is room', async () => {
    assert.equal(await storageText(), `0 B of ${formatBytes(QUOTA)}`);
    assert.ok(await storageItem().locator('meter').isVisible());
    assert.equal(await storageItem().locator('meter').getAttribute('value'), '0');
    assert.equal(await storageItem().locator('[data-usage-alert]').isVisible(), false);
    assert.match(await page.locator('[data-usage]').innerText(), /Files today\s+0 \(no limit\)/);
    assert.match(await page.locator('[data-usage]').innerText(), /Largest upload 2\.0 GB · longest input 4:00:00/);
  });

  it('redraws the bar without a reload as uploads end and jobs finish, and warns past 80 %', async () => {
    await page.locator('html.live').waitFor({ state: 'attached' });
    await markPage(page);
    const checked = page.locator('input[name="presets"]:checked');
    while ((await checked.count()) > 0) await checked.first().uncheck();
    await page.locator('input[name="presets"][value="mp3-128k"]').check();
    await page.getByLabel('Audio file').setInputFiles(['Tone A.wav', 'Tone B.wav'].map((n) => path.join(dir, n)));
    await page.getByRole('button', { name: 'Upload and transcode' }).click();
    await waitFor('both files to be transcoded', async () => {
      const files = await srv.app.deps.store.files.listForUser(userId);
      return files.length === 2 && files.every((f) => f.status === 'completed') ? files : undefined;
    });
    await barMatchesServer();
    assert.ok((await usedBytes()) / QUOTA >= 0.8, 'the fixture sizes put the account past 80 %');
    await storageItem().locator('[data-usage-alert]', { hasText: 'Over 80% used.' }).waitFor();
    assert.match(await storageItem().getAttribute('class') ?? '', /usage-warn/);
    assert.ok(Number(await storageItem().locator('meter').getAttribute('value')) >= 80);
    assert.ok(await stillSamePage(page), 'the bar changed without a reload');
    await screenshot(page, 'usage-warn-desktop');

    // What the script drew is what the server draws.
    const live = await page.locator('[data-usage]').innerText();
    await page.reload();
    assert.equal(await page.locator('[data-usage]').innerText(), live);
  });

  it('gives a deleted file\'s bytes back on the bar at once, without a reload', async () => {
    await page.locator('html.live').waitFor({ state: 'attached' });
    await markPage(page);
    const before = await storageText();
    const [first] = await srv.app.deps.store.files.listForUser(userId);
    assert.equal((await api.request('DELETE', `/files/${first!.id}`)).status, 204);
    await barMatchesServer();
    assert.notEqual(await storageText(), before);
    await storageItem().locator('[data-usage-alert]').waitFor({ state: 'hidden' });
    assert.doesNotMatch(await storageItem().getAttribute('class') ?? '', /usage-warn/);
    assert.ok(await stillSamePage(page));
  });

  it('says clearly at the limit, and the server-drawn bar is right without JavaScript', async () => {
    await setOverrides(srv.app.deps, userId, { quotaBytes: await usedBytes() });
    await page.reload();
    await storageItem().locator('[data-usage-alert]', { hasText: 'Storage is full: uploads are refused until files are deleted.' }).waitFor();
    assert.equal(await storageItem().locator('meter').getAttribute('value'), '100');
    await screenshot(page, 'usage-full-desktop');

    const noScript = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 390, height: 844 }, storageState: await context.storageState() });
    const phone = await noScript.newPage();
    await phone.goto(`${srv.url}/files`);
    const item = phone.locator('[data-usage-bar="storage"]');
    assert.equal(await item.locator('[data-usage-text]').innerText(), `${formatBytes(await usedBytes())} of ${formatBytes(await usedBytes())}`);
    assert.ok(await item.getByText('Storage is full').isVisible());
    const box = await item.boundingBox();
    assert.ok(box && box.x + box.width <= 390, 'the bar fits a phone screen');
    await screenshot(phone, 'usage-full-phone');
    await noScript.close();
    await setOverrides(srv.app.deps, userId, { quotaBytes: null });
  });

  it('sets a limit on the admin user page, says why a value is refused, on desktop and phone', async () => {
    await page.goto(`${srv.url}/admin`);
    await page.getByRole('link', { name: 'uma', exact: true }).click();
    await page.waitForURL(`${srv.url}/admin/users/${userId}`);
    await page.getByRole('textbox', { name: 'Storage', exact: true }).fill('lots');
    await page.getByRole('textbox', { name: 'Uploads per UTC day' }).fill('0');
    await page.getByRole('button', { name: 'Save limits' }).click();
    await page.getByRole('alert').getByText('Nothing was saved: 2 fields need another value.').waitFor();
    assert.equal(await page.getByRole('textbox', { name: 'Storage', exact: true }).getAttribute('aria-invalid'), 'true');
    await screenshot(page, 'admin-user-error-desktop');

    await page.getByRole('textbox', { name: 'Storage', exact: true }).fill('5 GB');
    await page.getByRole('textbox', { name: 'Uploads per UTC day' }).fill('');
    await page.getByRole('textbox', { name: 'Longest input' }).fill('90 min');
    await page.getByRole('button', { name: 'Save limits' }).click();
    await page.getByText('Limits of uma saved.').waitFor();
    assert.equal(await page.getByRole('textbox', { name: 'Storage', exact: true }).inputValue(), '5 GB');
    assert.equal(await page.getByRole('textbox', { name: 'Longest input' }).inputValue(), '1:30:00');
    assert.deepEqual((await srv.app.deps.store.quotas.overridesOf(userId)).quotaBytes, 5 * 1024 ** 3);
    await screenshot(page, 'admin-user-desktop');
    await page.setViewportSize({ width: 390, height: 844 });
    await page.reload();
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 390, `nothing sticks out sideways on a phone (${width}px)`);
    await screenshot(page, 'admin-user-phone');
    await page.goto(`${srv.url}/files`);
    await screenshot(page, 'usage-files-phone');
  });
});
