// The only module that talks to Tauri (window.__TAURI__, injected because
// tauri.conf.json sets app.withGlobalTauri; no bundler, no npm package).

const T = window.__TAURI__;

/** Invokes a shell command; rejects with the shell's error sentence. */
export function invoke(cmd, args = {}) {
  return T.core.invoke(cmd, args);
}

/** Listens to a shell event; `fn` gets the payload. Returns a promise of the unlisten fn. */
export function listen(event, fn) {
  return T.event.listen(event, (e) => fn(e.payload));
}

/** The folder dialog (dialog plugin); resolves to a list of paths, empty if cancelled. */
export async function chooseFolders() {
  const r = await T.dialog.open({ directory: true, multiple: true, title: 'Choose photo folders' });
  if (!r) return [];
  return Array.isArray(r) ? r : [r];
}

/** URL of a photo's thumbnail: the shell's `thumb:` scheme, by id only. */
export function thumbUrl(id) {
  return T.core.convertFileSrc(String(id), 'thumb');
}
