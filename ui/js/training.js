// Progress toward the next training, and the training itself: every EVERY new train labels
// (keep or delete; skips do not count) the model retrains in the background while the user
// keeps swiping. "Train now" on the Model screen goes through here too.

import { invoke } from './api.js';
import { $, say, guarded } from './util.js';

/** New train labels that trigger the next training. */
export const EVERY = 10;

let running = null;
const listeners = [];

/** Calls `fn(report)` after each finished training. */
export function onTrained(fn) {
  listeners.push(fn);
}

/** Trains now (once at a time); resolves to the train report, or undefined on error. */
export function trainNow() {
  if (running) return running;
  running = (async () => {
    const r = await guarded(() => invoke('train'));
    running = null;
    if (r) {
      say(`Trained model #${r.model.id} on ${r.model.training_set.keep.length + r.model.training_set.delete.length} labels.`);
      for (const fn of listeners) fn(r);
    }
    update();
    return r;
  })();
  update();
  return running;
}

/** Resolves when no training started from this page is running (long jobs run one at a time). */
export function idle() {
  return running || Promise.resolve();
}

/** Redraws the Label screen's progress bar; starts a training when it is full. */
export async function update() {
  const s = await invoke('status').catch(() => null);
  if (!s) return;
  const since = s.labels_since_model;
  const t = s.train_labels;
  const bar = $('#train-progress');
  const text = $('#train-progress-text');
  bar.max = EVERY;
  bar.value = Math.min(since, EVERY);
  const both = t.keep > 0 && t.delete > 0;
  if (running || s.busy === 'train') {
    // A full bar, not an indeterminate one: its endless animation costs the page frames
    // while the training already keeps the cores busy.
    bar.value = EVERY;
    text.textContent = 'Training in the background… keep swiping.';
  } else if (since >= EVERY && both) {
    text.textContent = 'Training…';
    trainNow();
  } else if (since >= EVERY) {
    text.textContent = `The model needs at least one photo of each kind: ${t.keep} keep, ${t.delete} delete so far.`;
  } else {
    text.textContent = `${since} of ${EVERY} new labels until the next training (${t.keep} keep, ${t.delete} delete in all).`;
  }
}
