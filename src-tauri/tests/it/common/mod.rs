//! The mock-runtime harness the app's command tests share: the real builder and command
//! handlers, invoked as the page would through IPC.

use precious_app::AppState;
use serde_json::Value;
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{
    get_ipc_response, mock_builder, mock_context, noop_assets, MockRuntime, INVOKE_KEY,
};
use tauri::webview::InvokeRequest;
use tauri::{App, WebviewWindow, WebviewWindowBuilder};

/// Points this test process's OS trash at a fresh, empty freedesktop trash (`XDG_DATA_HOME`,
/// set once, before any app is built): every module of the binary shares it, so no test ever
/// lists or touches the trash of the user running the tests.
pub fn sandbox_os_trash() -> &'static std::path::Path {
    static DATA_HOME: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    DATA_HOME.get_or_init(|| {
        let xdg = tempfile::Builder::new()
            .prefix("app-os-trash-")
            .tempdir()
            .unwrap()
            .keep();
        for sub in ["Trash/files", "Trash/info"] {
            std::fs::create_dir_all(xdg.join(sub)).unwrap();
        }
        std::env::set_var("XDG_DATA_HOME", &xdg);
        xdg
    })
}

pub fn mock_app(state: AppState) -> (App<MockRuntime>, WebviewWindow<MockRuntime>) {
    sandbox_os_trash();
    let app = precious_app::builder(mock_builder(), Some(state))
        .build(mock_context(noop_assets()))
        .expect("mock app builds");
    let webview = WebviewWindowBuilder::new(&app, "main", Default::default())
        .build()
        .expect("mock webview builds");
    (app, webview)
}

/// Invokes `cmd` as the page would; Ok(value) or Err(the error the page would get).
pub fn invoke(
    webview: &WebviewWindow<MockRuntime>,
    cmd: &str,
    args: Value,
) -> Result<Value, Value> {
    get_ipc_response(
        webview,
        InvokeRequest {
            cmd: cmd.into(),
            callback: CallbackFn(0),
            error: CallbackFn(1),
            // On Linux the app's own pages are tauri://localhost; IPC from elsewhere is refused.
            url: if cfg!(any(windows, target_os = "android")) {
                "http://tauri.localhost"
            } else {
                "tauri://localhost"
            }
            .parse()
            .unwrap(),
            body: InvokeBody::Json(args),
            headers: Default::default(),
            invoke_key: INVOKE_KEY.to_string(),
        },
    )
    .map(|body| body.deserialize::<Value>().expect("responses are JSON"))
}
