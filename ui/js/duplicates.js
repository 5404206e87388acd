// Duplicates: groups of copies of one photo and of shots moments apart, largest space to free
// first. Each group shows its photos side by side with the shot it keeps and why; clicking
// another photo keeps that one instead. Per group: keep the best and trash the rest (one
// gesture, with undo), not duplicates, keep all. Keys: ↑/↓ or J/K move between groups,
// Enter or Delete keep the best and trash the rest, N not duplicates, A keep all.

import { invoke } from './api.js';
import { $, el, thumb, bytes, say, guarded, basename, photos as photoCount } from './util.js';

/** The engine's reasons (`Why::text`) in words. */
const WHY = {
  your_choice: 'your choice',
  others_labeled_delete: 'the others are labeled delete',
  camera_original: 'original (camera EXIF)',
  larger: 'larger',
  less_compressed: 'less compressed',
  earlier: 'earlier',
  sharper: 'sharper',
  better_exposed: 'better exposed',
};
const TIER = { same: 'Same photo', similar: 'Similar shots' };

let data = null;
/** The group the keys act on, by id (ids are stable while the members are the same). */
let current = null;
/** Batches moved by "trash the rest", newest last: the photo ids to put back. */
const undo = [];
let visible = false;
/** The action running now (a promise), if any. */
let running = null;

const mb = (n) => `${(n / 1e6).toFixed(1)} MB`;
const whyText = (g) => (g.why.length ? g.why.map((w) => WHY[w] || w).join(', ') : 'first of equals');

function memberTile(g, m) {
  const letters = copyLetters(g);
  const status = m.best ? el('span', { class: 'badge keep', text: 'Keeps this' })
    : m.kept ? el('span', { class: 'badge kept', text: 'Kept' })
      : el('span', { class: 'badge trash', text: 'To trash' });
  const label = m.label === 'keep' || m.label === 'delete'
    ? el('span', { class: `badge labeled-${m.label}`, text: `labeled ${m.label}` }) : null;
  const copy = letters.has(m.copy_of) ? el('span', { class: 'badge', text: `copy ${letters.get(m.copy_of)}` }) : null;
  const name = basename(m.path);
  const btn = el('button', {
    type: 'button', class: 'dup-photo', 'aria-pressed': String(m.best),
    'aria-label': m.best ? `${name}: kept as the best shot` : choosable(g, m) ? `${name}: keep this one instead` : `${name}: labeled delete`,
    onclick: () => chooseBest(g, m),
  }, thumb(m.id, name));
  btn.dataset.id = m.id;
  const li = el('li', { class: `dup-member${m.best ? ' best' : ''}${m.kept ? ' kept' : ''}` },
    btn,
    el('p', { class: 'dup-badges' }, status, label, copy),
    el('p', { class: 'dup-meta', text: `${m.width}×${m.height} · ${bytes(m.bytes + (m.companion_bytes || 0))}` }),
    el('p', { class: 'path small dup-name', text: name, title: m.path }));
  li.dataset.id = m.id;
  return li;
}

/** Whether `m` can be the shot `g` keeps: the engine never keeps a photo labeled delete over
 * one that is not (it would remember the choice and ignore it). */
function choosable(g, m) {
  return m.label !== 'delete' || g.members.every((x) => x.label === 'delete');
}

/** In a group of similar shots, a letter for each picture that has several copies. */
function copyLetters(g) {
  const count = new Map();
  for (const m of g.members) count.set(m.copy_of, (count.get(m.copy_of) || 0) + 1);
  const letters = new Map();
  if (count.size < 2) return letters;
  for (const m of g.members) {
    if (count.get(m.copy_of) > 1 && !letters.has(m.copy_of)) letters.set(m.copy_of, String.fromCharCode(65 + letters.size));
  }
  return letters;
}

function groupItem(g) {
  const best = g.members.find((m) => m.best);
  const rest = g.members.filter((m) => !m.kept).length;
  const title = `${TIER[g.tier] || g.tier}, ${photoCount(g.members.length)}`;
  const li = el('li', {
    class: 'dup-group', tabindex: '-1',
    'aria-label': `${title}, frees ${mb(g.reclaimable_bytes)}`,
  },
  el('div', { class: 'dup-head' },
    el('h3', { text: title }),
    el('span', { class: 'dup-free', text: `frees ${mb(g.reclaimable_bytes)}` })),
  el('p', { class: 'dup-why' }, 'Keeps ', el('strong', { text: basename(best.path) }), `: ${whyText(g)}`),
  el('ul', { class: 'dup-members', 'aria-label': 'Photos of this group' }, ...g.members.map((m) => memberTile(g, m))),
  el('div', { class: 'row dup-actions' },
    el('button', {
      type: 'button', class: 'danger dup-trash', disabled: rest === 0,
      text: rest ? `Keep best, trash the rest (${rest})` : 'Nothing to trash',
      onclick: () => trashRest(g.id),
    }),
    el('button', { type: 'button', class: 'dup-apart', text: 'Not duplicates', onclick: () => decide(g.id, { kind: 'not_duplicates' }) }),
    el('button', { type: 'button', class: 'dup-keepall', text: 'Keep all', onclick: () => decide(g.id, { kind: 'keep_all' }) })));
  li.dataset.id = g.id;
  li.dataset.reclaimable = g.reclaimable_bytes;
  li.dataset.tier = g.tier;
  if (g.id === current) li.classList.add('current');
  li.addEventListener('focusin', () => setCurrent(g.id, false));
  li.addEventListener('click', () => setCurrent(g.id, false));
  return li;
}

function render() {
  const list = $('#dup-groups');
  const total = $('#dup-total');
  if (!data) { list.replaceChildren(); total.textContent = ''; return; }
  const hidden = data.hidden ? ` · ${data.hidden} you kept not shown` : '';
  const n = data.groups.length;
  total.textContent = `${n} group${n === 1 ? '' : 's'} · ${mb(data.reclaimable_bytes)} to free${hidden}`;
  if (n === 0) {
    list.replaceChildren(el('li', { class: 'empty', text: 'No duplicates: every photo here is one of a kind.' }));
    current = null;
    return;
  }
  if (!data.groups.some((g) => g.id === current)) current = data.groups[0].id;
  list.replaceChildren(...data.groups.map(groupItem));
}

function groupEls() {
  return [...document.querySelectorAll('#dup-groups .dup-group')];
}

function setCurrent(id, focus = true) {
  current = id;
  for (const li of groupEls()) {
    const on = li.dataset.id === id;
    li.classList.toggle('current', on);
    if (on && focus) {
      li.focus({ preventScroll: true });
      li.scrollIntoView({ block: 'nearest' });
    }
  }
}

/** Lists the groups again; the current group stays current, or the one now at its place. */
async function load() {
  const before = data ? data.groups.findIndex((g) => g.id === current) : -1;
  if (!data) $('#dup-total').textContent = 'Finding duplicates…';
  const r = await guarded(() => invoke('duplicates'));
  if (!r) {
    if (!data) $('#dup-total').textContent = 'Could not list duplicates; try Refresh.';
    return;
  }
  data = r;
  if (current && !data.groups.some((g) => g.id === current) && before >= 0) {
    const g = data.groups[Math.min(before, data.groups.length - 1)];
    current = g ? g.id : null;
  }
  render();
}

/** Runs one action at a time: a gesture while another runs is dropped (a second Enter must
 * not trash the next group), unless `wait` (undo), which runs after it. The keyboard goes
 * back to the current group when the gesture came from inside the list. */
function act(fn, wait = false) {
  if (running && !wait) return running;
  const from = document.activeElement;
  const hadFocus = from && from.closest && from.closest('#dup-groups');
  const next = (running || Promise.resolve()).then(async () => {
    document.body.classList.add('dup-pending');
    try {
      await fn();
    } catch (e) {
      say(String(e), 'error');
    }
    if (hadFocus && visible && current) setCurrent(current);
  });
  running = next;
  next.then(() => {
    if (running !== next) return;
    running = null;
    document.body.classList.remove('dup-pending');
  });
  return next;
}

function chooseBest(g, m) {
  setCurrent(g.id, false);
  if (m.best) { say(`${basename(m.path)} is already the shot this group keeps.`); return; }
  if (!choosable(g, m)) {
    say(`${basename(m.path)} is labeled delete, so another shot is kept.`, 'error');
    return;
  }
  act(async () => {
    const ok = await guarded(() => invoke('duplicates_decide', { group: g.id, decision: { kind: 'best', photo: m.id } }));
    if (ok === undefined) { await load(); return; }
    say(`Keeps ${basename(m.path)} (your choice).`);
    await load();
  });
}

function decide(id, decision) {
  setCurrent(id, false);
  act(async () => {
    const ok = await guarded(() => invoke('duplicates_decide', { group: id, decision }));
    if (ok === undefined) { await load(); return; }
    say(decision.kind === 'not_duplicates' ? 'Not duplicates: these photos will not be grouped again.' : 'Kept all: this group will not be offered again.');
    await load();
  });
}

function trashRest(id) {
  setCurrent(id, false);
  const g = data && data.groups.find((x) => x.id === id);
  if (!g || !g.members.some((m) => !m.kept)) return;
  act(async () => {
    const r = await guarded(() => invoke('duplicates_trash_rest', { groups: [id] }));
    if (!r) { await load(); return; }
    const moved = r.photos.filter((p) => p.status === 'done').map((p) => p.id);
    const refused = r.photos.filter((p) => p.status !== 'done');
    if (moved.length) undo.push(moved);
    updateUndo();
    say(`Moved ${photoCount(r.done)} (${bytes(r.bytes)}) to the trash, kept the best shot.${refused.length ? ` ${refused.length} refused: ${refused[0].reason || refused[0].status}` : ''}`,
      refused.length ? 'error' : 'info');
    await load();
  });
}

function undoLast() {
  return act(async () => {
    const ids = undo[undo.length - 1];
    if (!ids) return;
    const r = await guarded(() => invoke('restore', { ids }));
    if (!r) return;
    undo.pop();
    updateUndo();
    const bad = r.photos.filter((p) => p.status !== 'done');
    say(`Restored ${photoCount(r.done)}.${bad.length ? ` ${bad.length} not restored: ${bad[0].reason || bad[0].status}` : ''}`, bad.length ? 'error' : 'info');
    await load();
  }, true);
}

function updateUndo() {
  const ids = undo[undo.length - 1];
  $('#dup-undo-bar').hidden = !ids;
  if (ids) $('#dup-undo').textContent = `Undo: put back ${photoCount(ids.length)}`;
}

function onKey(e) {
  if (!visible || !data || e.altKey || e.ctrlKey || e.metaKey) return;
  if (e.target.closest && e.target.closest('input, textarea, select, dialog')) return;
  if ($('#confirm').open) return;
  const k = e.key;
  const ids = data.groups.map((g) => g.id);
  const at = ids.indexOf(current);
  if (k === 'ArrowDown' || k === 'j' || k === 'J') {
    if (ids.length) setCurrent(ids[Math.min(ids.length - 1, at + 1)]);
  } else if (k === 'ArrowUp' || k === 'k' || k === 'K') {
    if (ids.length) setCurrent(ids[Math.max(0, at - 1)]);
  } else if (k === 'Enter' || k === 'Delete') {
    // Enter on a button or link is that control's own click.
    if (k === 'Enter' && e.target.closest && e.target.closest('button, a')) return;
    if (current) trashRest(current);
  } else if (k === 'n' || k === 'N') {
    if (current) decide(current, { kind: 'not_duplicates' });
  } else if (k === 'a' || k === 'A') {
    if (current) decide(current, { kind: 'keep_all' });
  } else {
    return;
  }
  e.preventDefault();
}

export function init() {
  $('#dup-refresh').addEventListener('click', load);
  $('#dup-undo').addEventListener('click', undoLast);
}

export function show() {
  visible = true;
  document.addEventListener('keydown', onKey);
  updateUndo();
  load();
}

export function hide() {
  visible = false;
  document.removeEventListener('keydown', onKey);
}
