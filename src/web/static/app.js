// Progressive enhancement: every form and link here works without this script.
(() => {
  'use strict';
  const csrf = document.querySelector('meta[name="csrf-token"]')?.content ?? '';
  const $ = (selector, root = document) => root.querySelector(selector);
  const $$ = (selector, root = document) => [...root.querySelectorAll(selector)];

  const post = (url, body) =>
    fetch(url, { method: 'POST', headers: { 'x-csrf-token': csrf, accept: 'application/json' }, body, credentials: 'same-origin' });

  // ---- Notifications: dismiss without reloading; add and remove as events arrive.
  const area = $('[data-notifications]');
  const list = $('[data-notification-list]');

  function syncNotificationArea() {
    if (!area) return;
    const count = $$('[data-notification-id]', area).length;
    area.classList.toggle('is-empty', count === 0);
    const all = $('[data-dismiss-all]', area);
    if (all) all.hidden = count < 2;
  }

  function removeNotifications(ids) {
    $$('[data-notification-id]').forEach((li) => {
      if (ids === null || ids.includes(li.dataset.notificationId)) li.remove();
    });
    syncNotificationArea();
  }

  function addNotification(n) {
    if (!list || $(`[data-notification-id="${CSS.escape(n.id)}"]`)) return;
    const li = document.createElement('li');
    li.className = `notification notification-${n.kind === 'failed' || n.kind === 'expiring' ? n.kind : 'completed'}`;
    li.dataset.notificationId = n.id;
    const icon = document.createElement('span');
    icon.className = 'notification-icon';
    icon.setAttribute('aria-hidden', 'true');
    icon.textContent = n.kind === 'completed' ? '✓' : '!';
    const text = document.createElement('span');
    text.className = 'notification-text';
    const link = document.createElement(n.fileId ? 'a' : 'span');
    if (n.fileId) link.href = `/files/${encodeURIComponent(n.fileId)}`;
    link.textContent = n.message;
    text.append(link);
    const form = document.createElement('form');
    form.method = 'post';
    form.action = `/notifications/${encodeURIComponent(n.id)}/dismiss`;
    form.className = 'inline';
    form.dataset.dismiss = '';
    const token = Object.assign(document.createElement('input'), { type: 'hidden', name: '_csrf', value: csrf });
    const next = Object.assign(document.createElement('input'), { type: 'hidden', name: 'next', value: location.pathname });
    const button = Object.assign(document.createElement('button'), { type: 'submit', className: 'icon-button', textContent: '×' });
    button.setAttribute('aria-label', `Dismiss: ${n.message}`);
    form.append(token, next, button);
    li.append(icon, text, form);
    list.prepend(li);
    syncNotificationArea();
  }

  document.addEventListener('submit', async (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement)) return;
    // A form's buttons may ask different questions (the files list: download, retry, delete).
    const question = event.submitter?.dataset.confirm ?? form.dataset.confirm;
    if (question && !window.confirm(question)) {
      event.preventDefault();
      return;
    }
    if (!form.matches('[data-dismiss], [data-dismiss-all]')) return;
    event.preventDefault();
    const res = await post(form.action, new URLSearchParams(new FormData(form)));
    if (!res.ok) return form.submit();
    if (form.matches('[data-dismiss-all]')) removeNotifications(null);
    else removeNotifications([form.closest('[data-notification-id]')?.dataset.notificationId]);
  });

  // ---- Upload with a progress bar (bytes, percent, speed) and an abort button.
  const uploadForm = $('[data-upload]');
  if (uploadForm) {
    const box = $('[data-upload-progress]', uploadForm);
    const bar = $('progress', box);
    const text = $('[data-upload-text]', box);
    const abortButton = $('[data-upload-abort]', box);
    const submit = $('button[type="submit"]', uploadForm);
    const mb = (n) => `${(n / 1048576).toFixed(1)} MB`;
    const done = (message) => {
      submit.disabled = false;
      box.hidden = true;
      let error = $('.error', uploadForm);
      if (!error) {
        error = Object.assign(document.createElement('p'), { className: 'error' });
        error.setAttribute('role', 'alert');
        uploadForm.prepend(error);
      }
      error.textContent = message;
    };
    const showProgress = (loaded, total, started) => {
      const pct = Math.floor((loaded / total) * 100);
      const secs = Math.max((performance.now() - started) / 1000, 0.001);
      bar.value = pct;
      text.textContent = `${mb(loaded)} of ${mb(total)} · ${pct}% · ${mb(loaded / secs)}/s`;
    };
    const problemDetail = (body) => {
      try { return JSON.parse(body).detail; } catch { return undefined; }
    };

    // Resumable (tus) when its client loaded: a dropped connection retries and resumes, and
    // choosing the same file again after a reload continues where it stopped.
    const uploadResumable = (file) => {
      const started = performance.now();
      const presets = [...uploadForm.querySelectorAll('input[name="presets"]:checked')].map((i) => i.value).join(',');
      const name = uploadForm.querySelector('input[name="name"]').value.trim();
      // The loudness option and the trim travel as metadata under the same names as the form's fields.
      const options = {};
      for (const field of ['loudness', 'loudnessI', 'loudnessTP', 'loudnessLRA', 'start', 'end']) {
        const input = uploadForm.querySelector(`[name="${field}"]`);
        if (input && !input.disabled && input.value.trim() !== '') options[field] = input.value.trim();
      }
      const upload = new window.tus.Upload(file, {
        endpoint: '/api/v1/uploads',
        retryDelays: [0, 1000, 3000, 5000, 10000],
        headers: { 'x-csrf-token': csrf },
        metadata: { filename: file.name, ...(name ? { name } : {}), ...(presets ? { presets } : {}), ...options },
        removeFingerprintOnSuccess: true,
        onProgress: (loaded, total) => showProgress(loaded, total, started),
        onSuccess: ({ lastResponse }) => location.assign(`/files/${encodeURIComponent(lastResponse.getHeader('Reprise-File-Id'))}`),
        onError: (err) => {
          const detail = err.originalResponse ? problemDetail(err.originalResponse.getBody()) : undefined;
          done(detail || 'The upload was interrupted. Choose the same file again to resume where it stopped.');
        },
      });
      abortButton.onclick = () => {
        upload.abort(true).then(() => done('Upload aborted. Nothing was kept.'), () => done('Upload aborted.'));
      };
      upload.findPreviousUploads().then((previous) => {
        if (previous.length > 0) upload.resumeFromPreviousUpload(previous[0]);
        upload.start();
      });
    };

    const uploadWhole = () => {
      const xhr = new XMLHttpRequest();
      const started = performance.now();
      xhr.open('POST', uploadForm.action);
      xhr.setRequestHeader('accept', 'application/json');
      xhr.setRequestHeader('x-csrf-token', csrf);
      xhr.upload.onprogress = (e) => {
        if (e.lengthComputable) showProgress(e.loaded, e.total, started);
      };
      xhr.onload = () => {
        let body = {};
        try { body = JSON.parse(xhr.responseText); } catch { /* not JSON */ }
        if (xhr.status === 201 && body.url) return location.assign(body.url);
        done(body.detail || `Upload failed (HTTP ${xhr.status}).`);
      };
      xhr.onerror = () => done('The upload was interrupted. Check your connection and try again.');
      xhr.onabort = () => done('Upload aborted. Nothing was kept.');
      abortButton.onclick = () => xhr.abort();
      xhr.send(new FormData(uploadForm));
    };

    uploadForm.addEventListener('submit', (event) => {
      event.preventDefault();
      const file = uploadForm.querySelector('input[type="file"]').files[0];
      if (!file) return;
      box.hidden = false;
      submit.disabled = true;
      text.textContent = 'Starting…';
      if (window.tus && window.tus.isSupported) uploadResumable(file);
      else uploadWhole();
    });
  }

  // ---- Files: progress in place; anything else re-reads the page's live regions.
  let refreshing = null;
  function refreshLiveRegions() {
    if (refreshing) return;
    refreshing = setTimeout(async () => {
      refreshing = null;
      const res = await fetch(location.href, { credentials: 'same-origin', headers: { accept: 'text/html' } });
      if (!res.ok) return;
      const fresh = new DOMParser().parseFromString(await res.text(), 'text/html');
      $$('[data-live]').forEach((region) => {
        const next = fresh.querySelector(`[data-live="${region.dataset.live}"]`);
        if (next) region.replaceWith(document.importNode(next, true));
      });
    }, 150);
  }

  function fileUpdated(f) {
    // Batch upload rows (batch-upload.js) follow their files too: a job can still refuse a file.
    document.dispatchEvent(new CustomEvent('reprise:file-updated', { detail: f }));
    const scope = $(`[data-file-id="${CSS.escape(f.id)}"]`);
    // A file not shown belongs here only on the newest page (new uploads) or when it may now
    // match the status filter; an older page keeps its rows until the user pages.
    const fileList = $('[data-live="files"]');
    if (!scope) {
      if (fileList && (fileList.hasAttribute('data-first-page') || fileList.dataset.filter === f.status)) refreshLiveRegions();
      return;
    }
    const status = $('[data-status]', scope);
    const inPlace = f.status === 'running' && status && (status.textContent === 'running' || status.textContent === 'queued') && $('[data-progress]', scope);
    if (!inPlace) return refreshLiveRegions();
    status.textContent = 'running';
    status.className = 'status status-running';
    $('[data-progress]', scope).value = f.progress;
    const percent = $('[data-percent]', scope);
    if (percent) percent.textContent = `${f.progress}%`;
  }

  // A batch upload (batch-upload.js) finished a file: show it in the list without waiting for events.
  document.addEventListener('reprise:files-changed', () => {
    if ($('[data-live="files"][data-first-page]')) refreshLiveRegions();
  });

  // ---- The live stream: one EventSource per tab; the browser resumes with Last-Event-ID.
  if (area && 'EventSource' in window) {
    const source = new EventSource('/api/v1/events');
    const parse = (e) => JSON.parse(e.data);
    source.addEventListener('notification.created', (e) => {
      const n = parse(e);
      addNotification(n);
      // away-notify.js tells the system when this tab is in the background.
      document.dispatchEvent(new CustomEvent('reprise:notification', { detail: n }));
    });
    source.addEventListener('notification.dismissed', (e) => removeNotifications(parse(e).ids));
    source.addEventListener('file.updated', (e) => fileUpdated(parse(e)));
    source.addEventListener('ready', () => document.documentElement.classList.add('live'));
    window.addEventListener('pagehide', () => source.close());
  }
})();
