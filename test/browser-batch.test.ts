import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { fixtures } from './helpers/audio.ts';
import { launchBrowser, screenshot, signUpInBrowser } from './helpers/browser.ts';
import { startServer, waitFor, type TestServer } from './helpers/server.ts';

/**
 * Drops a real one-second WAV and a text file onto the page, as a drag from the desktop would.
 * A string, not a function: the test runner's transform would add helpers the page lacks.
 */
const dropTwoFiles = `(() => {
  const rate = 8000;
  const samples = new Int16Array(rate).map((_, i) => Math.round(Math.sin((2 * Math.PI * 440 * i) / rate) * 12000));
  const header = new DataView(new ArrayBuffer(44));
  const put = (at, s) => [...s].forEach((c, i) => header.setUint8(at + i, c.charCodeAt(0)));
  put(0, 'RIFF'); header.setUint32(4, 36 + samples.byteLength, true); put(8, 'WAVEfmt ');
  header.setUint32(16, 16, true); header.setUint16(20, 1, true); header.setUint16(22, 1, true);
  header.setUint32(24, rate, true); header.setUint32(28, rate * 2, true); header.setUint16(32, 2, true); header.setUint16(34, 16, true);
  put(36, 'data'); header.setUint32(40, samples.byteLength, true);
  const data = new DataTransfer();
  data.items.add(new File([header.buffer, samples.buffer], 'Dropped tone.wav', { type: 'audio/wav' }));
  data.items.add(new File(['just words'], 'readme.txt', { type: 'text/plain' }));
  const main = document.querySelector('main');
  main.dispatchEvent(new DragEvent('dragover', { dataTransfer: data, bubbles: true, cancelable: true }));
  main.dispatchEvent(new DragEvent('drop', { dataTransfer: data, bubbles: true, cancelable: true }));
})()`;

type Row = { name: string; state: string; text: string; bar: number };

/** The batch rows as the page shows them. */
const rowsOf = (page: Page) =>
  page.$$eval('[data-batch-item]', (items) =>
    items.map((li) => ({
      name: li.querySelector('.batch-name')?.textContent ?? '',
      state: (li as HTMLElement).dataset.state ?? 'waiting',
      text: li.querySelector('[data-batch-text]')?.textContent ?? '',
      bar: li.querySelector('progress')?.value ?? -1,
    })),
  ) as Promise<Row[]>;

/** Counts how many rows upload at once, for the whole life of the page. */
const watchConcurrency = (page: Page) =>
  page.evaluate(() => {
    const w = window as unknown as { __maxUploading: number };
    w.__maxUploading = 0;
    new MutationObserver(() => {
      w.__maxUploading = Math.max(w.__maxUploading, document.querySelectorAll('[data-batch-item][data-state="uploading"]').length);
    }).observe(document.body, { subtree: true, attributes: true, attributeFilter: ['data-state'] });
  });
const maxUploading = (page: Page) => page.evaluate(() => (window as unknown as { __maxUploading: number }).__maxUploading);

describe('many files at once, in a real browser', () => {
  let srv: TestServer;
  let browser: Browser;
  let page: Page;
  let dir: string;

  /**
   * Waits until the rows are these files in these final states. With remote storage a file that
   * is not audio is accepted and then refused by its job, so "refused" may come a little later.
   */
  const settled = (page: Page, expected: [string, string][]) =>
    waitFor(`batch rows to be ${JSON.stringify(expected)}`, async () => {
      const rows = await rowsOf(page);
      const states = rows.map((r) => [r.name, r.state]);
      return JSON.stringify(states) === JSON.stringify(expected) ? rows : undefined;
    });
  const completedNamed = (name: string) =>
    waitFor(`${name} to be transcoded`, async () => {
      const user = await srv.app.deps.store.users.findByUsername('robin');
      const files = user ? await srv.app.deps.store.files.listForUser(user.id) : [];
      const file = files.find((f) => f.name === name);
      return file && (file.status === 'completed' || file.status === 'failed') ? file : undefined;
    });

  before(async () => {
    srv = await startServer({ WORKER_CONCURRENCY: '1' });
    browser = await launchBrowser();
    page = await (await browser.newContext({ viewport: { width: 1100, height: 800 } })).newPage();
    dir = await mkdtemp(path.join(os.tmpdir(), 'reprise-batch-'));
    await copyFile(await fixtures.wav(), path.join(dir, 'First tone.wav'));
    await copyFile(await fixtures.mp3WithCover(), path.join(dir, 'Second tone.mp3'));
    await copyFile(await fixtures.text(), path.join(dir, 'notes.txt'));
    await copyFile(await fixtures.longWav(), path.join(dir, 'Long A.wav'));
    await copyFile(await fixtures.longWav(), path.join(dir, 'Long B.wav'));
    await mkdir(path.join(dir, 'album'));
    await copyFile(await fixtures.wav(), path.join(dir, 'album', 'Track 1.wav'));
    await copyFile(await fixtures.hiRes(), path.join(dir, 'album', 'Track 2.flac'));
    await signUpInBrowser(page, srv.url, 'robin');
  });
  after(async () => {
    await browser?.close();
    await srv?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('uploads three picked files, each with its own bar; the text file is refused with its reason', async () => {
    await watchConcurrency(page);
    await page.getByLabel('Audio file').setInputFiles(['First tone.wav', 'Second tone.mp3', 'notes.txt'].map((n) => path.join(dir, n)));
    await page.getByRole('button', { name: 'Upload and transcode' }).click();
    const rows = await settled(page, [['First tone.wav', 'done'], ['Second tone.mp3', 'done'], ['notes.txt', 'refused']]);
    assert.equal(page.url(), `${srv.url}/files`, 'a batch stays on the page');
    const byName = new Map(rows.map((r) => [r.name, r]));
    for (const name of ['First tone.wav', 'Second tone.mp3']) {
      assert.equal(byName.get(name)?.state, 'done', name);
      assert.equal(byName.get(name)?.bar, 100, `${name} filled its own bar`);
    }
    const refused = byName.get('notes.txt');
    assert.equal(refused?.state, 'refused');
    assert.match(refused?.text ?? '', /audio/i, 'the server\'s reason is shown');
    assert.equal(await page.locator('[data-batch-item] progress').count(), 3);
    const most = await maxUploading(page);
    assert.ok(most >= 1 && most <= 2, `at most two at once (saw ${most})`);

    // Each file is named after its own file, and transcodes with the batch's presets.
    for (const name of ['First tone.wav', 'Second tone.mp3']) assert.equal((await completedNamed(name)).status, 'completed', name);
    await page.locator('tr', { hasText: 'Second tone.mp3' }).getByText('completed').waitFor();
    await screenshot(page, 'batch-desktop');
  });

  it('uploads a whole folder picked with the folder input', async () => {
    await page.getByLabel('Or a whole folder').setInputFiles(path.join(dir, 'album'));
    await page.getByRole('button', { name: 'Upload and transcode' }).click();
    const rows = await settled(page, [['First tone.wav', 'done'], ['Second tone.mp3', 'done'], ['notes.txt', 'refused'], ['album/Track 1.wav', 'done'], ['album/Track 2.flac', 'done']]);
    assert.deepEqual(rows.slice(3).map((r) => r.bar), [100, 100]);
    for (const name of ['Track 1.wav', 'Track 2.flac']) assert.equal((await completedNamed(name)).status, 'completed', name);
  });

  it('takes files dropped onto the page, on a phone-sized screen', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.reload();
    await page.evaluate(dropTwoFiles);
    const rows = await settled(page, [['Dropped tone.wav', 'done'], ['readme.txt', 'refused']]);
    assert.match(rows[1]?.text ?? '', /audio/i);
    assert.equal((await completedNamed('Dropped tone.wav')).status, 'completed');
    await screenshot(page, 'batch-phone');
    await page.setViewportSize({ width: 1100, height: 800 });
  });

  it('deletes two chosen files from the list', async () => {
    await page.goto(`${srv.url}/files`);
    await page.getByLabel('Choose First tone.wav').check();
    await page.getByLabel('Choose Second tone.mp3').check();
    page.once('dialog', (dialog) => void dialog.accept());
    await page.getByRole('button', { name: 'Delete selected' }).click();
    await page.getByText('2 files deleted with their outputs.').waitFor();
    assert.equal(await page.getByRole('link', { name: 'First tone.wav', exact: true }).count(), 0);
    assert.equal(await page.getByRole('link', { name: 'Second tone.mp3', exact: true }).count(), 0);
    assert.equal(await page.getByRole('link', { name: 'Track 1.wav', exact: true }).count(), 1, 'the others stay');
    await screenshot(page, 'batch-after-delete');
  });

  it('aborts one upload of a batch and keeps going with the others', async () => {
    await page.goto(`${srv.url}/files`);
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Network.enable');
    // Slow enough that the first upload is still under way when it is aborted.
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 1024 * 1024 });
    try {
      await page.getByLabel('Audio file').setInputFiles(['Long A.wav', 'Long B.wav', 'First tone.wav'].map((n) => path.join(dir, n)));
      await page.getByRole('button', { name: 'Upload and transcode' }).click();
      await page.waitForFunction(() => /\d+% ·/.test(document.querySelector('[data-batch-item] [data-batch-text]')?.textContent ?? ''));
      await page.getByRole('button', { name: 'Abort Long A.wav' }).click();
    } finally {
      await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
    }
    const rows = await settled(page, [['Long A.wav', 'aborted'], ['Long B.wav', 'done'], ['First tone.wav', 'done']]);
    assert.match(rows[0]?.text ?? '', /Nothing was kept/);
    const user = await srv.app.deps.store.users.findByUsername('robin');
    const names = user ? (await srv.app.deps.store.files.listForUser(user.id)).map((f) => f.name) : [];
    assert.ok(!names.includes('Long A.wav'), 'no file for the aborted upload');
    assert.ok(names.includes('Long B.wav'));
  });
});
