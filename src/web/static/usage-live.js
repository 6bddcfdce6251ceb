// Keeps the usage bars of the page (views/usage.eta) right without a reload: when a file is
// added, finishes, fails, is canceled or deleted (the live stream's file.updated, passed on by
// app.js) or a batch upload ends here, re-read GET /api/v1/usage and redraw the bars in place.
// Without this script the bars drawn by the server are right as of each load.
(() => {
  'use strict';
  const region = document.querySelector('[data-usage-live]');
  if (!region) return;
  const warnAt = Number(region.dataset.warnAt) / 100;

  // The same wording as src/format.ts formatBytes (1024-based, one decimal under 10); the
  // browser test compares a redrawn bar with the server's after a reload.
  const formatBytes = (n) => {
    const units = ['B', 'KB', 'MB', 'GB', 'TB'];
    let v = n;
    let i = 0;
    while (v >= 1024 && i < units.length - 1) {
      v /= 1024;
      i++;
    }
    return `${v >= 10 || i === 0 ? Math.round(v) : v.toFixed(1)} ${units[i]}`;
  };

  /** Each bar from the API's answer, as src/web/usage-view.ts computes it. */
  function barsOf(u) {
    const resetAt = new Date(u.filesToday.resetAt).toISOString().slice(11, 16);
    const reserved = u.storage.reservedBytes;
    return {
      storage: { used: u.storage.usedBytes + reserved, quota: u.storage.quotaBytes, show: formatBytes, note: reserved > 0 ? `${formatBytes(reserved)} held for uploads under way` : '' },
      filesToday: { used: u.filesToday.count, quota: u.filesToday.quota, show: String, note: `the count starts again at ${resetAt} UTC` },
      queuedJobs: { used: u.queuedJobs.count, quota: u.queuedJobs.quota, show: String, note: '' },
    };
  }

  function draw(item, { used, quota, show, note }) {
    const limited = quota !== null;
    const share = limited ? used / quota : 0;
    const percent = limited ? Math.min(100, Math.floor(share * 100)) : 0;
    const warn = limited && share >= warnAt;
    const full = limited && share >= 1;
    const meter = item.querySelector('meter');
    meter.hidden = !limited;
    meter.value = percent;
    meter.textContent = `${percent}%`;
    item.querySelector('[data-usage-text]').textContent = limited ? `${show(used)} of ${show(quota)}` : `${show(used)} (no limit)`;
    const noteEl = item.querySelector('[data-usage-note]');
    noteEl.textContent = limited ? note : '';
    noteEl.hidden = !limited || note === '';
    item.classList.toggle('usage-warn', warn);
    item.classList.toggle('usage-full', full);
    const alert = item.querySelector('[data-usage-alert]');
    const message = full ? item.dataset.alertFull : warn ? item.dataset.alertWarn : '';
    // Only touched when it changes, so a screen reader hears a warning once, not on every redraw.
    if (alert.textContent !== message) alert.textContent = message;
    alert.hidden = message === '';
  }

  let timer = null;
  async function refresh() {
    timer = null;
    const res = await fetch('/api/v1/usage', { credentials: 'same-origin', headers: { accept: 'application/json' } });
    if (!res.ok) return;
    const bars = barsOf(await res.json());
    for (const item of region.querySelectorAll('[data-usage-bar]')) {
      const bar = bars[item.dataset.usageBar];
      if (bar) draw(item, bar);
    }
    region.dataset.usageRefreshed = String(Number(region.dataset.usageRefreshed ?? 0) + 1);
  }
  // Several files of a batch end together: one request for all of them.
  const soon = () => {
    if (timer === null) timer = setTimeout(() => void refresh().catch(() => undefined), 250);
  };

  // Progress of a running job changes nothing here; every other update may (a new file, outputs
  // stored, a job ended, a file deleted).
  document.addEventListener('reprise:file-updated', ({ detail: f }) => {
    if (f.status !== 'running') soon();
  });
  document.addEventListener('reprise:files-changed', soon);
})();
