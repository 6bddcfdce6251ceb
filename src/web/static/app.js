// Progressive enhancement: every form here works without this script.
(() => {
  'use strict';
  const csrf = document.querySelector('meta[name="csrf-token"]')?.content ?? '';

  const post = (url, body) =>
    fetch(url, { method: 'POST', headers: { 'x-csrf-token': csrf, accept: 'application/json' }, body, credentials: 'same-origin' });

  // Dismiss without a reload.
  document.addEventListener('submit', async (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement)) return;
    if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
      return;
    }
    if (form.matches('[data-dismiss], [data-dismiss-all]')) {
      event.preventDefault();
      const res = await post(form.action, new URLSearchParams(new FormData(form)));
      if (!res.ok) return form.submit();
      if (form.matches('[data-dismiss-all]')) removeNotifications(null);
      else removeNotifications([form.closest('[data-notification-id]')?.dataset.notificationId]);
    }
  });

  function removeNotifications(ids) {
    const area = document.querySelector('[data-notifications]');
    if (!area) return;
    area.querySelectorAll('[data-notification-id]').forEach((li) => {
      if (ids === null || ids.includes(li.dataset.notificationId)) li.remove();
    });
    if (!area.querySelector('[data-notification-id]')) area.replaceChildren();
    else if (area.querySelectorAll('[data-notification-id]').length < 2) area.querySelector('[data-dismiss-all]')?.remove();
  }

  // Upload with a progress bar (bytes, percent, speed) and an abort button.
  const form = document.querySelector('[data-upload]');
  if (form) {
    const box = form.querySelector('[data-upload-progress]');
    const bar = box.querySelector('progress');
    const text = box.querySelector('[data-upload-text]');
    const abortButton = box.querySelector('[data-upload-abort]');
    const submit = form.querySelector('button[type="submit"]');
    const mb = (n) => (n / 1048576).toFixed(1) + ' MB';
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const xhr = new XMLHttpRequest();
      const started = performance.now();
      xhr.open('POST', form.action);
      xhr.setRequestHeader('accept', 'application/json');
      xhr.setRequestHeader('x-csrf-token', csrf);
      xhr.upload.onprogress = (e) => {
        if (!e.lengthComputable) return;
        const pct = Math.floor((e.loaded / e.total) * 100);
        const secs = (performance.now() - started) / 1000;
        bar.value = pct;
        text.textContent = `${mb(e.loaded)} of ${mb(e.total)} · ${pct}% · ${mb(e.loaded / Math.max(secs, 0.001))}/s`;
      };
      xhr.onload = () => {
        let body = {};
        try { body = JSON.parse(xhr.responseText); } catch { /* not JSON */ }
        if (xhr.status === 201 && body.url) return window.location.assign(body.url);
        done(body.detail || `Upload failed (HTTP ${xhr.status}).`);
      };
      xhr.onerror = () => done('The upload was interrupted. Check your connection and try again.');
      xhr.onabort = () => done('Upload aborted.');
      abortButton.onclick = () => xhr.abort();
      box.hidden = false;
      submit.disabled = true;
      text.textContent = 'Starting…';
      xhr.send(new FormData(form));
    });
    function done(message) {
      submit.disabled = false;
      box.hidden = true;
      let error = form.querySelector('.error');
      if (!error) {
        error = document.createElement('p');
        error.className = 'error';
        error.setAttribute('role', 'alert');
        form.prepend(error);
      }
      error.textContent = message;
    }
  }

  // While a job is queued or running, refresh its status from the API.
  const active = document.querySelector('[data-file-status="queued"], [data-file-status="running"]');
  const rows = document.querySelectorAll('tr[data-file-id]');
  if (active || [...rows].some((r) => r.querySelector('.status-queued, .status-running'))) {
    const timer = setInterval(async () => {
      const res = await fetch(active ? `/api/v1/files/${active.dataset.fileId}` : '/api/v1/files', { credentials: 'same-origin' });
      if (!res.ok) return clearInterval(timer);
      const body = await res.json();
      const files = active ? [body] : body.files;
      let busy = false;
      for (const f of files) {
        const scope = active ?? document.querySelector(`tr[data-file-id="${f.id}"]`);
        if (!scope) continue;
        const status = scope.querySelector('[data-status]');
        if (status && status.textContent !== f.status) {
          if (active) return window.location.reload();
          status.textContent = f.status;
          status.className = `status status-${f.status}`;
        }
        const progress = scope.querySelector('[data-progress]');
        if (progress) progress.value = f.progress;
        const percent = scope.querySelector('[data-percent]');
        if (percent) percent.textContent = `${f.progress}%`;
        busy ||= f.status === 'queued' || f.status === 'running';
      }
      if (!busy) {
        clearInterval(timer);
        window.location.reload();
      }
    }, 1500);
  }
})();
