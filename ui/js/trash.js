// Trash: what precious moved to the system trash; restore selected or undo the last move.

import { invoke } from './api.js';
import { $, el, thumb, bytes, say, guarded, basename, confirmBox, photos } from './util.js';

const selected = new Set();
let listed = [];

async function load() {
  const list = await guarded(() => invoke('trashed'));
  if (!list) return;
  listed = list;
  for (const id of [...selected]) if (!list.some((p) => p.id === id)) selected.delete(id);
  const ul = $('#trash-list');
  if (list.length === 0) {
    ul.replaceChildren(el('li', { class: 'empty', text: 'Nothing in the trash from precious.' }));
  } else {
    ul.replaceChildren(...list.map((p) => {
      const b = el('button', {
        type: 'button', class: 'tile', 'aria-pressed': String(selected.has(p.id)),
        'aria-label': `${basename(p.path)}, ${bytes(p.bytes)}, moved ${new Date(p.trashed_at * 1000).toLocaleString()}`,
        onclick: () => {
          if (selected.has(p.id)) selected.delete(p.id); else selected.add(p.id);
          b.setAttribute('aria-pressed', String(selected.has(p.id)));
          update();
        },
      }, thumb(p.id), el('span', { class: 'tile-top' }, el('span', { class: 'check', 'aria-hidden': 'true' })));
      return el('li', {}, b, el('p', { class: 'path small', text: p.path }));
    }));
  }
  update();
}

function update() {
  const b = $('#trash-restore');
  b.disabled = selected.size === 0;
  b.textContent = selected.size ? `Restore ${selected.size} selected` : 'Restore selected';
  $('#trash-empty').disabled = listed.length === 0;
}

/** Deletes for good what precious trashed: asks twice, the second time naming the count. */
async function emptyTrash() {
  const n = listed.length;
  const total = listed.reduce((a, p) => a + p.bytes, 0);
  if (!await confirmBox(`Empty the trash? ${photos(n)} (${bytes(total)}) that precious moved there will be deleted for good. Nothing else in the system trash is touched.`, 'Continue…')) return;
  if (!await confirmBox(`Really delete ${photos(n)} for good? This cannot be undone.`, `Delete ${photos(n)} for good`)) return;
  const r = await guarded(() => invoke('empty_trash', {}));
  if (!r) return;
  const bad = r.photos.filter((p) => p.status !== 'done');
  say(`Deleted ${photos(r.done)} for good (${bytes(r.bytes)} freed).${bad.length ? ` ${bad.length} left alone: ${bad[0].reason || bad[0].status}` : ''}`, bad.length ? 'error' : 'info');
  load();
}

async function restore(ids) {
  const r = await guarded(() => invoke('restore', ids ? { ids } : {}));
  if (!r) return;
  const bad = r.photos.filter((p) => p.status !== 'done');
  say(`Restored ${photos(r.done)}.${bad.length ? ` ${bad.length} not restored: ${bad[0].reason || bad[0].status}` : ''}`, bad.length ? 'error' : 'info');
  selected.clear();
  load();
}

export function init() {
  $('#trash-undo').addEventListener('click', () => restore(null));
  $('#trash-restore').addEventListener('click', () => restore([...selected]));
  $('#trash-empty').addEventListener('click', emptyTrash);
}

export function show() {
  load();
}
