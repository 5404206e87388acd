// End-to-end tests of the real precious app: the built binary in a real WebKitGTK webview,
// driven through tauri-driver and WebKitWebDriver (plain W3C WebDriver over HTTP, no client
// library). Run it under a display (`tests/e2e/run.sh` starts Xvfb).
//
// Each run works on a fresh copy of the demo gallery with its own database, trash and
// webview data (XDG_DATA_HOME points into the run folder), scans it, labels it with the
// gallery manifest's answers by mouse drags and keys, trains, opens the suggestions, moves
// photos to the trash, restores them and empties the trash, then lists the duplicate groups,
// keeps each best shot and trashes the rest (and undoes it), asserting on the DOM and on the
// files on disk. Every screen is saved as a PNG. Figures (cold start, swipe latency) go to
// `results.json`. The last line is `e2e: N passed, M failed`.

import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '../..');
const APP = path.resolve(process.env.PRECIOUS_APP || path.join(ROOT, 'target/debug/precious-app'));
const OUT = path.resolve(process.env.E2E_OUT || path.join(ROOT, 'target/e2e'));
const DEMO = path.join(ROOT, 'engine/demo/gallery');
const PORT = Number(process.env.E2E_PORT || 4444);
const DRIVER = `http://127.0.0.1:${PORT}`;
const ELEMENT = 'element-6066-11e4-a52e-4f735466cecf';
/** The simulated user deletes these manifest categories (as `precious demo` does). */
const DELETED = new Set(['blurred', 'dark', 'overexposed', 'screenshot', 'download', 'near_duplicate']);
const TRAIN_LABELS = 24;
const TEST_LABELS = 20;

// ---------------------------------------------------------------- run folder

const RUN = path.join(OUT, 'run');
fs.rmSync(RUN, { recursive: true, force: true });
const GALLERY = path.join(RUN, 'gallery');
const XDG = path.join(RUN, 'xdg');
const SHOTS = path.join(OUT, 'screenshots');
fs.mkdirSync(SHOTS, { recursive: true });
for (const f of fs.readdirSync(SHOTS)) fs.rmSync(path.join(SHOTS, f));
fs.cpSync(DEMO, GALLERY, { recursive: true });
fs.mkdirSync(XDG, { recursive: true });
const manifest = JSON.parse(fs.readFileSync(path.join(GALLERY, 'manifest.json'), 'utf8'));
const category = new Map(manifest.files.map((f) => [f.path, f.category]));
const unreadable = manifest.files.filter((f) => f.expected_error).length;
const photoFiles = manifest.files.length;
/** The label the simulated user gives a photo at `abs`. */
function truth(abs) {
  const c = category.get(path.relative(GALLERY, abs));
  if (!c) throw new Error(`not in the manifest: ${abs}`);
  return DELETED.has(c) ? 'delete' : 'keep';
}
const sha = (file) => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
const TRASH_FILES = path.join(XDG, 'Trash/files');
const trashed = () => (fs.existsSync(TRASH_FILES) ? fs.readdirSync(TRASH_FILES) : []);

// ---------------------------------------------------------------- WebDriver

const env = {
  ...process.env,
  PRECIOUS_DB: path.join(RUN, 'db/precious.sqlite'),
  XDG_DATA_HOME: XDG,
  XDG_CONFIG_HOME: path.join(RUN, 'config'),
  XDG_CACHE_HOME: path.join(RUN, 'cache'),
};
fs.mkdirSync(path.dirname(env.PRECIOUS_DB), { recursive: true });

const driverBin = path.join(import.meta.dirname, 'node_modules/.bin/tauri-driver');
const driver = spawn(driverBin, ['--port', String(PORT), '--native-port', String(PORT + 1)], {
  env, stdio: ['ignore', 'inherit', 'inherit'],
});

async function wd(method, url, body) {
  const r = await fetch(DRIVER + url, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const j = await r.json().catch(() => ({}));
  if (!r.ok || (j.value && j.value.error)) {
    throw new Error(`${method} ${url}: ${r.status} ${j.value ? `${j.value.error}: ${j.value.message}` : ''}`);
  }
  return j.value;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let sid = null;
const S = (p) => `/session/${sid}${p}`;

async function newSession() {
  const caps = { capabilities: { alwaysMatch: { browserName: 'wry', 'tauri:options': { application: APP } } } };
  const v = await wd('POST', '/session', caps);
  sid = v.sessionId;
}

async function endSession() {
  if (sid) await wd('DELETE', S('')).catch(() => {});
  sid = null;
}

/** Runs `body` (a function body using `arguments`) in the page; returns its value. */
const js = (body, ...args) => wd('POST', S('/execute/sync'), { script: body, args });
/** Runs `body` in the page; it calls `done(value)` (the last argument) when finished. */
const jsAsync = (body, ...args) => wd('POST', S('/execute/async'), {
  script: `const done = arguments[arguments.length - 1]; ${body}`, args,
});
/** A shell command invoked from the page, as the UI does. */
const invoke = (cmd, args = {}) => jsAsync(
  'window.__TAURI__.core.invoke(arguments[0], arguments[1]).then(done, (e) => done({ error: String(e) }));', cmd, args,
);

async function waitFor(what, body, timeoutMs = 20000, ...args) {
  const end = Date.now() + timeoutMs;
  let last;
  while (Date.now() < end) {
    last = await js(body, ...args).catch((e) => { last = e; return null; });
    if (last && !(last instanceof Error)) return last;
    await sleep(100);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

async function find(css) {
  const v = await wd('POST', S('/element'), { using: 'css selector', value: css });
  return v[ELEMENT];
}

async function click(css) {
  await wd('POST', S(`/element/${await find(css)}/click`), {});
}

const KEY = { ArrowLeft: '\uE012', ArrowRight: '\uE014', ArrowDown: '\uE015', ArrowUp: '\uE013', Enter: '\uE007', Delete: '\uE017' };
async function press(key) {
  const k = KEY[key] || key;
  await wd('POST', S('/actions'), {
    actions: [{ type: 'key', id: 'keyboard', actions: [{ type: 'keyDown', value: k }, { type: 'keyUp', value: k }] }],
  });
}

/** A mouse drag of the element `css` by `dx` pixels, in steps (the card follows). */
async function drag(css, dx, pointerType = 'mouse') {
  const origin = { [ELEMENT]: await find(css) };
  const steps = 8;
  const moves = [];
  for (let i = 1; i <= steps; i++) moves.push({ type: 'pointerMove', origin: 'pointer', x: Math.round(dx / steps), y: 0, duration: 30 });
  await wd('POST', S('/actions'), {
    actions: [{
      type: 'pointer', id: pointerType, parameters: { pointerType },
      actions: [{ type: 'pointerMove', origin, x: 0, y: 0 }, { type: 'pointerDown', button: 0 }, ...moves, { type: 'pointerUp', button: 0 }],
    }],
  });
  await wd('DELETE', S('/actions')).catch(() => {});
}

async function go(screen) {
  await js('location.hash = arguments[0];', `#${screen}`);
  await waitFor(`screen ${screen}`, 'return !document.querySelector(`#screen-${arguments[0]}`).hidden;', 5000, screen);
}

/** Saves the window as PNG once fonts, visible images and two frames have rendered. */
async function shot(name) {
  await waitFor('animations to end', "return !document.querySelector('.ghost');", 3000);
  await jsAsync(`
    const imgs = [...document.querySelectorAll('main img')].filter((i) => i.offsetParent && i.src);
    Promise.all([document.fonts.ready, ...imgs.map((i) => i.decode().catch(() => {}))])
      .then(() => requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(done, 50))));`);
  const png = await wd('GET', S('/screenshot'));
  fs.writeFileSync(path.join(SHOTS, `${name}.png`), Buffer.from(png, 'base64'));
  shots.push(`${name}.png`);
}

// ---------------------------------------------------------------- checks

const results = [];
const shots = [];
const figures = {};

async function check(name, fn) {
  const t = Date.now();
  try {
    await fn();
    results.push({ name, ok: true, ms: Date.now() - t });
    console.log(`ok   ${name} (${Date.now() - t} ms)`);
  } catch (e) {
    results.push({ name, ok: false, error: String(e && e.stack || e) });
    console.log(`FAIL ${name}: ${e && e.stack || e}`);
    if (sid) await shot(`failed-${name.replace(/[^a-z0-9]+/gi, '-')}`).catch(() => {});
  }
}

function assert(cond, msg) {
  if (!cond) throw new Error(`assertion failed: ${msg}`);
}

/** The card's photo id and path now on screen. */
const card = (split) => js(`
  const c = document.querySelector('.swiper[data-split="${split}"] .card');
  return c && !c.hidden && c.dataset.id ? { id: Number(c.dataset.id), path: c.dataset.path } : null;`);

async function nextCard(split, prevId) {
  return waitFor(`the card after ${prevId}`, `
    const c = document.querySelector('.swiper[data-split="${split}"] .card');
    return c && !c.hidden && c.dataset.id && Number(c.dataset.id) !== arguments[0]
      ? { id: Number(c.dataset.id), path: c.dataset.path } : null;`, 10000, prevId);
}

async function labelOf(id) {
  const d = await invoke('photo', { id });
  assert(!d.error, `photo ${id}: ${d.error}`);
  return { label: d.label, split: d.split };
}

/** Labels `n` cards of `split` with the manifest's answers using `how` ('drag' or 'keys'). */
async function labelCards(split, n, how) {
  const done = [];
  let c = await waitFor(`a ${split} card`, `
    const c = document.querySelector('.swiper[data-split="${split}"] .card');
    return c && !c.hidden && c.dataset.id ? { id: Number(c.dataset.id), path: c.dataset.path } : null;`, 60000);
  for (let i = 0; i < n; i++) {
    const want = truth(c.path);
    if (how === 'drag') await drag(`.swiper[data-split="${split}"] .card`, want === 'delete' ? -320 : 320);
    else await press(want === 'delete' ? 'ArrowLeft' : 'ArrowRight');
    done.push({ ...c, label: want });
    if (i + 1 < n) c = await nextCard(split, c.id);
  }
  // Labels are saved in the background: wait until the last one is stored.
  const last = done[done.length - 1];
  for (let t = 0; t < 50; t++) {
    const l = await labelOf(last.id);
    if (l.label === last.label) break;
    await sleep(100);
  }
  return done;
}

// ---------------------------------------------------------------- the run

async function main() {
  for (let i = 0; i < 100; i++) {
    if (await fetch(`${DRIVER}/status`).then((r) => r.ok).catch(() => false)) break;
    await sleep(100);
  }

  await check('cold start shows the Library screen', async () => {
    const t0 = Date.now();
    await newSession();
    await waitFor('the first screen', `
      const s = document.querySelector('#screen-library');
      return s && !s.hidden && performance.getEntriesByName('first-screen').length > 0;`, 30000);
    figures.cold_start_to_first_screen_ms = Date.now() - t0;
    figures.navigation_to_first_screen_ms = await js("return performance.getEntriesByName('first-screen')[0].duration;");
    const title = await wd('GET', S('/title'));
    assert(title === 'precious', `title ${title}`);
  });

  let scanned = null;
  await check('library: scan the chosen folder with progress and a summary', async () => {
    // The native folder dialog cannot be driven through WebDriver: put the folder where the
    // dialog's answer goes (the remembered folder list) and reload, as a restart would.
    await js("localStorage.setItem('precious.folders', JSON.stringify([arguments[0]])); location.reload();", GALLERY);
    await waitFor('the folder listed', "return document.querySelectorAll('#folders li').length === 1 && !document.querySelector('#scan-start').disabled;");
    await click('#scan-start');
    let sawRate = false;
    let sawProgress = false;
    const end = Date.now() + 600000;
    while (Date.now() < end) {
      const s = await js(`return { text: document.querySelector('#scan-text').textContent,
        shown: !document.querySelector('#scan-progress').hidden,
        summary: document.querySelector('#scan-summary').textContent };`);
      sawProgress ||= s.shown;
      sawRate ||= /photos\/s/.test(s.text);
      if (s.summary) { scanned = s.summary; break; }
      await sleep(100);
    }
    assert(scanned, 'a scan summary');
    assert(sawProgress, 'the progress bar was shown during the scan');
    figures.scan_progress_showed_rate = sawRate;
    const counts = await js(`return Object.fromEntries([...document.querySelectorAll('#library-counts dt')]
      .map((dt) => [dt.textContent, dt.nextElementSibling.textContent]));`);
    const errors = await js("return document.querySelectorAll('#library-errors li').length;");
    assert(Number(counts.Photos) === photoFiles - unreadable, `indexed ${JSON.stringify(counts)}, expected ${photoFiles - unreadable}`);
    assert(Number(counts['Could not index']) === unreadable, `could not index ${JSON.stringify(counts)}`);
    assert(errors === unreadable, `${errors} files listed as not indexed, expected ${unreadable}`);
    await shot('1-library');
  });

  let trainLabeled = [];
  await check('label: mouse drags left and right label delete and keep', async () => {
    await go('label');
    const first = await card('train') || await nextCard('train', -1);
    // A short drag springs back and labels nothing.
    await drag('.swiper[data-split="train"] .card', -40);
    await sleep(300);
    const same = await card('train');
    assert(same && same.id === first.id, 'a short drag keeps the card');
    assert((await labelOf(first.id)).label === null, 'a short drag labels nothing');
    const dragged = await labelCards('train', 4, 'drag');
    for (const d of dragged) {
      const l = await labelOf(d.id);
      assert(l.label === d.label && l.split === 'train', `photo ${d.id}: stored ${JSON.stringify(l)}, dragged ${d.label}`);
    }
    trainLabeled = trainLabeled.concat(dragged);
  });

  await check('label: keys, skip and undo', async () => {
    const c = await card('train');
    await press('ArrowDown');
    const next = await nextCard('train', c.id);
    for (let t = 0; t < 50 && (await labelOf(c.id)).label !== 'skip'; t++) await sleep(100);
    assert((await labelOf(c.id)).label === 'skip', 'ArrowDown skips');
    await press('u');
    await waitFor('the undone card back', `
      const c = document.querySelector('.swiper[data-split="train"] .card');
      return c && Number(c.dataset.id) === arguments[0];`, 5000, c.id);
    for (let t = 0; t < 50 && (await labelOf(c.id)).label !== null; t++) await sleep(100);
    assert((await labelOf(c.id)).label === null, 'U undoes the skip');
    assert(next.id !== c.id, 'skip showed another card');
    const keyed = await labelCards('train', TRAIN_LABELS - trainLabeled.length, 'keys');
    for (const d of keyed) {
      const l = await labelOf(d.id);
      assert(l.label === d.label, `photo ${d.id}: stored ${l.label}, pressed ${d.label}`);
    }
    trainLabeled = trainLabeled.concat(keyed);
    const progress = await js("return document.querySelector('#train-progress-text').textContent;");
    assert(/training|labels until the next training/i.test(progress), `training progress shown: ${progress}`);
    await shot('2-label');
  });

  await check('swipe-to-next-card latency measured', async () => {
    const d = await js("return performance.getEntriesByName('swipe').map((m) => m.duration);");
    assert(d.length >= TRAIN_LABELS - 5, `${d.length} swipe measures`);
    const s = [...d].sort((a, b) => a - b);
    figures.swipe_to_next_card_ms = {
      n: s.length,
      median: s[Math.floor(s.length / 2)],
      p95: s[Math.min(s.length - 1, Math.floor(s.length * 0.95))],
      max: s[s.length - 1],
      in_order: d.map(Math.round),
    };
  });

  await check('test labels: held-out photos are labeled as test', async () => {
    await go('test');
    const labeled = await labelCards('test', TEST_LABELS, 'keys');
    const trainIds = new Set(trainLabeled.map((d) => d.id));
    for (const d of labeled) {
      assert(!trainIds.has(d.id), `test photo ${d.id} was a train photo`);
      const l = await labelOf(d.id);
      assert(l.label === d.label && l.split === 'test', `photo ${d.id}: ${JSON.stringify(l)}`);
    }
    await shot('3-test-labels');
  });

  await check('model: train now shows metrics, confusion matrix and PR curve', async () => {
    await go('model');
    // A background training (started by the Label screen) may still run: let it end first.
    for (let t = 0; t < 6000 && (await invoke('status')).busy; t++) await sleep(100);
    const before = (await invoke('models')).length;
    await click('#train-now');
    await waitFor('a new model measured on the test labels', `
      return document.querySelectorAll('#model-list tr').length - 1 > arguments[0]
        && /held-out test labels/.test(document.querySelector('#model-note').textContent)
        && !document.querySelector('#train-now').disabled;`, 600000, before);
    const m = await js(`return {
      metrics: [...document.querySelectorAll('#model-metrics dt')].map((d) => d.textContent),
      cells: [...document.querySelectorAll('#confusion tr td:not(:empty)')].map((d) => Number(d.textContent)),
      curve: !!document.querySelector('#pr-curve svg path.curve'),
      versions: document.querySelectorAll('#model-list tr').length - 1 };`);
    for (const k of ['Precision', 'Recall', 'F1']) assert(m.metrics.includes(k), `metric ${k} shown`);
    // Test labels whose near-duplicate is a train label are left out of the measurement.
    const ev = await invoke('evaluate');
    const measured = TEST_LABELS - ev.test_labels_excluded;
    assert(ev.test_labels === measured && measured > 0, `test labels ${ev.test_labels} + ${ev.test_labels_excluded} excluded`);
    assert(m.cells.length === 4 && m.cells.reduce((a, b) => a + b, 0) === measured, `confusion ${m.cells}`);
    assert(m.curve, 'a precision-recall curve');
    assert(m.versions >= 1, 'model versions listed');
    const cut = await js("return document.querySelector('#model-cut').textContent;");
    assert(/^(Not yet sure: suggestions are a ranking|Suggestions are cut where your labels show)/.test(cut), `the cut in words: ${cut}`);
    await shot('4-model');
  });

  let moved = [];
  await check('suggestions: grid with reasons, near-duplicate groups, move 3 to trash', async () => {
    await go('suggestions');
    await waitFor('suggestions', "return document.querySelectorAll('#suggest-grid .tile').length > 0;", 300000);
    const g = await js(`return {
      conf: [...document.querySelectorAll('#suggest-grid .conf')].map((c) => parseFloat(c.textContent)),
      badges: [...document.querySelectorAll('#suggest-grid > li')].map((li) => li.querySelectorAll('.badge').length),
      best: document.querySelectorAll('#suggest-groups .best').length,
      keepLabeled: [] };`);
    assert(g.conf.every((c, i) => i === 0 || g.conf[i - 1] >= c), `ordered by confidence: ${g.conf}`);
    assert(g.badges.every((n) => n >= 1), 'every suggestion has a reason badge');
    const sure = await js("return [document.querySelector('#suggest-sure').textContent, document.querySelector('#suggest-note').textContent];");
    assert(/^(Most likely first: not yet sure|At a known precision)$/.test(sure[0]), `whether the list is sure: ${sure[0]}`);
    assert(/(not yet sure|suggested at P\(delete\))/.test(sure[1]), `the suggestions' note: ${sure[1]}`);
    figures.suggested = g.conf.length;
    figures.near_duplicate_groups = g.best;
    const keeps = new Set(trainLabeled.filter((d) => d.label === 'keep').map((d) => d.id));
    const ids = await js("return [...document.querySelectorAll('#suggest-grid .tile')].map((t) => Number(t.dataset.id));");
    assert(ids.every((id) => !keeps.has(id)), 'no photo labeled keep is suggested');
    // Videos show their length, and a photo with other files (Live Photo clip, RAW) says so.
    const shown = await js("return [...document.querySelectorAll('#suggest-grid > li')].map((li) => ({ id: Number(li.querySelector('.tile').dataset.id), video: !!li.querySelector('.video-length'), companions: li.querySelectorAll('.badge.companion').length }));");
    let videos = 0;
    for (const t of shown) {
      const d = await invoke('photo', { id: t.id });
      videos += d.duration_ms != null ? 1 : 0;
      assert(t.video === (d.duration_ms != null) && t.companions === d.companions.length,
        `tile ${t.id} (${d.path}): video ${t.video}, ${t.companions} companion badges; the photo: ${d.duration_ms} ms, ${d.companions.length} companions`);
    }
    figures.suggested_videos = videos;
    await click('#suggest-none');
    const tiles = await js("return [...document.querySelectorAll('#suggest-grid .tile')].slice(0, 3).map((t) => Number(t.dataset.id));");
    for (const id of tiles) await click(`#suggest-grid .tile[data-id="${id}"]`);
    const label = await js("return document.querySelector('#suggest-trash').textContent;");
    assert(/^Move 3 photos \(.+\) to trash$/.test(label), `action label: ${label}`);
    await shot('5-suggestions');
    const paths = [];
    for (const id of tiles) paths.push((await invoke('photo', { id })).path);
    moved = paths.map((p) => ({ path: p, sha: sha(p) }));
    await click('#suggest-trash');
    await waitFor('the confirmation', "return document.querySelector('#confirm').open;");
    await shot('6-confirm-move');
    await click('#confirm-ok');
    await waitFor('the move', "return /^Moved 3 photos/.test(document.querySelector('#status').textContent);", 30000);
    for (const m of moved) assert(!fs.existsSync(m.path), `${m.path} left its folder`);
    const inTrash = new Set(trashed().map((f) => sha(path.join(TRASH_FILES, f))));
    for (const m of moved) assert(inTrash.has(m.sha), `${m.path}'s bytes are in the OS trash`);
  });

  await check('trash: lists the moved photos; undo restores the exact bytes', async () => {
    await go('trash');
    await waitFor('3 photos in the trash list', "return document.querySelectorAll('#trash-list .tile').length === 3;");
    await shot('7-trash');
    await click('#trash-undo');
    await waitFor('the trash list emptied', "return document.querySelectorAll('#trash-list .tile').length === 0;", 30000);
    for (const m of moved) assert(fs.existsSync(m.path) && sha(m.path) === m.sha, `${m.path} restored with its bytes`);
    assert(trashed().length === 0, 'the OS trash is empty again');
  });

  await check('trash: emptying asks twice and deletes only after both', async () => {
    await go('suggestions');
    await click('#suggest-refresh');
    await waitFor('suggestions', "return document.querySelectorAll('#suggest-grid .tile').length > 0 && !document.body.dataset.busy;", 300000);
    await click('#suggest-none');
    const id = await js("return Number(document.querySelector('#suggest-grid .tile').dataset.id);");
    const p = (await invoke('photo', { id })).path;
    await click(`#suggest-grid .tile[data-id="${id}"]`);
    await click('#suggest-trash');
    await waitFor('the confirmation', "return document.querySelector('#confirm').open;");
    await click('#confirm-ok');
    await waitFor('the move', "return /^Moved 1 photo [(]/.test(document.querySelector('#status').textContent);", 30000);
    assert(!fs.existsSync(p) && trashed().length === 1, 'one photo in the OS trash');
    await go('trash');
    await waitFor('1 photo listed', "return document.querySelectorAll('#trash-list .tile').length === 1 && !document.querySelector('#trash-empty').disabled;");
    // First ask: continue; second ask: cancel. Nothing is deleted.
    await click('#trash-empty');
    await waitFor('the first question', "return document.querySelector('#confirm').open;");
    await click('#confirm-ok');
    await waitFor('the second question', "return document.querySelector('#confirm').open && /Really/.test(document.querySelector('#confirm-text').textContent);");
    await shot('8-empty-trash-second-ask');
    await click('#confirm button[value="cancel"]');
    await sleep(500);
    assert(trashed().length === 1, 'cancelled at the second ask: still in the trash');
    await click('#trash-empty');
    await waitFor('the first question', "return document.querySelector('#confirm').open;");
    await click('#confirm-ok');
    await waitFor('the second question', "return document.querySelector('#confirm').open && /Really/.test(document.querySelector('#confirm-text').textContent);");
    await click('#confirm-ok');
    await waitFor('the trash emptied', "return /^Deleted 1 photo for good/.test(document.querySelector('#status').textContent);", 30000);
    assert(trashed().length === 0 && !fs.existsSync(p), 'deleted for good after two yeses');
    await waitFor('the list empty', "return document.querySelectorAll('#trash-list .tile').length === 0;");
  });

  // ------------------------------------------------------------ duplicates

  /** The engine's duplicate groups now (the same command the screen calls). */
  const dups = async () => {
    const d = await invoke('duplicates');
    assert(!d.error, `duplicates: ${d.error}`);
    return d;
  };
  /** Waits until the Duplicates screen lists exactly the engine's groups, in its order. */
  const listedGroups = async (d) => waitFor('the duplicate groups listed', `
    const ids = [...document.querySelectorAll('#dup-groups .dup-group')].map((g) => g.dataset.id);
    return ids.join() === arguments[0].join() && !document.body.classList.contains('dup-pending') ? ids : null;`,
  10000, d.groups.map((g) => g.id));
  const dupStatus = (re) => waitFor(`the status ${re}`, 'return new RegExp(arguments[0]).test(document.querySelector("#status").textContent);', 30000, re.source);
  const REASONS = /^Keeps .+: (original \(camera EXIF\)|larger|less compressed|earlier|sharper|better exposed|your choice|the others are labeled delete|first of equals)(, .+)?$/;

  let dupGroups = 0;
  await check('duplicates: groups by space to free, each keeps a best shot with a reason', async () => {
    await go('duplicates');
    const d = await dups();
    // 13 in the demo gallery; the photo emptied from the trash above may have split one.
    assert(d.groups.length >= 12, `${d.groups.length} duplicate groups`);
    assert(d.groups.some((g) => g.tier === 'same') && d.groups.some((g) => g.tier === 'similar'), 'both tiers');
    await listedGroups(d);
    dupGroups = d.groups.length;
    figures.duplicate_groups = d.groups.length;
    figures.duplicates_ms = Math.round(d.elapsed_ms);
    const dom = await js(`return [...document.querySelectorAll('#dup-groups .dup-group')].map((g) => ({
      id: g.dataset.id, bytes: Number(g.dataset.reclaimable),
      best: [...g.querySelectorAll('.dup-member.best')].map((m) => ({ id: Number(m.dataset.id), badge: m.querySelector('.badge.keep')?.textContent })),
      why: g.querySelector('.dup-why').textContent,
      members: g.querySelectorAll('.dup-member .thumb img').length,
      meta: [...g.querySelectorAll('.dup-meta')].map((m) => m.textContent) }));`);
    assert(dom.every((g, i) => i === 0 || dom[i - 1].bytes >= g.bytes), `largest space first: ${dom.map((g) => g.bytes)}`);
    for (const [i, g] of dom.entries()) {
      const want = d.groups[i];
      assert(g.bytes === want.reclaimable_bytes, `group ${g.id}: ${g.bytes} bytes shown, ${want.reclaimable_bytes} listed`);
      assert(g.best.length === 1 && g.best[0].id === want.best && g.best[0].badge === 'Keeps this', `group ${g.id}: the best marked ${JSON.stringify(g.best)}`);
      assert(REASONS.test(g.why), `group ${g.id}: why in words: ${g.why}`);
      assert(g.members === want.members.length && g.members >= 2, `group ${g.id}: ${g.members} thumbnails`);
      assert(g.meta.every((m) => /^\d+×\d+ · [\d.]+ (B|KB|MB)/.test(m)), `group ${g.id}: sizes ${g.meta}`);
    }
    assert(dom.some((g) => !/first of equals$/.test(g.why)), 'some best shot wins for a reason');
    const total = await js("return document.querySelector('#dup-total').textContent;");
    const mb = (d.reclaimable_bytes / 1e6).toFixed(1);
    assert(total.startsWith(`${d.groups.length} groups · ${mb} MB to free`), `header: ${total}`);
    await shot('10-duplicates');
    const thumbs = await js("return [...document.querySelectorAll('#dup-groups .dup-group:first-child img')].map((i) => i.complete && i.naturalWidth > 0);");
    assert(thumbs.length >= 2 && thumbs.every(Boolean), `the first group's thumbnails shown: ${thumbs}`);
  });

  await check('duplicates: choose the best, keep it and trash the rest in one click; undo puts them back', async () => {
    let d = await dups();
    // The first group with another shot that can be chosen (a photo labeled delete cannot).
    const g = d.groups.find((x) => x.members.some((m) => !m.best && m.label !== 'delete'));
    const chosen = g.members.find((m) => !m.best && m.label !== 'delete');
    await click(`.dup-group[data-id="${g.id}"] .dup-photo[data-id="${chosen.id}"]`);
    await waitFor('the chosen shot kept', `
      const g = document.querySelector('.dup-group[data-id="' + arguments[0] + '"]');
      const best = g && g.querySelector('.dup-member.best');
      return best && Number(best.dataset.id) === arguments[1] && /: your choice$/.test(g.querySelector('.dup-why').textContent)
        && !document.body.classList.contains('dup-pending');`, 10000, g.id, chosen.id);
    d = await dups();
    const now = d.groups.find((x) => x.id === g.id);
    assert(now && now.best === chosen.id && now.why.join() === 'your_choice', `the engine keeps ${chosen.id}: ${JSON.stringify(now)}`);
    const rest = now.members.filter((m) => !m.kept).map((m) => ({ path: m.path, sha: sha(m.path) }));
    const kept = now.members.filter((m) => m.kept).map((m) => ({ path: m.path, sha: sha(m.path) }));
    assert(rest.length >= 1, 'something to trash');
    assert(trashed().length === 0, 'the OS trash is empty before');
    await click(`.dup-group[data-id="${g.id}"] .dup-trash`);
    await dupStatus(/^Moved \d+ photos? \(.+\) to the trash, kept the best shot\.$/);
    for (const m of rest) assert(!fs.existsSync(m.path), `${m.path} left the gallery`);
    const inTrash = new Set(trashed().map((f) => sha(path.join(TRASH_FILES, f))));
    for (const m of rest) assert(inTrash.has(m.sha), `${m.path}'s bytes are in the OS trash`);
    assert(trashed().length === rest.length, `exactly the rest in the trash: ${trashed().length} files, ${rest.length} expected`);
    for (const m of kept) assert(fs.existsSync(m.path) && sha(m.path) === m.sha, `${m.path} stays`);
    const after = await dups();
    if (kept.length < 2) assert(!after.groups.some((x) => x.id === g.id), 'the group is gone');
    await listedGroups(after);
    await shot('11-duplicates-trashed');
    const undo = await js("return document.querySelector('#dup-undo-bar').hidden ? null : document.querySelector('#dup-undo').textContent;");
    assert(undo === `Undo: put back ${rest.length} photo${rest.length === 1 ? '' : 's'}`, `undo offered: ${undo}`);
    await click('#dup-undo');
    await dupStatus(/^Restored \d+ photos?\.$/);
    for (const m of rest) assert(fs.existsSync(m.path) && sha(m.path) === m.sha, `${m.path} restored with its bytes`);
    assert(trashed().length === 0, 'the OS trash is empty again');
    const back = await dups();
    assert(back.groups.some((x) => x.id === g.id && x.best === chosen.id), 'the group is back, still keeping the chosen shot');
    await listedGroups(back);
    assert(await js("return document.querySelector('#dup-undo-bar').hidden;"), 'nothing left to undo');
  });

  await check('duplicates: "Not duplicates" hides a group, remembered when the screen reopens', async () => {
    const d = await dups();
    const g = [...d.groups].reverse().find((x) => x.members.length === 2);
    await click(`.dup-group[data-id="${g.id}"] .dup-apart`);
    await waitFor('the group gone', "return !document.querySelector(`.dup-group[data-id='${arguments[0]}']`) && !document.body.classList.contains('dup-pending');", 10000, g.id);
    await go('trash');
    await go('duplicates');
    const again = await dups();
    assert(again.groups.length === d.groups.length - 1, `${again.groups.length} groups, ${d.groups.length - 1} expected`);
    const ids = new Set(g.members.map((m) => m.id));
    assert(!again.groups.some((x) => x.id === g.id || x.members.filter((m) => ids.has(m.id)).length === 2), 'never grouped again');
    await listedGroups(again);
    assert(fs.existsSync(g.members[0].path) && fs.existsSync(g.members[1].path), 'both photos stay');
  });

  await check('duplicates: keys move between groups; Enter trashes the rest of the focused one, A keeps all', async () => {
    const d = await dups();
    await listedGroups(d);
    const cur = () => js("const g = document.querySelector('#dup-groups .dup-group.current'); return g && document.activeElement === g ? g.dataset.id : (g ? 'not focused: ' + g.dataset.id : null);");
    const ids = d.groups.map((g) => g.id);
    // Start from the first group, then down twice (arrow, j) and up once (k).
    await js("document.querySelector('#dup-groups .dup-group').focus();");
    await press('ArrowDown');
    await press('j');
    await press('k');
    let at = await cur();
    assert(at === ids[1], `the second group focused: ${at}, expected ${ids[1]}`);
    const g = d.groups[1];
    const rest = g.members.filter((m) => !m.kept).map((m) => ({ path: m.path, sha: sha(m.path) }));
    await press('Enter');
    await dupStatus(/^Moved \d+ photos? \(.+\) to the trash, kept the best shot\.$/);
    for (const m of rest) assert(!fs.existsSync(m.path), `${m.path} left the gallery`);
    assert(trashed().length === rest.length, `${trashed().length} files in the OS trash, ${rest.length} expected`);
    for (const m of g.members.filter((x) => x.kept)) assert(fs.existsSync(m.path), `${m.path} stays`);
    await click('#dup-undo');
    await dupStatus(/^Restored \d+ photos?\.$/);
    for (const m of rest) assert(fs.existsSync(m.path) && sha(m.path) === m.sha, `${m.path} restored`);
    // A keeps all of the focused group: it is no longer offered.
    const before = await dups();
    await listedGroups(before);
    await js("document.querySelector(`.dup-group[data-id='${arguments[0]}']`).focus();", ids[0]);
    await press('a');
    // Groups whose other members are labeled keep are hidden too, so count from before.
    const hidden = before.hidden + 1;
    await waitFor('the kept group gone', "return !document.querySelector(`.dup-group[data-id='${arguments[0]}']`) && document.querySelector('#dup-total').textContent.includes(' ' + arguments[1] + ' you kept not shown');", 10000, ids[0], hidden);
    const after = await dups();
    assert(after.hidden === hidden && !after.groups.some((x) => x.id === ids[0]), `kept all: hidden ${after.hidden}, expected ${hidden}`);
    at = await cur();
    assert(at === after.groups[0].id, `the keys go on with the group in its place: ${at}`);
  });

  await check('phone sizes: one bottom bar of touch targets, the card fills the width, no horizontal scroll on any screen, touch swipes', async () => {
    const screens = ['library', 'label', 'test', 'suggestions', 'duplicates', 'trash', 'model'];
    for (const [width, height] of [[360, 740], [390, 844]]) {
      await wd('POST', S('/window/rect'), { width, height });
      await sleep(300);
      for (const screen of screens) {
        await go(screen);
        await sleep(150);
        const m = await js('return { sw: document.documentElement.scrollWidth, w: innerWidth };');
        assert(m.w <= width, `window resized to ${width}: ${m.w}`);
        assert(m.sw <= m.w, `${screen} at ${m.w} px scrolls sideways: ${m.sw}`);
      }
      const nav = await js(`const r = [...document.querySelectorAll('.tabs a')].map((a) => a.getBoundingClientRect());
        return { h: innerHeight, tops: r.map((x) => Math.round(x.top)), bottoms: r.map((x) => Math.round(x.bottom)), sizes: r.map((x) => [Math.round(x.width), Math.round(x.height)]) };`);
      assert(new Set(nav.tops).size === 1, `one bar: tab tops ${nav.tops}`);
      assert(nav.bottoms.every((b) => b >= nav.h - 2 && b <= nav.h), `the bar at the bottom of ${nav.h} px: ${nav.bottoms}`);
      assert(nav.sizes.every(([w, h]) => w >= 44 && h >= 44), `tabs of at least 44 px: ${JSON.stringify(nav.sizes)}`);
      await go('label');
      await sleep(300);
      const card = await js(`const c = document.querySelector('.swiper[data-split="train"] .card');
        return c && !c.hidden ? c.getBoundingClientRect().width / innerWidth : null;`);
      assert(card === null || card >= 0.9, `the card fills the width: ${card}`);
      await shot(`9-label-phone-${width}`);
      await go('suggestions');
      await sleep(300);
      await shot(`13-suggestions-phone-${width}`);
    }
    // A swipe by touch (a W3C touch pointer), at phone size, labels the card.
    await go('label');
    const cardCss = '.swiper[data-split="train"] .card';
    const before = await js("return document.querySelector('.swiper[data-split=\"train\"] .counter').textContent;");
    const hasCard = await js(`const c = document.querySelector('${cardCss}'); return !!(c && !c.hidden);`);
    if (hasCard) {
      try {
        await drag(cardCss, 150, 'touch');
        await waitFor('the touch swipe to label', `return document.querySelector('.swiper[data-split="train"] .counter').textContent !== ${JSON.stringify(before)};`, 5000);
        figures.touch_swipe = 'labels the card';
        // Undone, so the labels counted by the restart check stay the manifest's.
        await click('.swiper[data-split="train"] button[aria-label="Undo the last label"]');
        await waitFor('the touch label undone', `return document.querySelector('.swiper[data-split="train"] .counter').textContent === ${JSON.stringify(before)};`, 5000);
      } catch (e) {
        if (!/pointerType|touch|not supported|invalid argument|unknown/i.test(String(e))) throw e;
        figures.touch_swipe = `the driver refused a touch pointer: ${String(e).slice(0, 120)}`;
      }
    } else figures.touch_swipe = 'no card left to swipe';
    await wd('POST', S('/window/rect'), { width: 360, height: 740 });
    await go('duplicates');
    await waitFor('groups', "return document.querySelectorAll('#dup-groups .dup-group').length > 0;");
    const dm = await js(`return { sw: document.documentElement.scrollWidth, w: innerWidth,
      small: [...document.querySelectorAll('#screen-duplicates button')].filter((b) => b.offsetParent).filter((b) => b.getBoundingClientRect().height < 44 || b.getBoundingClientRect().width < 44).map((b) => b.textContent || b.getAttribute('aria-label')) };`);
    assert(dm.sw <= dm.w, `duplicates: no horizontal scroll at ${dm.w} px: ${dm.sw}`);
    assert(dm.small.length === 0, `touch targets under 44 px: ${dm.small}`);
    await shot('12-duplicates-phone');
    await go('label');
    await wd('POST', S('/window/rect'), { width: 1000, height: 760 });
  });

  await check('accessibility: named controls, alt texts, focusable tabs', async () => {
    const a = await js(`return {
      unnamed: [...document.querySelectorAll('button')].filter((b) => !(b.getAttribute('aria-label') || b.textContent.trim())).length,
      noAlt: [...document.querySelectorAll('img')].filter((i) => !i.hasAttribute('alt')).length,
      tabs: [...document.querySelectorAll('.tabs a')].filter((t) => t.tabIndex >= 0).length,
      leaked: (document.querySelector('main').innerText.match(/\b(null|undefined|NaN)\b/g) || []),
      live: !!document.querySelector('[aria-live]') };`);
    assert(a.unnamed === 0, `${a.unnamed} buttons without a name`);
    assert(a.noAlt === 0, `${a.noAlt} images without alt`);
    assert(a.tabs === 7 && a.live, 'tabs focusable, a live status region');
    assert(a.leaked.length === 0, `a missing value shown as text: ${a.leaked}`);
  });

  await check('restart resumes: screen, labels, models and folders kept', async () => {
    await endSession();
    await newSession();
    // The screen last open (Label, from the phone-width check) comes back.
    await waitFor('the last screen', "return !document.querySelector('#screen-label').hidden;", 30000);
    await waitFor('folders remembered', "return document.querySelectorAll('#folders li').length === 1;");
    const s = await invoke('status');
    assert(s.train_labels.keep + s.train_labels.delete === TRAIN_LABELS, `train labels kept: ${JSON.stringify(s.train_labels)}`);
    assert(s.test_labels.keep + s.test_labels.delete === TEST_LABELS, `test labels kept: ${JSON.stringify(s.test_labels)}`);
    const models = await invoke('models');
    assert(Array.isArray(models) && models.length >= 1, 'models kept');
    await go('label');
    const c = await card('train') || await nextCard('train', -1);
    const labeled = new Set(trainLabeled.map((d) => d.id));
    assert(!labeled.has(c.id), 'the queue goes on with unlabeled photos');
  });

  await check('the page cannot reach files or the network', async () => {
    const r = await jsAsync(`
      const tries = ['thumb://localhost/../../etc/passwd', 'thumb://localhost/99999999', 'https://example.com/', 'file:///etc/passwd'];
      Promise.all(tries.map((u) => fetch(u).then((r) => r.status, (e) => 'blocked'))).then(done);`);
    assert(r[0] !== 200 && r[1] !== 200, `thumb scheme refuses: ${r}`);
    assert(r[2] === 'blocked' && r[3] === 'blocked', `network and file blocked: ${r}`);
  });

  await check('the page cannot run injected script or load remote content', async () => {
    // What the CSP (tauri.conf.json) and the capabilities forbid, tried from inside the page;
    // `securitypolicyviolation` events tell a CSP block from a plain network failure.
    const r = await jsAsync(`
      const violations = [];
      document.addEventListener('securitypolicyviolation', (e) => violations.push(e.violatedDirective + ' ' + e.blockedURI));
      const s = document.createElement('script');
      s.textContent = 'window.__injected = 1;';
      document.body.append(s);
      const bad = document.createElement('img');
      bad.alt = '';
      bad.setAttribute('onerror', 'window.__handler = 1;');
      bad.src = 'thumb://localhost/not-an-id';
      document.body.append(bad);
      const tryRun = (f) => { try { f(); return 'ran'; } catch (e) { return 'blocked'; } };
      const evalResult = tryRun(() => eval('1 + 1'));
      const fnResult = tryRun(() => new Function('return 1')());
      const image = (u) => new Promise((res) => {
        const i = new Image(); i.onload = () => res('loaded'); i.onerror = () => res('blocked'); i.src = u;
      });
      const get = (u) => fetch(u).then((r) => r.status, () => 'blocked');
      const ipc = (cmd, args) => window.__TAURI__.core.invoke(cmd, args).then(() => 'allowed', (e) => String(e));
      Promise.all([
        image('https://example.com/x.png'), image('asset://localhost/%2Fetc%2Fpasswd'),
        image('http://asset.localhost/%2Fetc%2Fpasswd'), image('file:///usr/share/pixmaps/debian-logo.png'),
        get('thumb://localhost/1/../..'), get('thumb://localhost/1%2F..%2F..%2Fetc%2Fpasswd'),
        get('file:///etc/passwd'), get('asset://localhost/%2Fetc%2Fpasswd'), get('https://example.com/'),
        ipc('plugin:event|emit', { event: 'job', payload: null }),
        ipc('plugin:dialog|save', { options: {} }),
        ipc('plugin:fs|read_file', { path: '/etc/passwd' }),
      ]).then((v) => setTimeout(() => {
        bad.remove(); s.remove();
        done({ injected: window.__injected, handler: window.__handler, evalResult, fnResult, v, violations });
      }, 500));`);
    const [remote, assetImg, assetHttpImg, fileImg, thumbUp, thumbEnc, file, asset, net, emit, save, fsRead] = r.v;
    figures.csp_violations = r.violations;
    assert(r.injected == null, 'an injected inline <script> did not run');
    assert(r.handler == null, 'an inline onerror= handler did not run');
    assert(r.evalResult === 'blocked' && r.fnResult === 'blocked', `eval ${r.evalResult}, Function ${r.fnResult}`);
    assert([remote, assetImg, assetHttpImg, fileImg].every((x) => x === 'blocked'), `images: ${r.v.slice(0, 4)}`);
    assert(thumbUp !== 200 && thumbEnc !== 200, `thumb traversal: ${thumbUp}, ${thumbEnc}`);
    assert([file, asset, net].every((x) => x === 'blocked'), `fetches: ${[file, asset, net]}`);
    assert(r.violations.some((v) => v.startsWith('script-src')), `inline script reported: ${r.violations}`);
    assert(r.violations.some((v) => v.startsWith('img-src') && v.includes('example.com')), `remote image reported: ${r.violations}`);
    assert(r.violations.some((v) => v.startsWith('connect-src')), `fetch reported: ${r.violations}`);
    for (const [what, x] of [['emit', emit], ['dialog save', save], ['fs read', fsRead]]) {
      assert(x !== 'allowed', `IPC ${what} refused: ${x}`);
    }
  });

  await endSession();
}

let code = 1;
try {
  await main();
} catch (e) {
  results.push({ name: 'harness', ok: false, error: String(e && e.stack || e) });
  console.log(`FAIL harness: ${e && e.stack || e}`);
} finally {
  await endSession();
  driver.kill();
  const passed = results.filter((r) => r.ok).length;
  const failed = results.length - passed;
  fs.writeFileSync(path.join(OUT, 'results.json'), JSON.stringify({ figures, screenshots: shots, results }, null, 2));
  console.log(`figures: ${JSON.stringify(figures)}`);
  console.log(`screenshots: ${SHOTS}/ (${shots.join(', ')})`);
  console.log(`e2e: ${passed} passed, ${failed} failed`);
  code = failed ? 1 : 0;
}
process.exit(code);
