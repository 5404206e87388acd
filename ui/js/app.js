// Screen switching (hash routes), the shared status line and long-job events.

import { listen } from './api.js';
import { $, say } from './util.js';
import * as library from './library.js';
import { Swiper } from './label.js';
import * as suggestions from './suggestions.js';
import * as duplicates from './duplicates.js';
import * as trash from './trash.js';
import * as model from './model.js';

const swipers = {};
for (const box of document.querySelectorAll('.swiper')) swipers[box.dataset.split] = new Swiper(box, box.dataset.split);

const screens = {
  library: { show: library.show },
  label: { show: () => swipers.train.show(), hide: () => swipers.train.hide() },
  test: { show: () => swipers.test.show(), hide: () => swipers.test.hide() },
  suggestions: { show: suggestions.show },
  duplicates: { show: duplicates.show, hide: duplicates.hide },
  trash: { show: trash.show },
  model: { show: model.show },
};

let current = null;

const LAST = 'precious.screen';

function route() {
  const asked = location.hash.replace('#', '');
  // No screen asked for (a fresh start): resume on the one the user was on.
  const name = asked in screens ? asked : (localStorage.getItem(LAST) in screens ? localStorage.getItem(LAST) : 'library');
  localStorage.setItem(LAST, name);
  if (name === current) return;
  if (current && screens[current].hide) screens[current].hide();
  for (const s of document.querySelectorAll('.screen')) s.hidden = s.id !== `screen-${name}`;
  for (const a of document.querySelectorAll('.tabs a')) {
    if (a.dataset.screen === name) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  current = name;
  screens[name].show();
  $(`#h-${name}`).focus({ preventScroll: true });
}

for (const h of document.querySelectorAll('.screen h2')) h.tabIndex = -1;

const JOB_WORDS = { scan: 'Scanning', train: 'Training', suggest: 'Computing suggestions', trash: 'Moving to trash', 'trash-duplicates': 'Moving duplicates to trash', restore: 'Restoring', 'empty-trash': 'Emptying the trash' };
listen('job', (j) => {
  document.body.dataset.busy = j.state === 'started' ? j.job : '';
  if (j.state === 'started') say(`${JOB_WORDS[j.job] || j.job}…`);
  else if (j.state === 'finished' && $('#status').textContent === `${JOB_WORDS[j.job] || j.job}…`) say('');
  else if (j.state === 'failed') say(`${JOB_WORDS[j.job] || j.job} failed: ${j.error}`, 'error');
  if (j.state === 'finished' && j.job === 'train') model.refreshIfShown();
});

library.init();
suggestions.init();
duplicates.init();
trash.init();
model.init();
window.addEventListener('hashchange', route);
route();
// Navigation start to the first screen painted, read by the end-to-end tests.
requestAnimationFrame(() => setTimeout(() => performance.measure('first-screen', { start: 0, end: performance.now() }), 0));
