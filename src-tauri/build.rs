fn main() {
    // tauri.conf.json sits at the repository root (the fixed layout), not in src-tauri/;
    // paths inside it (frontendDist, icons) are relative to that root.
    tauri_build::try_build(tauri_build::Attributes::new().config_path("../tauri.conf.json"))
        .expect("tauri-build failed");
}
