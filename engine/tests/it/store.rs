//! Schema migrations and storage properties of the SQLite file.

use precious_engine::store::Store;

#[test]
fn migrations_run_once_and_refuse_a_newer_schema() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("nested/dir/p.sqlite");
    let store = Store::open(&path).unwrap();
    let v = store.schema_version().unwrap();
    assert!(v >= 1);
    drop(store);
    // Reopening is a no-op migration.
    assert_eq!(Store::open(&path).unwrap().schema_version().unwrap(), v);

    let conn = rusqlite::Connection::open(&path).unwrap();
    let mode: String = conn
        .pragma_query_value(None, "journal_mode", |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    for table in ["photos", "features", "hog_pca", "labels", "label_history"] {
        let n: i64 = conn
            .query_row(
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?1",
                [table],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(n, 1, "{table}");
    }
    conn.pragma_update(None, "user_version", v + 1).unwrap();
    drop(conn);
    let err = Store::open(&path)
        .err()
        .expect("a newer schema must be refused")
        .to_string();
    assert!(err.contains("newer"), "{err}");
}
