fn main() {
    // tauri.conf.json sits at the repository root (the fixed layout), not in src-tauri/;
    // paths inside it (frontendDist, icons) are relative to that root.
    tauri_build::try_build(tauri_build::Attributes::new().config_path("../tauri.conf.json"))
        .expect("tauri-build failed");
    // `generate_context!` embeds ui/ when this crate compiles; without this line an edit of
    // the UI alone would leave the old pages in the binary.
    println!("cargo:rerun-if-changed=../ui");
}
