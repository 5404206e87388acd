// Library: choose folders, scan with progress (count, rate, ETA, errors), summary.

import { chooseFolders, invoke, listen } from './api.js';
import { $, el, say, guarded, duration, bytes, fillCounts, photos } from './util.js';

const KEY = 'precious.folders';
let folders = JSON.parse(localStorage.getItem(KEY) || '[]');
let scanning = false;

function saveFolders() {
  localStorage.setItem(KEY, JSON.stringify(folders));
  renderFolders();
}

function renderFolders() {
  $('#folders').replaceChildren(...folders.map((f) => el('li', {},
    el('span', { class: 'path', text: f }),
    el('button', {
      type: 'button', class: 'link', text: 'Remove', 'aria-label': `Remove ${f}`,
      onclick: () => { folders = folders.filter((x) => x !== f); saveFolders(); },
    }))));
  $('#scan-start').disabled = scanning || folders.length === 0;
  $('#scan-start').textContent = folders.length ? `Scan ${folders.length} folder${folders.length > 1 ? 's' : ''}` : 'Scan';
}

function onProgress(p) {
  $('#scan-progress').hidden = false;
  const bar = $('#scan-bar');
  const text = $('#scan-text');
  if (p.phase === 'listing') {
    bar.removeAttribute('value');
    text.textContent = `Listing files… ${p.listed} found`;
    return;
  }
  bar.max = Math.max(1, p.to_index);
  bar.value = p.done;
  const parts = [`${p.done} of ${p.to_index} new or changed photos`, `${p.listed} listed`];
  if (p.rate > 0) parts.push(`${p.rate.toFixed(1)} photos/s`);
  if (p.eta_s != null && p.done < p.to_index) parts.push(`about ${duration(p.eta_s)} left`);
  if (p.failed) parts.push(`${p.failed} could not be read`);
  if (p.phase === 'finishing') parts.push('finishing…');
  text.textContent = parts.join(' · ');
}

async function scan() {
  scanning = true;
  renderFolders();
  $('#scan-cancel').hidden = false;
  $('#scan-summary').replaceChildren();
  onProgress({ phase: 'listing', listed: 0 });
  const r = await guarded(() => invoke('scan', { folders }));
  scanning = false;
  $('#scan-cancel').hidden = true;
  renderFolders();
  if (r) {
    $('#scan-bar').max = 1;
    $('#scan-bar').value = 1;
    const summary = [
      ['Listed', r.listed], ['Unchanged', r.unchanged], ['Indexed', r.indexed], ['Moved', r.moved],
      ['Duplicates', r.duplicates], ['Failed', r.failed], ['Unsupported', r.unsupported], ['Gone', r.gone],
      ['Time', duration(r.elapsed_s)],
    ];
    const dl = el('dl', { class: 'counts' });
    fillCounts(dl, summary);
    $('#scan-summary').replaceChildren(el('h3', { text: r.cancelled ? 'Scan cancelled' : 'Scan finished' }), dl);
    say(r.cancelled ? 'Scan cancelled; what was indexed is kept.' : `Scan finished: ${photos(r.indexed)} indexed.`);
  }
  await refreshCounts();
}

async function refreshCounts() {
  const s = await guarded(() => invoke('status'));
  if (!s) return;
  fillCounts($('#library-counts'), [
    ['Photos', s.photos.indexed], ['Could not index', s.photos.failed + s.photos.unsupported],
    ['Gone', s.photos.gone], ['Labeled keep', s.labels.keep], ['Labeled delete', s.labels.delete],
    ['Database', bytes(s.db_bytes)],
  ]);
  $('#library-errors-box').hidden = s.errors.length === 0;
  $('#library-errors-title').textContent = `${s.errors.length} files could not be indexed`;
  $('#library-errors').replaceChildren(...s.errors.map((e) => el('li', {},
    el('span', { class: 'path', text: e.path }), el('span', { class: 'reason', text: e.reason }))));
  if (s.busy === 'scan' && !scanning) {
    $('#scan-progress').hidden = false;
    $('#scan-cancel').hidden = false;
  }
}

export function init() {
  $('#choose-folders').addEventListener('click', async () => {
    const chosen = await guarded(chooseFolders);
    if (!chosen) return;
    folders = [...new Set([...folders, ...chosen])];
    saveFolders();
  });
  $('#scan-start').addEventListener('click', scan);
  $('#scan-cancel').addEventListener('click', () => guarded(() => invoke('cancel_scan')));
  listen('scan-progress', onProgress);
  renderFolders();
}

export function show() {
  refreshCounts();
}
