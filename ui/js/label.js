// The swipe card, used by Label (split "train") and Test labels (split "test").
// Drag or fling left = delete, right = keep; buttons; ←/→/↓ keys; U undo. Labels are saved
// in the background so the next card shows at once; the next photos are preloaded.

import { invoke, thumbUrl } from './api.js';
import { el, say, guarded, basename, videoLength, COMPANION } from './util.js';
import * as training from './training.js';

const BATCH = 30;
const PRELOAD = 3;
const FLING_FRACTION = 0.3; // of the card width
const FLING_SPEED = 0.6; // px per ms

export class Swiper {
  constructor(box, split) {
    this.box = box;
    this.split = split;
    this.queue = [];
    this.seen = new Set();
    this.undo = [];
    this.count = 0;
    this.visible = false;
    this.loading = null;
    this.exhausted = false;
    this.build();
    this.onKey = this.onKey.bind(this);
  }

  build() {
    this.img = el('img', { alt: '', draggable: 'false' });
    this.hint = el('div', { class: 'hint', 'aria-hidden': 'true' });
    this.caption = el('p', { class: 'caption' });
    this.card = el('div', { class: 'card', role: 'group', 'aria-roledescription': 'photo card', tabindex: '0' },
      el('div', { class: 'thumb card-photo' }, this.img), this.hint, this.caption);
    this.empty = el('p', { class: 'empty', hidden: true });
    this.counter = el('p', { class: 'muted counter', 'aria-live': 'polite' });
    const btn = (text, label, cls, fn) => el('button', { type: 'button', class: cls, 'aria-label': label, text, onclick: fn });
    this.buttons = el('div', { class: 'row center swipe-buttons' },
      btn('← Delete', 'Delete this photo', 'danger', () => this.decide('delete')),
      btn('Skip', 'Skip this photo', '', () => this.decide('skip')),
      btn('Keep →', 'Keep this photo', 'primary', () => this.decide('keep')),
      btn('Undo', 'Undo the last label', 'link', () => this.undoLast()));
    this.stage = el('div', { class: 'stage' }, this.card, this.empty);
    this.box.append(this.stage, this.buttons, this.counter);
    this.bindDrag();
  }

  show() {
    this.visible = true;
    if (this.split === 'train') training.update();
    document.addEventListener('keydown', this.onKey);
    this.exhausted = false;
    if (!this.current()) this.refill();
    else this.render();
  }

  hide() {
    this.visible = false;
    document.removeEventListener('keydown', this.onKey);
  }

  current() {
    return this.queue[0];
  }

  async refill() {
    if (this.loading) return this.loading;
    this.loading = (async () => {
      const more = await guarded(() => invoke('label_queue', { split: this.split, n: BATCH }));
      let added = 0;
      for (const p of more || []) if (!this.seen.has(p.id)) { this.seen.add(p.id); this.queue.push(p); added++; }
      // Nothing new (or an error): stop asking until the screen is shown again.
      this.exhausted = added === 0;
      this.loading = null;
      this.render();
    })();
    return this.loading;
  }

  render() {
    const p = this.current();
    this.card.hidden = !p;
    this.buttons.hidden = !p;
    this.empty.hidden = !!p;
    if (!p) {
      this.empty.textContent = this.loading ? 'Loading…' : 'Nothing left to label here. Scan more photos or train the model.';
      return;
    }
    this.reset();
    this.img.src = thumbUrl(p.id);
    this.card.dataset.id = p.id;
    this.card.dataset.path = p.path;
    this.img.alt = `Photo ${basename(p.path)}`;
    this.card.setAttribute('aria-label', `${basename(p.path)}: delete or keep?`);
    const why = { representative: 'typical of a group', uncertain: 'the model is unsure', random: 'random test photo' }[p.asked_because] || '';
    // replaceChildren would write a null as the text "null": only elements go in.
    this.caption.replaceChildren(...[el('span', { class: 'path', text: basename(p.path) }), why ? el('span', { class: 'badge', text: why }) : null,
      p.duration_ms != null ? el('span', { class: 'badge video', text: `${videoLength(p.duration_ms)} video` }) : null,
      ...(p.companions || []).map((k) => el('span', { class: 'badge companion', text: COMPANION[k] || `+ ${k}` }))].filter(Boolean));
    for (const next of this.queue.slice(1, 1 + PRELOAD)) new Image().src = thumbUrl(next.id);
    this.counter.textContent = `${this.count} labeled in this session · ${this.queue.length} in the queue`;
    if (this.queue.length <= PRELOAD + 1 && !this.exhausted) this.refill();
  }

  async decide(label, since = performance.now()) {
    const p = this.current();
    if (!p) return;
    this.queue.shift();
    this.count++;
    this.undo.push(p);
    this.fly(label);
    this.render();
    this.markShown(since);
    const ok = await guarded(() => invoke('set_label', { id: p.id, label, split: this.split }));
    if (ok === undefined) {
      // Not saved: put it back in front.
      this.undo = this.undo.filter((x) => x !== p);
      this.queue.unshift(p);
      this.count--;
      this.render();
    } else {
      say(`${basename(p.path)}: ${label}`);
      if (this.split === 'train') training.update();
    }
  }

  /** Records `swipe` (decision to the next card's image decoded and painted) as a
   * performance measure, which the end-to-end tests read. */
  markShown(since) {
    if (!this.current()) return;
    const done = () => requestAnimationFrame(() => setTimeout(() => {
      performance.measure('swipe', { start: since, end: performance.now() });
    }, 0));
    this.img.decode().then(done, done);
  }

  async undoLast() {
    const p = this.undo.pop();
    if (!p) { say('Nothing to undo'); return; }
    const r = await guarded(() => invoke('undo_label', { id: p.id }));
    if (r === undefined) { this.undo.push(p); return; }
    this.queue.unshift(p);
    this.count--;
    this.render();
    say(`Undone: ${basename(p.path)} is ${r ? r.label : 'unlabeled'} again`);
    if (this.split === 'train') training.update();
  }

  onKey(e) {
    if (!this.visible || e.altKey || e.ctrlKey || e.metaKey) return;
    if (e.target.closest && e.target.closest('input, textarea, select, dialog')) return;
    const k = e.key;
    if (k === 'ArrowLeft') this.decide('delete', e.timeStamp);
    else if (k === 'ArrowRight') this.decide('keep', e.timeStamp);
    else if (k === 'ArrowDown') this.decide('skip', e.timeStamp);
    else if (k === 'u' || k === 'U') this.undoLast();
    else return;
    e.preventDefault();
  }

  // --- drag ---
  reset() {
    this.card.classList.remove('dragging', 'settle');
    this.card.style.transform = '';
    this.hint.textContent = '';
    this.hint.className = 'hint';
    this.hint.style.opacity = '0';
  }

  fly(label) {
    // A ghost of the decided card flies out while the next one is already in place.
    if (label === 'skip') return;
    const ghost = this.card.cloneNode(true);
    ghost.classList.add('ghost');
    ghost.removeAttribute('tabindex');
    ghost.setAttribute('aria-hidden', 'true');
    const dir = label === 'delete' ? -1 : 1;
    ghost.style.transform = this.card.style.transform || 'none';
    this.stage.append(ghost);
    requestAnimationFrame(() => {
      ghost.style.transform = `translateX(${dir * 140}%) rotate(${dir * 18}deg)`;
      ghost.style.opacity = '0';
    });
    setTimeout(() => ghost.remove(), 350);
  }

  bindDrag() {
    const c = this.card;
    let start = null;
    c.addEventListener('pointerdown', (e) => {
      if (e.button !== 0 || !this.current()) return;
      c.setPointerCapture(e.pointerId);
      start = { x: e.clientX, y: e.clientY, t: e.timeStamp, lastX: e.clientX, lastT: e.timeStamp, v: 0 };
      c.classList.add('dragging');
    });
    c.addEventListener('pointermove', (e) => {
      if (!start) return;
      const dx = e.clientX - start.x;
      const dt = e.timeStamp - start.lastT;
      if (dt > 0) start.v = (e.clientX - start.lastX) / dt;
      start.lastX = e.clientX;
      start.lastT = e.timeStamp;
      c.style.transform = `translateX(${dx}px) rotate(${dx / 20}deg)`;
      const w = c.offsetWidth * FLING_FRACTION;
      this.hint.textContent = dx < 0 ? 'Delete' : 'Keep';
      this.hint.className = `hint ${dx < 0 ? 'delete' : 'keep'}`;
      this.hint.style.opacity = String(Math.min(1, Math.abs(dx) / w));
    });
    const end = (e) => {
      if (!start) return;
      const dx = e.clientX - start.x;
      const fast = Math.abs(start.v) > FLING_SPEED && Math.abs(dx) > 30 && Math.sign(start.v) === Math.sign(dx);
      start = null;
      c.classList.remove('dragging');
      if (e.type !== 'pointercancel' && (Math.abs(dx) > c.offsetWidth * FLING_FRACTION || fast)) {
        this.decide(dx < 0 ? 'delete' : 'keep', e.timeStamp);
      } else {
        c.classList.add('settle');
        this.reset();
      }
    };
    c.addEventListener('pointerup', end);
    c.addEventListener('pointercancel', end);
  }
}
