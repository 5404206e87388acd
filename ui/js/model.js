// Model: precision/recall/F1, confusion matrix, PR curve (SVG built here), label counts,
// model versions, "Train now".

import { invoke } from './api.js';
import { $, el, pct, guarded, fillCounts } from './util.js';
import { trainNow, onTrained } from './training.js';

const SVG = 'http://www.w3.org/2000/svg';
let shown = false;

function svg(tag, attrs = {}, ...children) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  for (const c of children) e.append(c);
  return e;
}

/** Precision (y) against recall (x), with the operating point marked. */
export function prCurve(points, at) {
  const W = 320; const H = 240; const L = 40; const B = 30; const R = 10; const T = 10;
  const x = (r) => L + r * (W - L - R);
  const y = (p) => H - B - p * (H - B - T);
  const root = svg('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', class: 'pr' });
  root.append(svg('title', {}, document.createTextNode(
    points.length ? `Precision-recall curve on ${points.length} thresholds` : 'No precision-recall curve yet')));
  for (const t of [0, 0.25, 0.5, 0.75, 1]) {
    root.append(svg('line', { x1: x(0), x2: x(1), y1: y(t), y2: y(t), class: 'gridline' }));
    root.append(svg('text', { x: L - 6, y: y(t) + 4, 'text-anchor': 'end', class: 'tick' }, document.createTextNode(t.toFixed(2))));
    root.append(svg('text', { x: x(t), y: H - B + 16, 'text-anchor': 'middle', class: 'tick' }, document.createTextNode(t.toFixed(2))));
  }
  root.append(svg('text', { x: (L + W) / 2, y: H - 2, 'text-anchor': 'middle', class: 'axis' }, document.createTextNode('recall')));
  root.append(svg('text', { x: 10, y: (H - B) / 2, 'text-anchor': 'middle', class: 'axis', transform: `rotate(-90 10 ${(H - B) / 2})` }, document.createTextNode('precision')));
  if (points.length) {
    const sorted = [...points].sort((a, b) => a.recall - b.recall || b.precision - a.precision);
    const d = sorted.map((p, i) => `${i ? 'L' : 'M'}${x(p.recall).toFixed(1)},${y(p.precision).toFixed(1)}`).join(' ');
    root.append(svg('path', { d, class: 'curve' }));
  }
  if (at && at.precision != null && at.recall != null) {
    root.append(svg('circle', { cx: x(at.recall), cy: y(at.precision), r: 5, class: 'point' },
      svg('title', {}, document.createTextNode(`At the model's cut: precision ${pct(at.precision)}, recall ${pct(at.recall)}`))));
  }
  return root;
}

function confusion(c) {
  const t = $('#confusion');
  if (!c) { t.replaceChildren(el('caption', { text: 'No measurement yet' })); return; }
  t.replaceChildren(
    el('caption', { text: 'Rows: your label; columns: the model' }),
    el('tr', {}, el('td'), el('th', { scope: 'col', text: 'model: delete' }), el('th', { scope: 'col', text: 'model: keep' })),
    el('tr', {}, el('th', { scope: 'row', text: 'you: delete' }), el('td', { text: String(c.tp) }), el('td', { text: String(c.fn) })),
    el('tr', {}, el('th', { scope: 'row', text: 'you: keep' }), el('td', { text: String(c.fp) }), el('td', { text: String(c.tn) })));
}

async function load() {
  const [status, ev, models] = await Promise.all([
    guarded(() => invoke('status')),
    invoke('evaluate').catch((e) => ({ error: String(e) })),
    guarded(() => invoke('models')),
  ]);
  if (status) {
    fillCounts($('#model-labels'), [
      ['Train: keep', status.train_labels.keep], ['Train: delete', status.train_labels.delete],
      ['Test: keep', status.test_labels.keep], ['Test: delete', status.test_labels.delete],
      ['Skipped', status.labels.skip], ['Not yet learned', status.labels_since_model],
    ]);
  }
  const box = $('#pr-curve');
  if (!ev || ev.error) {
    $('#model-note').textContent = ev && ev.error ? `No measurement: ${ev.error}` : '';
    $('#model-cut').textContent = '';
    fillCounts($('#model-metrics'), []);
    confusion(null);
    box.replaceChildren(prCurve([], null));
  } else {
    const m = ev.test || ev.cross_validation;
    const t = ev.threshold;
    $('#model-note').textContent = `Model #${ev.model_id} (${ev.method}): ${ev.note}.`;
    $('#model-cut').textContent = t.known
      ? `Suggestions are cut where your labels show at least ${pct(t.precision_lower_bound)} precision (95% confidence).`
      : `Not yet sure: suggestions are a ranking, most likely first. ${t.basis}.`;
    fillCounts($('#model-metrics'), m ? [
      ['Precision', pct(m.precision)], ['Recall', pct(m.recall)], ['F1', pct(m.f1)],
      ['AUROC', m.auroc == null ? '–' : m.auroc.toFixed(2)],
      ['Cut', `P(delete) ≥ ${t.value.toFixed(2)}${t.known ? '' : ' (ranking)'}`],
      ['Keepers it would suggest', t.keeper_share == null ? '–' : pct(t.keeper_share)],
    ] : []);
    confusion(m ? m.confusion : null);
    box.replaceChildren(prCurve(ev.test_pr_curve || [], m));
  }
  const list = $('#model-list');
  if (models && models.length) {
    list.replaceChildren(
      el('tr', {}, ...['#', 'trained', 'method', 'labels (keep/delete)', 'CV F1', 'test F1', 'measured'].map((h) => el('th', { scope: 'col', text: h }))),
      ...models.map((md) => {
        // A refresh measures what is cheap to measure again and names what it took over.
        const inherited = md.metrics.inherited || [];
        const from = md.training_set.warm_start_from;
        return el('tr', {},
          el('td', { text: String(md.id) }),
          el('td', { text: new Date(md.created_at * 1000).toLocaleString() }),
          el('td', { text: md.config.method + (from ? ` (refreshed from #${from})` : '') }),
          el('td', { text: `${md.training_set.keep.length}/${md.training_set.delete.length}` }),
          el('td', { text: pct(md.metrics.cross_validation && md.metrics.cross_validation.f1) }),
          el('td', { text: pct(md.metrics.test && md.metrics.test.f1) }),
          el('td', { class: inherited.length ? 'inherited' : 'own', title: inherited.join('; '),
            text: inherited.length ? `partly inherited: ${inherited.join('; ')}` : 'by itself' }));
      }));
  } else {
    list.replaceChildren(el('caption', { text: 'No model trained yet.' }));
  }
}

async function train() {
  const b = $('#train-now');
  b.disabled = true;
  await trainNow();
  b.disabled = false;
}

export function init() {
  $('#train-now').addEventListener('click', train);
  onTrained(() => refreshIfShown());
}

export function show() {
  shown = true;
  load();
}

export function refreshIfShown() {
  if (shown && !$('#screen-model').hidden) load();
}
