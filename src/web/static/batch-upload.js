// Several files, or a folder, at once: picked or dropped onto the page. One choice of presets and
// loudness and trim apply to all; each file is its own resumable (tus) upload with its own row, progress
// bar and abort button, and a refused file says why without stopping the others. Only
// RUNNING_AT_ONCE upload at a time so one slow file does not starve the rest of the connection.
// Without this script (or without tus) the form sends one file, as it always has.
(() => {
  'use strict';
  const form = document.querySelector('[data-upload]');
  if (!form || !window.tus || !window.tus.isSupported) return;
  const RUNNING_AT_ONCE = 2;
  const csrf = document.querySelector('meta[name="csrf-token"]')?.content ?? '';
  const fileInput = form.querySelector('input[type="file"][name="file"]');
  const mb = (n) => `${(n / 1048576).toFixed(1)} MB`;

  // The picker takes several files; a second picker takes a folder (not in the plain form, whose
  // server side accepts one file per request).
  fileInput.multiple = true;
  const folderLabel = Object.assign(document.createElement('label'), { className: 'grow folder-pick' });
  const folderInput = Object.assign(document.createElement('input'), { type: 'file', multiple: true });
  folderInput.setAttribute('webkitdirectory', '');
  folderInput.dataset.folderInput = '';
  folderLabel.append('Or a whole folder ', folderInput);
  fileInput.closest('label').after(folderLabel);
  const hint = Object.assign(document.createElement('p'), { className: 'muted drop-hint', textContent: 'You can also drop files or folders anywhere on this page. With several files, each keeps its own file name.' });
  form.querySelector('.row').after(hint);

  const list = Object.assign(document.createElement('ul'), { className: 'batch-list' });
  list.dataset.batch = '';
  list.setAttribute('aria-label', 'Uploads');
  list.hidden = true;
  form.append(list);

  /** What every file of the batch is sent with, read when the batch starts. */
  function batchOptions() {
    const metadata = {};
    const presets = [...form.querySelectorAll('input[name="presets"]:checked')].map((i) => i.value).join(',');
    if (presets) metadata.presets = presets;
    for (const field of ['loudness', 'loudnessI', 'loudnessTP', 'loudnessLRA', 'start', 'end']) {
      const input = form.querySelector(`[name="${field}"]`);
      if (input && !input.disabled && input.value.trim() !== '') metadata[field] = input.value.trim();
    }
    return metadata;
  }

  const problemDetail = (body) => {
    try { return JSON.parse(body).detail; } catch { return undefined; }
  };

  const waiting = [];
  let running = 0;

  function addRow(file) {
    const li = Object.assign(document.createElement('li'), { className: 'batch-item' });
    li.dataset.batchItem = file.name;
    const name = Object.assign(document.createElement('span'), { className: 'batch-name', textContent: file.webkitRelativePath || file.name });
    const bar = Object.assign(document.createElement('progress'), { max: 100, value: 0 });
    bar.setAttribute('aria-label', `Progress of ${file.name}`);
    const text = Object.assign(document.createElement('span'), { className: 'batch-text muted', textContent: 'Waiting…' });
    text.dataset.batchText = '';
    const abort = Object.assign(document.createElement('button'), { type: 'button', className: 'link-button', textContent: 'Abort' });
    abort.setAttribute('aria-label', `Abort ${file.name}`);
    li.append(name, bar, text, abort);
    list.append(li);
    list.hidden = false;
    return { li, bar, text, abort };
  }

  function finish(row, state, message, link) {
    row.li.dataset.state = state;
    row.li.classList.add(`batch-${state}`);
    row.abort.remove();
    row.text.textContent = message;
    row.text.setAttribute('role', state === 'refused' ? 'alert' : 'status');
    if (link) row.text.append(' ', Object.assign(document.createElement('a'), { href: link, textContent: 'Open' }));
    running -= 1;
    next();
    document.dispatchEvent(new CustomEvent('reprise:files-changed'));
  }

  function start({ file, row, metadata }) {
    running += 1;
    row.li.dataset.state = 'uploading';
    row.text.textContent = 'Starting…';
    const started = performance.now();
    const upload = new window.tus.Upload(file, {
      endpoint: '/api/v1/uploads',
      retryDelays: [0, 1000, 3000, 5000, 10000],
      headers: { 'x-csrf-token': csrf },
      metadata: { filename: file.name, ...metadata },
      removeFingerprintOnSuccess: true,
      onProgress: (loaded, total) => {
        const pct = Math.floor((loaded / total) * 100);
        const secs = Math.max((performance.now() - started) / 1000, 0.001);
        row.bar.value = pct;
        row.text.textContent = `${mb(loaded)} of ${mb(total)} · ${pct}% · ${mb(loaded / secs)}/s`;
      },
      onSuccess: ({ lastResponse }) => {
        row.bar.value = 100;
        const id = lastResponse.getHeader('Reprise-File-Id');
        row.li.dataset.fileId = id;
        finish(row, 'done', 'Uploaded; transcoding is queued.', `/files/${encodeURIComponent(id)}`);
      },
      onError: (err) => {
        const detail = err.originalResponse ? problemDetail(err.originalResponse.getBody()) : undefined;
        finish(row, 'refused', detail || 'The upload was interrupted. Drop or choose the same file again to resume.');
      },
    });
    row.abort.onclick = () => {
      row.abort.disabled = true;
      const done = () => finish(row, 'aborted', 'Aborted. Nothing was kept.');
      upload.abort(true).then(done, done);
    };
    upload.findPreviousUploads().then((previous) => {
      if (previous.length > 0) upload.resumeFromPreviousUpload(previous[0]);
      upload.start();
    });
  }

  // With remote storage the server reads the file only in its job, so "not audio" can arrive
  // after the upload finished, as the file's failure (app.js passes the live events on).
  document.addEventListener('reprise:file-updated', ({ detail: f }) => {
    const li = f.status === 'failed' && list.querySelector(`[data-file-id="${CSS.escape(f.id)}"]`);
    if (!li || li.dataset.state !== 'done') return;
    li.dataset.state = 'refused';
    li.classList.replace('batch-done', 'batch-refused');
    const text = li.querySelector('[data-batch-text]');
    text.textContent = f.error || 'The file was refused.';
    text.setAttribute('role', 'alert');
  });

  function next() {
    while (running < RUNNING_AT_ONCE && waiting.length > 0) start(waiting.shift());
  }

  /** Queues each file with the batch's options; a waiting file can be taken out of line. */
  function addFiles(files) {
    const metadata = batchOptions();
    // Hidden files a folder carries along (.DS_Store, ._*) are not anyone's audio.
    for (const file of files.filter((f) => !f.name.startsWith('.'))) {
      const row = addRow(file);
      const item = { file, row, metadata };
      row.abort.onclick = () => {
        waiting.splice(waiting.indexOf(item), 1);
        running += 1; // finish() counts a slot back for every row it closes
        finish(row, 'aborted', 'Taken out of the line.');
      };
      waiting.push(item);
    }
    next();
  }

  // One file picked the usual way goes the single-file path in app.js (it opens the file's page);
  // several, or a folder, go here and stay on this page.
  form.addEventListener('submit', (event) => {
    const files = [...fileInput.files, ...folderInput.files];
    if (files.length < 2 && folderInput.files.length === 0) return;
    event.preventDefault();
    event.stopImmediatePropagation();
    addFiles(files);
    fileInput.value = '';
    folderInput.value = '';
  }, { capture: true });
  // A folder is enough on its own: the file input's `required` only guards the plain form.
  folderInput.addEventListener('change', () => { fileInput.required = folderInput.files.length === 0; });

  // ---- Dropping files and folders onto the page. Entries are read while the drop event's data
  // is still available, then the folders are walked.
  const readEntries = (reader) => new Promise((resolve, reject) => reader.readEntries(resolve, reject));
  const fileOf = (entry) => new Promise((resolve, reject) => entry.file(resolve, reject));
  async function filesOf(entry) {
    if (entry.isFile) return [await fileOf(entry)];
    const reader = entry.createReader();
    const out = [];
    // readEntries answers in chunks (100 at a time in Chromium) until it answers nothing.
    for (let chunk = await readEntries(reader); chunk.length > 0; chunk = await readEntries(reader)) {
      for (const child of chunk) out.push(...(await filesOf(child)));
    }
    return out;
  }

  const carriesFiles = (event) => [...(event.dataTransfer?.types ?? [])].includes('Files');
  document.addEventListener('dragover', (event) => {
    if (!carriesFiles(event)) return;
    event.preventDefault();
    document.documentElement.classList.add('dragging-files');
  });
  document.addEventListener('dragleave', (event) => {
    if (event.relatedTarget === null) document.documentElement.classList.remove('dragging-files');
  });
  document.addEventListener('drop', async (event) => {
    if (!carriesFiles(event)) return;
    event.preventDefault();
    document.documentElement.classList.remove('dragging-files');
    const items = [...event.dataTransfer.items].filter((i) => i.kind === 'file');
    const entries = items.map((i) => (i.webkitGetAsEntry ? i.webkitGetAsEntry() : null));
    const plain = items.map((i) => i.getAsFile());
    const files = [];
    for (const [index, entry] of entries.entries()) {
      if (entry) files.push(...(await filesOf(entry)));
      else if (plain[index]) files.push(plain[index]);
    }
    if (files.length > 0) addFiles(files);
  });
})();
