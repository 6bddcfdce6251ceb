import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { fixtures } from './helpers/audio.ts';
import { launchBrowser, screenshot } from './helpers/browser.ts';
import { ApiClient } from './helpers/clients.ts';
import { startServer, type TestServer } from './helpers/server.ts';
import { fileWhen } from './helpers/files.ts';

interface Shown { title: string; body?: string; tag?: string }
type Spied = Window & { __shown: Shown[]; __asked: number; __hidden: boolean };

/**
 * Before any page script: a Notification that records what it is asked to show, then shows it
 * with the browser's own; a requestPermission that counts its calls; and a document whose
 * visibility the test sets (a tab in the background, as far as the page can tell). Plain text,
 * not a function: tsx would add helper calls to a function that do not exist in the page.
 */
const spyOnNotifications = `
  (() => {
    const Real = window.Notification;
    window.__shown = [];
    window.__asked = 0;
    window.__hidden = false;
    const Recorded = function (title, options) {
      window.__shown.push({ title, body: options && options.body, tag: options && options.tag });
      return new Real(title, options);
    };
    Object.defineProperty(Recorded, 'permission', { get: () => Real.permission });
    Recorded.requestPermission = () => {
      window.__asked += 1;
      return Real.requestPermission();
    };
    Object.defineProperty(window, 'Notification', { value: Recorded, configurable: true, writable: true });
    Object.defineProperty(document, 'hidden', { get: () => window.__hidden, configurable: true });
    Object.defineProperty(document, 'visibilityState', { get: () => (window.__hidden ? 'hidden' : 'visible'), configurable: true });
  })();
`;

async function signIn(page: Page, base: string, username: string) {
  await page.goto(`${base}/login`);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill('correct horse battery');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${base}/files`);
}

describe('browser notifications when a job ends in a background tab', () => {
  let srv: TestServer;
  let browser: Browser;
  let granted: BrowserContext;
  let undecided: BrowserContext;
  let api: ApiClient;

  before(async () => {
    srv = await startServer({ WORKER_CONCURRENCY: '1' });
    browser = await launchBrowser();
    granted = await browser.newContext();
    await granted.grantPermissions(['notifications'], { origin: srv.url });
    await granted.addInitScript({ content: spyOnNotifications });
    undecided = await browser.newContext();
    await undecided.addInitScript({ content: spyOnNotifications });
    api = await ApiClient.signUp(srv.url, 'away-user');
  });
  after(async () => {
    await browser?.close();
    await srv?.close();
  });

  const finish = async () => {
    const up = await api.upload(await fixtures.wav(), { name: 'Late night mix.wav', presets: 'flac-cd' });
    await fileWhen(api, up.body.id, (f) => f.status === 'completed', 'the job to end');
    return up.body.id;
  };

  it('shows a system notification for a job that ends while the tab is hidden, and none while it is in view', async () => {
    const page = await granted.newPage();
    await signIn(page, srv.url, 'away-user');
    await page.waitForFunction(() => document.documentElement.classList.contains('live'));

    // In view: the page's own list gets the notification, the system none.
    const seen = await page.locator('[data-notification-id]').count();
    await finish();
    await page.waitForFunction((n) => document.querySelectorAll('[data-notification-id]').length > n, seen);
    assert.equal(await page.evaluate(() => (window as unknown as Spied).__shown.length), 0);

    // In the background: one system notification, saying which file and linking to it on click.
    await page.evaluate(() => ((window as unknown as Spied).__hidden = true));
    const fileId = await finish();
    await page.waitForFunction(() => (window as unknown as Spied).__shown.length > 0);
    const shown = await page.evaluate(() => (window as unknown as Spied).__shown);
    assert.equal(shown.length, 1);
    assert.equal(shown[0]?.title, 'Reprise: a job is done');
    assert.match(shown[0]?.body ?? '', /Late night mix\.wav/);
    assert.match(shown[0]?.tag ?? '', /^reprise-[0-9a-f-]{36}$/);
    assert.equal(await page.locator(`[data-notification-id] a[href="/files/${fileId}"]`).count(), 1);
    assert.equal(await page.evaluate(() => (window as unknown as Spied).__asked), 0, 'never asks without a click');

    await page.goto(`${srv.url}/settings#mail`);
    assert.equal(await page.locator('[data-browser-notify-state]').getAttribute('data-permission'), 'granted');
    assert.equal(await page.getByRole('button', { name: 'Allow browser notifications' }).isHidden(), true);
  });

  it('asks for permission only when the button is clicked, and shows nothing without it', async () => {
    const page = await undecided.newPage();
    await signIn(page, srv.url, 'away-user');
    await page.waitForFunction(() => document.documentElement.classList.contains('live'));
    await page.evaluate(() => ((window as unknown as Spied).__hidden = true));
    const seen = await page.locator('[data-notification-id]').count();
    await finish();
    await page.waitForFunction((n) => document.querySelectorAll('[data-notification-id]').length > n, seen);
    assert.equal(await page.evaluate(() => (window as unknown as Spied).__shown.length), 0);

    await page.goto(`${srv.url}/settings#mail`);
    const ask = page.getByRole('button', { name: 'Allow browser notifications' });
    await ask.waitFor();
    assert.equal(await page.evaluate(() => (window as unknown as Spied).__asked), 0);
    await screenshot(page, 'settings-mail-and-notifications');
    await ask.click();
    await page.waitForFunction(() => (window as unknown as Spied).__asked === 1);
  });
});
