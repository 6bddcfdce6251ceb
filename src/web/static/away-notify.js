// A system notification when a job ends while this tab is in the background (the Notifications
// API). Permission is asked only from a click on the settings page, never on load.
(() => {
  'use strict';
  const supported = 'Notification' in window;

  // app.js passes on each notification.created event from the live stream.
  document.addEventListener('reprise:notification', (event) => {
    const n = event.detail;
    if (!supported || !document.hidden || Notification.permission !== 'granted' || !n) return;
    const title = n.kind === 'failed' ? 'Reprise: a job failed' : 'Reprise: a job is done';
    // One tag per notification: several background tabs of one user show it once.
    const shown = new Notification(title, { body: String(n.message ?? ''), tag: `reprise-${n.id}`, icon: '/static/favicon.svg' });
    shown.addEventListener('click', () => {
      window.focus();
      if (n.fileId) location.assign(`/files/${encodeURIComponent(n.fileId)}`);
      shown.close();
    });
  });

  // ---- The settings page: say where things stand, and ask on a click.
  const state = document.querySelector('[data-browser-notify-state]');
  const ask = document.querySelector('[data-browser-notify-ask]');
  if (!state || !ask) return;
  const texts = {
    granted: 'Allowed: a background Reprise tab shows a notification when a job ends.',
    denied: 'Blocked in this browser. Allow notifications for this site in the browser’s site settings to use them.',
    default: 'Not asked yet.',
  };
  const show = () => {
    const permission = supported ? Notification.permission : 'unsupported';
    state.textContent = texts[permission] ?? 'This browser cannot show notifications.';
    state.dataset.permission = permission;
    ask.hidden = permission !== 'default';
  };
  ask.addEventListener('click', async () => {
    ask.disabled = true;
    try {
      await Notification.requestPermission();
    } finally {
      ask.disabled = false;
      show();
    }
  });
  show();
})();
