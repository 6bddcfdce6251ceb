import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { runRetentionSweep } from '../src/domain/retention-sweep.ts';
import { fixtures } from './helpers/audio.ts';
import { launchBrowser, markPage, screenshot, stillSamePage, signUpInBrowser } from './helpers/browser.ts';
import { startServer, type TestServer } from './helpers/server.ts';

const DAY = 86_400_000;

/**
 * Retention in a real browser: the choice on the settings page, the deletion date on the file
 * page, the day-before notice arriving live, and the deleted file leaving the files list live.
 * Time moves by the clock handed to the sweep.
 */
describe('retention in a real browser', () => {
  let srv: TestServer;
  let browser: Browser;
  let tab: Page;
  let fileId = '';
  let created = 0;

  before(async () => {
    srv = await startServer({ RETENTION_DAYS: '30', WORKER_CONCURRENCY: '1' });
    browser = await launchBrowser();
    tab = await (await browser.newContext({ viewport: { width: 1100, height: 800 } })).newPage();
    await signUpInBrowser(tab, srv.url, 'remy');
  });
  after(async () => {
    await browser?.close();
    await srv?.close();
  });

  it('chooses a shorter time on the settings page, within the server\'s', async () => {
    await tab.goto(`${srv.url}/settings#retention`);
    assert.match(await tab.locator('[data-retention-effective]').innerText(), /deleted 30 days after upload/);
    await tab.getByLabel('Delete my files after').fill('45');
    // The browser's own check stops 45 (max is 30); the server's says the same without it.
    assert.equal(await tab.getByLabel('Delete my files after').evaluate((el) => (el as HTMLInputElement).validity.rangeOverflow), true);
    await tab.getByLabel('Delete my files after').fill('5');
    await tab.locator('form.retention-form').getByRole('button', { name: 'Save' }).click();
    await tab.getByText('Your files are kept 5 days after upload.').waitFor();
    assert.match(await tab.locator('[data-retention-effective]').innerText(), /deleted 5 days after upload/);
    await screenshot(tab, 'retention-settings');
  });

  it('shows on the file page when the file goes', async () => {
    await tab.goto(`${srv.url}/files`);
    await tab.getByLabel('Audio file').setInputFiles(await fixtures.wav());
    await tab.getByRole('button', { name: 'Upload and transcode' }).click();
    await tab.waitForURL(/\/files\/[0-9a-f-]{36}$/, { timeout: 60_000 });
    fileId = tab.url().split('/').pop() ?? '';
    await tab.locator('[data-status]', { hasText: 'completed' }).first().waitFor({ timeout: 60_000 });
    created = (await srv.app.deps.store.files.findById(fileId))?.created_at ?? 0;
    const when = new Date(created + 5 * DAY).toISOString();
    await tab.reload();
    assert.equal(await tab.locator('.file-expiry time').getAttribute('datetime'), when);
    assert.match(await tab.locator('.file-expiry').innerText(), /Deleted with its outputs on .* UTC/);
  });

  it('brings the day-before notice live, then takes the file off the list live when it goes', async () => {
    await markPage(tab);
    // The page's event stream must be open before the sweep, or the notice is sent to nobody.
    await tab.locator('html.live').waitFor({ state: 'attached' });
    const dayBefore = created + 4 * DAY + 3_600_000;
    assert.ok((await runRetentionSweep(srv.app.deps, dayBefore)).notified.includes(fileId));
    const notice = tab.locator('.notification-expiring', { hasText: 'will be deleted tomorrow' });
    await notice.waitFor({ timeout: 10_000 });
    assert.ok(await stillSamePage(tab), 'the notice arrived without a reload');
    // The notice came 23 hours before the file was due: the file goes a day after it, and the
    // page says so without a reload.
    const moved = new Date(dayBefore + DAY).toISOString();
    await tab.locator(`.file-expiry time[datetime="${moved}"]`).waitFor({ timeout: 10_000 });
    assert.ok(await stillSamePage(tab));
    await screenshot(tab, 'file-expiring');

    await tab.goto(`${srv.url}/files`);
    await tab.locator(`[data-file-id="${fileId}"]`).waitFor();
    await markPage(tab);
    await tab.locator('html.live').waitFor({ state: 'attached' });
    assert.ok((await runRetentionSweep(srv.app.deps, dayBefore + DAY)).deleted.includes(fileId));
    await tab.locator(`[data-file-id="${fileId}"]`).waitFor({ state: 'detached', timeout: 10_000 });
    assert.ok(await stillSamePage(tab), 'the list changed without a reload');
  });
});
