// Small DOM and formatting helpers shared by the screens.

import { thumbUrl } from './api.js';

export const $ = (sel, root = document) => root.querySelector(sel);

/** Creates an element: el('li', {class: 'x', text: 'hi'}, child...). */
export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'text') e.textContent = v;
    else if (k === 'class') e.className = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children) if (c != null) e.append(c);
  return e;
}

/** A fixed-aspect thumbnail box, so nothing moves while the image loads. */
export function thumb(id, alt = '') {
  const img = el('img', { src: thumbUrl(id), alt, loading: 'lazy', decoding: 'async' });
  img.addEventListener('error', () => img.classList.add('broken'), { once: true });
  return el('div', { class: 'thumb' }, img);
}

export function bytes(n) {
  if (n == null) return '–';
  const u = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  let v = n;
  while (v >= 1000 && i < u.length - 1) { v /= 1000; i++; }
  return `${v.toFixed(i && v < 10 ? 1 : 0)} ${u[i]}`;
}

/** "1 photo", "3 photos". */
export function photos(n) {
  return `${n} photo${n === 1 ? '' : 's'}`;
}

export function pct(x) {
  return x == null ? '–' : `${(x * 100).toFixed(0)}%`;
}

export function duration(s) {
  if (s == null || !isFinite(s)) return '–';
  s = Math.round(s);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m} min ${s % 60} s` : `${Math.floor(m / 60)} h ${m % 60} min`;
}

export const basename = (p) => (p || '').split(/[\\/]/).pop();

let statusTimer;
/** Announces a message in the aria-live status line. */
export function say(msg, kind = 'info') {
  const s = $('#status');
  s.textContent = msg;
  s.dataset.kind = kind;
  clearTimeout(statusTimer);
  if (kind !== 'error') statusTimer = setTimeout(() => { s.textContent = ''; }, 6000);
}

/** Runs an async action, showing its error in the status line; returns undefined on error. */
export async function guarded(fn) {
  try {
    return await fn();
  } catch (e) {
    say(String(e), 'error');
    return undefined;
  }
}

/** One accessible confirmation (a modal <dialog>); resolves true on OK. */
export function confirmBox(text, okLabel = 'OK') {
  const d = $('#confirm');
  $('#confirm-text').textContent = text;
  $('#confirm-ok').textContent = okLabel;
  d.returnValue = '';
  d.showModal();
  return new Promise((resolve) => {
    d.addEventListener('close', () => resolve(d.returnValue === 'ok'), { once: true });
  });
}

/** A definition list from [term, value] pairs. */
export function fillCounts(dl, pairs) {
  dl.replaceChildren(...pairs.flatMap(([k, v]) => [el('dt', { text: k }), el('dd', { text: String(v) })]));
}

/** What else a photo's asset holds, moved to the trash with it (its bytes count them). */
export const COMPANION = { live_video: '+ Live Photo video', raw: '+ RAW', edited: '+ edited copy' };

/** A video's length as tiles and cards show it: "▶ 0:12". */
export function videoLength(ms) {
  const s = Math.round(ms / 1000);
  return `▶ ${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}
