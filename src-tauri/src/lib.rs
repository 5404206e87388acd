//! precious-app: the Tauri 2 shell over [`precious_engine::Engine`].
//!
//! The shell is thin: typed commands ([`commands`]) that take photo ids (never paths from
//! the page), run engine work on blocking threads and stream progress as events, and a
//! `thumb:` URI scheme ([`thumbs`]) that serves only files inside the engine's thumbnail
//! folder. The UI is the static `ui/` folder next to `tauri.conf.json` at the repository
//! root.

pub mod commands;
pub mod priority;
pub mod state;
pub mod thumbs;

use std::path::PathBuf;

use tauri::{Manager, Runtime};

pub use state::AppState;

/// Environment variable naming the database to open instead of the app data folder's
/// (end-to-end tests and power users).
pub const DB_ENV: &str = "PRECIOUS_DB";

/// The app with its commands, the thumbnail scheme and the dialog plugin, generic over the
/// runtime so the command tests can use `tauri::test::mock_builder()`. `state` is managed
/// when given; otherwise [`run`] opens the database in `setup`.
pub fn builder<R: Runtime>(
    builder: tauri::Builder<R>,
    state: Option<AppState>,
) -> tauri::Builder<R> {
    let builder = match state {
        Some(s) => builder.manage(s),
        None => builder,
    };
    builder
        .plugin(tauri_plugin_dialog::init())
        .register_asynchronous_uri_scheme_protocol(thumbs::SCHEME, |ctx, request, responder| {
            let Some(state) = ctx.app_handle().try_state::<AppState>() else {
                responder.respond(thumbs::unavailable());
                return;
            };
            let state = state.inner().clone();
            let path = request.uri().path().to_owned();
            // Off the webview's thread: a lookup may wait for the database.
            tauri::async_runtime::spawn_blocking(move || {
                responder.respond(thumbs::respond(&state, &path));
            });
        })
        .invoke_handler(tauri::generate_handler![
            commands::status,
            commands::scan,
            commands::cancel_scan,
            commands::label_queue,
            commands::photo,
            commands::set_label,
            commands::undo_label,
            commands::train,
            commands::evaluate,
            commands::suggest,
            commands::trash,
            commands::restore,
            commands::trashed,
            commands::empty_trash,
            commands::models,
            commands::duplicates,
            commands::duplicates_decide,
            commands::duplicates_trash_rest,
        ])
}

/// Where the database lives: `$PRECIOUS_DB` if set, else `precious.sqlite` in the app data
/// folder (on Linux `$XDG_DATA_HOME/org.precious.app/`, the CLI's default too).
fn db_path<R: Runtime>(app: &tauri::App<R>) -> Result<PathBuf, Box<dyn std::error::Error>> {
    if let Some(p) = std::env::var_os(DB_ENV) {
        return Ok(PathBuf::from(p));
    }
    Ok(app.path().app_data_dir()?.join("precious.sqlite"))
}

#[cfg_attr(mobile, tauri::mobile_entry_point)]
pub fn run() {
    // Before any thread starts: bounds the memory of decoding and FixMatch views (`memory`).
    precious_engine::memory::pin();
    priority::background_rayon_pool();
    // Say once which backbone embeds photos (ONNX Runtime, or tract and why), loading it off
    // the UI's way so that the first scan finds it ready.
    std::thread::spawn(|| {
        priority::lower_this_thread();
        eprintln!(
            "precious: {}",
            precious_engine::features::backbone::backend_note()
        );
    });
    builder(tauri::Builder::default(), None)
        .setup(|app| {
            let db = db_path(app)?;
            if let Some(dir) = db.parent() {
                std::fs::create_dir_all(dir)?;
            }
            app.manage(AppState::open(&db)?);
            Ok(())
        })
        .run(tauri::generate_context!("../tauri.conf.json"))
        .expect("error while running the precious app");
}
