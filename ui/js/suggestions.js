// Suggestions: a grid ordered by confidence with reason badges, near-duplicate groups with
// the kept best shot marked, select/deselect, and one confirmed move to the trash.

import { invoke } from './api.js';
import { $, el, thumb, bytes, pct, say, guarded, basename, confirmBox, photos as photoCount, videoLength, COMPANION } from './util.js';
import { idle } from './training.js';

let data = null;
const selected = new Set();

const REASON = {
  labeled_delete: () => 'you labeled it delete',
  resembles: (r) => `like #${r.photo} you deleted (${pct(r.similarity)})`,
  blurry: () => 'blurry',
  dark: () => 'dark',
  overexposed: () => 'overexposed',
  screenshot_like: () => 'screenshot-like',
  short_video: (r) => `a ${r.seconds.toFixed(1)} s video`,
  near_duplicate: (r) => `near-duplicate of #${r.best}`,
};


function tile(p) {
  const on = selected.has(p.id);
  const btn = el('button', {
    type: 'button', class: 'tile', 'aria-pressed': String(on),
    'aria-label': `${basename(p.path)}${p.duration_ms != null ? ' (video)' : ''}, ${pct(p.p_delete)} likely to delete, ${bytes(p.bytes)}`,
    onclick: () => toggle(p.id),
  },
  thumb(p.id),
  el('span', { class: 'tile-top' }, el('span', { class: 'check', 'aria-hidden': 'true' }),
    p.duration_ms != null ? el('span', { class: 'video-length', text: videoLength(p.duration_ms) }) : null,
    el('span', { class: 'conf', text: pct(p.p_delete) })));
  btn.dataset.id = p.id;
  return el('li', {}, btn,
    el('ul', { class: 'badges', 'aria-label': 'Reasons' }, ...p.reasons.map((r) => el('li', { class: `badge ${r.kind}`, text: (REASON[r.kind] || (() => r.kind))(r) })),
      ...(p.companions || []).map((k) => el('li', { class: 'badge companion', text: COMPANION[k] || `+ ${k}` }))));
}

function toggle(id) {
  if (selected.has(id)) selected.delete(id);
  else selected.add(id);
  for (const b of document.querySelectorAll(`#screen-suggestions .tile[data-id="${id}"]`)) b.setAttribute('aria-pressed', String(selected.has(id)));
  updateAction();
}

function updateAction() {
  const n = selected.size;
  const total = data ? data.photos.filter((p) => selected.has(p.id)).reduce((a, p) => a + p.bytes, 0) : 0;
  const b = $('#suggest-trash');
  b.disabled = n === 0;
  b.textContent = `Move ${photoCount(n)} (${bytes(total)}) to trash`;
}

function render() {
  const grid = $('#suggest-grid');
  if (!data) { grid.replaceChildren(); updateAction(); return; }
  const photos = [...data.photos].sort((a, b) => b.p_delete - a.p_delete);
  grid.replaceChildren(...photos.map(tile));
  const refreshed = data.refreshed ? ` Model refreshed with your new labels in ${data.refreshed.seconds.toFixed(1)} s.` : '';
  // In plain words whether the list is at a known precision or still a ranking the model is
  // not sure of (and what would help).
  const sure = data.threshold && data.threshold.known;
  $('#suggest-sure').textContent = sure ? 'At a known precision' : 'Most likely first: not yet sure';
  $('#suggest-sure').className = `sure ${sure ? 'known' : 'ranking'}`;
  $('#suggest-note').textContent = `${photoCount(photos.length)} suggested (${bytes(data.bytes)}), from model #${data.model_id}: ${data.note}.${refreshed}`;
  const byId = new Map(data.photos.map((p) => [p.id, p]));
  $('#groups-title').hidden = data.near_duplicate_groups.length === 0;
  $('#suggest-groups').replaceChildren(...data.near_duplicate_groups.map((g) => el('li', {},
    el('ul', { class: 'group', 'aria-label': `Near-duplicates of #${g.best}` },
      el('li', { class: 'best' }, thumb(g.best, `Best shot #${g.best}`), el('span', { class: 'badge keep', text: 'kept: best shot' })),
      ...g.members.filter((m) => m !== g.best).map((m) => {
        const p = byId.get(m);
        return p ? tile(p) : el('li', {}, thumb(m, `Photo #${m}`), el('span', { class: 'badge', text: 'not suggested' }));
      })))));
  updateAction();
}

async function load() {
  $('#suggest-note').textContent = 'Computing suggestions…';
  await idle();
  const r = await guarded(() => invoke('suggest'));
  data = r || null;
  selected.clear();
  if (data) for (const p of data.photos) selected.add(p.id);
  else $('#suggest-note').textContent = 'No suggestions yet: label some photos and train a model first.';
  render();
}

async function moveToTrash() {
  const ids = [...selected];
  const total = data.photos.filter((p) => selected.has(p.id)).reduce((a, p) => a + p.bytes, 0);
  const ok = await confirmBox(`Move ${photoCount(ids.length)} (${bytes(total)}) to the system trash? You can restore them from the Trash screen.`, 'Move to trash');
  if (!ok) return;
  const r = await guarded(() => invoke('trash', { ids }));
  if (!r) return;
  const refused = r.photos.filter((p) => p.status !== 'done');
  say(`Moved ${photoCount(r.done)} (${bytes(r.bytes)}) to the trash.${refused.length ? ` ${refused.length} refused: ${refused[0].reason || refused[0].status}` : ''}`,
    refused.length ? 'error' : 'info');
  const gone = new Set(r.photos.filter((p) => p.status === 'done').map((p) => p.id));
  data.photos = data.photos.filter((p) => !gone.has(p.id));
  for (const id of gone) selected.delete(id);
  render();
}

export function init() {
  $('#suggest-refresh').addEventListener('click', load);
  $('#suggest-all').addEventListener('click', () => { if (data) for (const p of data.photos) selected.add(p.id); render(); });
  $('#suggest-none').addEventListener('click', () => { selected.clear(); render(); });
  $('#suggest-trash').addEventListener('click', moveToTrash);
}

export function show() {
  if (!data) load();
}
