import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { fixtures } from './helpers/audio.ts';
import { launchBrowser, markPage, screenshot, signUpInBrowser as signUp, stillSamePage } from './helpers/browser.ts';
import { startServer, waitFor, type TestServer } from './helpers/server.ts';
import { startReceiver } from './helpers/webhook-receiver.ts';

describe('in a real browser', () => {
  let srv: TestServer;
  let browser: Browser;
  let alice: BrowserContext;
  let bob: BrowserContext;
  let tabA: Page;
  let tabB: Page;
  let bobTab: Page;
  let fileUrl = '';

  before(async () => {
    srv = await startServer({ WORKER_CONCURRENCY: '1' });
    browser = await launchBrowser();
    alice = await browser.newContext({ viewport: { width: 1100, height: 800 } });
    bob = await browser.newContext();
    tabA = await alice.newPage();
    tabB = await alice.newPage();
    bobTab = await bob.newPage();
  });
  after(async () => {
    await browser?.close();
    await srv?.close();
  });

  it('signs up and shows an empty files page', async () => {
    await signUp(tabA, srv.url, 'pat');
    await signUp(bobTab, srv.url, 'quinn');
    assert.equal(await tabA.getByText('No files yet').count(), 1);
    await screenshot(tabA, 'files-empty');
  });

  it('aborts an upload in progress, keeping nothing', async () => {
    const cdp = await alice.newCDPSession(tabA);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 2 * 1024 * 1024 });
    try {
      await tabA.getByLabel('Audio file').setInputFiles(await fixtures.long());
      await tabA.getByRole('button', { name: 'Upload and transcode' }).click();
      await tabA.waitForFunction(() => /\d+% ·/.test(document.querySelector('[data-upload-text]')?.textContent ?? ''));
      await tabA.getByRole('button', { name: 'Abort' }).click();
      await tabA.getByText('Upload aborted. Nothing was kept.').waitFor();
      assert.equal(await tabA.getByRole('button', { name: 'Upload and transcode' }).isEnabled(), true);
    } finally {
      await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
    }
    await tabA.reload();
    assert.equal(await tabA.getByText('No files yet').count(), 1, 'no file was created');
  });

  it('uploads with a progress bar, then shows live progress without reloading', async () => {
    await tabB.goto(`${srv.url}/files`);
    await markPage(tabB);
    await bobTab.goto(`${srv.url}/files`);
    await markPage(bobTab);

    // Slow the upload down so the progress bar has something to show.
    const cdp = await alice.newCDPSession(tabA);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 8 * 1024 * 1024 });
    await tabA.getByLabel('Audio file').setInputFiles(await fixtures.long());
    await tabA.getByLabel('Name').fill('Live one');
    await tabA.getByRole('button', { name: 'Upload and transcode' }).click();
    await tabA.locator('[data-upload-progress]').waitFor({ state: 'visible' });
    await tabA.waitForFunction(() => /\d+(\.\d)? MB of .* · \d+% · .*MB\/s/.test(document.querySelector('[data-upload-text]')?.textContent ?? ''));
    await screenshot(tabA, 'upload-progress');
    await tabA.waitForURL(/\/files\/[0-9a-f-]{36}$/, { timeout: 60_000 });
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
    fileUrl = tabA.url();

    await markPage(tabA);
    await tabA.waitForFunction(() => Number(document.querySelector<HTMLProgressElement>('[data-progress]')?.value ?? 0) > 0, undefined, { timeout: 60_000 });
    assert.equal(await tabA.locator('[data-status]').textContent(), 'running');
    await screenshot(tabA, 'file-running');
    assert.ok(await stillSamePage(tabA), 'progress arrived without a reload');
  });

  it('shows the notification in every tab of the owner, without reloading, and in no one else’s', async () => {
    const message = 'Your file Live one has been processed.';
    await tabA.getByText(message).waitFor({ timeout: 90_000 });
    await tabB.getByText(message).waitFor({ timeout: 10_000 });
    assert.ok(await stillSamePage(tabA));
    assert.ok(await stillSamePage(tabB));
    // The file page now shows its outputs and links, still without a reload.
    await tabA.getByRole('link', { name: 'Download' }).first().waitFor();
    assert.equal(await tabA.locator('[data-status]').first().textContent(), 'completed');
    assert.ok(await stillSamePage(tabA));
    assert.equal(await tabA.locator('svg.waveform rect').count() > 10, true, 'waveform drawn');
    await screenshot(tabA, 'file-completed');
    assert.equal(await bobTab.locator('[data-notification-id]').count(), 0);
    assert.ok(await stillSamePage(bobTab));
  });

  it('dismissing in one tab removes the notification from the other, by keyboard too', async () => {
    const dismiss = tabA.getByRole('button', { name: /^Dismiss: Your file Live one/ });
    await dismiss.focus();
    await tabA.keyboard.press('Enter');
    await tabA.locator('[data-notification-id]').waitFor({ state: 'detached' });
    await tabB.locator('[data-notification-id]').waitFor({ state: 'detached', timeout: 10_000 });
    assert.ok(await stillSamePage(tabB));
    assert.equal(await tabA.locator('[aria-live="polite"]').count(), 1);
  });

  it('plays an output with Range requests, and seeks', async () => {
    const ranged: number[] = [];
    tabA.on('response', (res) => {
      if (res.url().includes('/outputs/flac-cd')) ranged.push(res.status());
    });
    await tabA.goto(fileUrl);
    const played = await tabA.evaluate(async () => {
      const audio = document.querySelector<HTMLAudioElement>('audio[src*="flac-cd"]');
      if (!audio) return { error: 'no player' };
      audio.muted = true;
      await audio.play();
      await new Promise((r) => setTimeout(r, 600));
      const playing = audio.currentTime;
      audio.currentTime = 200;
      await new Promise((r) => audio.addEventListener('seeked', r, { once: true }));
      return { playing, seekedTo: audio.currentTime, duration: audio.duration };
    });
    assert.ok(!('error' in played), JSON.stringify(played));
    assert.ok((played.playing ?? 0) > 0, `playback advanced: ${JSON.stringify(played)}`);
    assert.ok(Math.abs((played.seekedTo ?? 0) - 200) < 1, 'seek landed');
    assert.ok(Math.abs((played.duration ?? 0) - 420) < 1, 'full duration known');
    assert.ok(ranged.includes(206), `range responses: ${ranged.join(',')}`);
  });

  it('works without JavaScript: upload form and dismiss', async () => {
    const noJs = await browser.newContext({ javaScriptEnabled: false });
    try {
      const page = await noJs.newPage();
      await signUp(page, srv.url, 'rita');
      await page.getByLabel('Audio file').setInputFiles(await fixtures.mp3WithCover());
      await page.getByRole('button', { name: 'Upload and transcode' }).click();
      await page.waitForURL(/\/files\/[0-9a-f-]{36}$/);
      assert.match((await page.locator('h1').textContent()) ?? '', /cover\.mp3/);
      for (let i = 0; i < 60 && (await page.getByText('has been processed').count()) === 0; i++) {
        await new Promise((r) => setTimeout(r, 500));
        await page.reload();
      }
      await page.getByRole('button', { name: /^Dismiss:/ }).click();
      await page.waitForLoadState();
      assert.equal(await page.locator('[data-notification-id]').count(), 0);
    } finally {
      await noJs.close();
    }
  });

  it('looks right on a phone', async () => {
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, storageState: await alice.storageState() });
    try {
      const page = await phone.newPage();
      await page.goto(`${srv.url}/files`);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      assert.ok(overflow <= 0, `no sideways scrolling (${overflow}px)`);
      await screenshot(page, 'files-phone');
      await page.goto(fileUrl);
      await screenshot(page, 'file-phone');
    } finally {
      await phone.close();
    }
  });

  it('logs out', async () => {
    await tabA.goto(`${srv.url}/files`);
    await tabA.getByRole('button', { name: 'Log out' }).click();
    await tabA.waitForURL(`${srv.url}/login`);
    await screenshot(tabA, 'login');
    await tabA.goto(`${srv.url}/files`);
    assert.match(tabA.url(), /\/login\?next=/);
  });

  it('manages API tokens on the settings page: create, copy once, revoke', async () => {
    const context = await browser.newContext({ viewport: { width: 1100, height: 800 } });
    try {
      const page = await context.newPage();
      await signUp(page, srv.url, 'sam');
      await page.getByRole('link', { name: 'Settings' }).click();
      await page.waitForURL(`${srv.url}/settings`);
      assert.equal(await page.getByText('No tokens yet').count(), 1);
      await page.getByLabel('Name').fill('Home backup');
      await page.getByLabel('Expires').selectOption('30');
      await page.getByLabel(/Read-only/).check();
      await page.getByRole('button', { name: 'Create token' }).click();
      const token = await page.locator('[data-new-token]').inputValue();
      assert.match(token, /^rp_[A-Za-z0-9_-]{43}$/);
      const row = page.locator('table.tokens tbody tr');
      assert.equal(await row.count(), 1);
      assert.match((await row.textContent()) ?? '', new RegExp(`Home backup\\s*${token.slice(0, 10)}….*Read-only`, 's'));
      await screenshot(page, 'settings-token-created');
      const api = (method: string) => fetch(`${srv.url}/api/v1/files`, { method, headers: { authorization: `Bearer ${token}` } });
      assert.equal((await api('GET')).status, 200);
      assert.equal((await api('POST')).status, 403, 'read-only');

      const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, storageState: await context.storageState() });
      try {
        const small = await phone.newPage();
        await small.goto(`${srv.url}/settings`);
        assert.equal(await small.locator('[data-new-token]').count(), 0, 'the token is shown once only');
        const overflow = await small.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
        assert.ok(overflow <= 0, `no sideways scrolling (${overflow}px)`);
        await screenshot(small, 'settings-phone');
      } finally {
        await phone.close();
      }

      page.once('dialog', (dialog) => void dialog.accept());
      await page.getByRole('button', { name: 'Revoke Home backup' }).click();
      await page.getByText('The token was revoked').waitFor();
      assert.equal(await page.getByText('No tokens yet').count(), 1);
      assert.equal((await api('GET')).status, 401);
    } finally {
      await context.close();
    }
  });

  it('manages webhooks on the settings page: add, see the secret once, send a test, see it delivered, on a phone too', async () => {
    // The first request succeeds and later ones fail, so the page shows both kinds of delivery.
    const receiver = await startReceiver((_r, index) => ({ status: index === 0 ? 204 : 503 }));
    // Its own server: the receiver is on loopback, which only WEBHOOK_ALLOW_PRIVATE lets a server reach.
    const hookSrv = await startServer({ WEBHOOK_ALLOW_PRIVATE: 'true' });
    const context = await browser.newContext({ viewport: { width: 1100, height: 800 } });
    try {
      const page = await context.newPage();
      await signUp(page, hookSrv.url, 'hooker');
      await page.goto(`${hookSrv.url}/settings`);
      assert.equal(await page.getByText('No webhook endpoints yet').count(), 1);
      // A long address: it must wrap on a phone rather than push the page sideways.
      const url = `${receiver.url}/hooks/reprise/a-rather-long-path-that-must-wrap-on-a-phone?source=reprise-settings-page`;
      await page.getByLabel('URL').fill(url);
      await page.getByLabel('Description').fill('Publish finished masters');
      await page.getByLabel(/file\.completed/).check();
      await page.getByLabel(/file\.failed/).check();
      await page.getByRole('button', { name: 'Add endpoint' }).click();
      const secret = await page.locator('[data-new-secret]').inputValue();
      assert.match(secret, /^whsec_[A-Za-z0-9+/]{43}=$/);
      const row = page.locator('table.webhooks tbody tr');
      assert.equal(await row.count(), 1);
      assert.match((await row.textContent()) ?? '', /Publish finished masters\s*file\.completed, file\.failed\s*Enabled/);
      await screenshot(page, 'settings-webhook-created');

      await page.getByRole('link', { name: `Manage ${url}` }).click();
      await page.waitForURL(/\/settings\/webhooks\/[0-9a-f-]{36}$/);
      const endpointUrl = page.url();
      await page.getByRole('button', { name: 'Send test event' }).click();
      await page.getByText('A test event was queued').waitFor();
      const delivery = page.locator('table.deliveries tbody tr');
      assert.equal(await delivery.count(), 1, 'the test event is listed at once');
      const deliveryId = await delivery.getAttribute('data-delivery-id');
      const received = await waitFor('the test event', async () => receiver.received[0], 10_000);
      assert.equal(received.headers['webhook-id'], deliveryId);
      await waitFor('the delivery to show as succeeded', async () => {
        await page.getByRole('link', { name: 'Refresh' }).click();
        return (await delivery.getAttribute('data-state')) === 'succeeded' ? true : undefined;
      }, 10_000);
      assert.match((await delivery.textContent()) ?? '', /webhook\.test[^]*Succeeded[^]*HTTP 204/i);

      await page.getByRole('button', { name: 'Send test event' }).click();
      await page.getByText('A test event was queued').waitFor();
      const newest = delivery.first();
      await waitFor('the second delivery to be retrying', async () => {
        await page.getByRole('link', { name: 'Refresh' }).click();
        return (await newest.getAttribute('data-state')) === 'retrying' ? true : undefined;
      }, 10_000);
      assert.equal(await delivery.count(), 2);
      assert.match((await newest.textContent()) ?? '', /Retrying[^]*\d+ attempts?[^]*HTTP 503[^]*UTC/i, 'with the time of the next attempt');
      assert.equal(await delivery.nth(1).getAttribute('data-delivery-id'), deliveryId, 'newest first');
      await screenshot(page, 'webhook-endpoint');

      const phone = await browser.newContext({ viewport: { width: 375, height: 812 }, storageState: await context.storageState() });
      try {
        const small = await phone.newPage();
        for (const [address, name] of [[`${hookSrv.url}/settings#webhooks`, 'settings-webhooks-phone'], [endpointUrl, 'webhook-phone']] as const) {
          await small.goto(address);
          assert.equal(await small.locator('[data-new-secret]').count(), 0, 'the secret is shown once only');
          const overflow = await small.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
          assert.ok(overflow <= 0, `no sideways scrolling on ${name} (${overflow}px)`);
          await screenshot(small, name);
        }
      } finally {
        await phone.close();
      }

      await page.getByRole('button', { name: 'Turn off' }).click();
      await page.getByText('This endpoint is off').waitFor();
      assert.equal(await page.getByRole('button', { name: 'Send test event' }).count(), 0);
      await screenshot(page, 'webhook-disabled');
      page.once('dialog', (dialog) => void dialog.accept());
      await page.getByRole('button', { name: 'Delete' }).click();
      await page.getByText('was deleted').waitFor();
      assert.equal(await page.getByText('No webhook endpoints yet').count(), 1);
    } finally {
      await context.close();
      await hookSrv.close();
      await receiver.close();
    }
  });
});
