//! The app's tests, one binary (each test binary links the engine and the webkit bindings):
//! the commands on Tauri's mock runtime, two processes on one database, and the app's
//! surface (what the page can reach).

mod common;

mod commands;
mod concurrency;
mod surface;
