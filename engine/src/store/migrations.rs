//! Versioned schema. Each entry moves the database from version `i` to `i + 1` inside one
//! transaction; `PRAGMA user_version` records where a database stands. Never edit a released
//! step: append a new one.

pub const MIGRATIONS: &[&str] = &[
    // 1: photos, their features, labels with history.
    r#"
    CREATE TABLE photos (
        id              INTEGER PRIMARY KEY,
        locator         BLOB NOT NULL UNIQUE,   -- source-specific address (file path bytes)
        display_path    TEXT NOT NULL,          -- lossy UTF-8 form for people
        size            INTEGER NOT NULL,
        mtime_ns        INTEGER NOT NULL,
        content_hash    BLOB,                   -- blake3 of the bytes; NULL if unreadable
        state           TEXT NOT NULL CHECK (state IN ('indexed','failed','unsupported','gone')),
        reason          TEXT,                   -- why failed/unsupported
        format          TEXT,
        width           INTEGER,                -- upright size
        height          INTEGER,
        orientation     INTEGER,
        taken_at        TEXT,
        make            TEXT,
        model           TEXT,
        has_gps         INTEGER,
        has_camera_exif INTEGER,
        decode_path     TEXT,
        first_seen      INTEGER NOT NULL,       -- unix seconds
        last_changed    INTEGER NOT NULL,
        gone_at         INTEGER
    );
    CREATE INDEX photos_hash ON photos(content_hash);
    CREATE INDEX photos_state ON photos(state);

    CREATE TABLE features (
        photo_id        INTEGER PRIMARY KEY REFERENCES photos(id) ON DELETE CASCADE,
        version         INTEGER NOT NULL,
        embedding       BLOB NOT NULL,          -- 1280 x f16 little-endian
        hog             BLOB NOT NULL,          -- 1764 x u8 (value * 255)
        sharpness       REAL NOT NULL,
        brightness      REAL NOT NULL,
        dark_share      REAL NOT NULL,
        bright_share    REAL NOT NULL,
        colorfulness    REAL NOT NULL,
        phash           INTEGER NOT NULL
    );

    -- Derived from all HOG rows by `refresh_hog_pca`: a projection for clustering.
    CREATE TABLE hog_pca (
        photo_id        INTEGER PRIMARY KEY REFERENCES photos(id) ON DELETE CASCADE,
        vector          BLOB NOT NULL           -- f32 little-endian
    );

    -- Ground truth from the user: one current label per photo, every change kept in history.
    CREATE TABLE labels (
        photo_id        INTEGER PRIMARY KEY REFERENCES photos(id),
        label           TEXT NOT NULL CHECK (label IN ('keep','delete','skip')),
        split           TEXT NOT NULL CHECK (split IN ('train','test')),
        labeled_at      INTEGER NOT NULL
    );
    CREATE TABLE label_history (
        id              INTEGER PRIMARY KEY,
        photo_id        INTEGER NOT NULL REFERENCES photos(id),
        label           TEXT,                   -- NULL = label removed
        split           TEXT,
        labeled_at      INTEGER NOT NULL
    );
    "#,
    // 2: the journal of moves to the OS trash and back (`crate::act`).
    //
    // Trashed-ness lives here only; `photos.state` keeps its four values. A trashed photo's
    // file has left its folder, so the next scan marks it `gone` (true, and its labels stay);
    // a restore puts the bytes back and the next scan finds the same row by content hash.
    // Widening the `photos.state` CHECK would mean rebuilding `photos` and every table that
    // references it, for a fact the journal already holds: a photo is in the trash while it
    // has a `trash` row in state `done` (restoring it turns that row `undone`).
    //
    // Every action is committed as `planned` before the file is touched and settled (`done`
    // or `failed`) after, so a crash leaves `planned` rows that `Engine::recover` reconciles
    // with what is on disk. What was acted on (locator, size, mtime, hash) is copied here so
    // the journal stays true whatever later scans do to the photo row.
    r#"
    CREATE TABLE actions (
        id              INTEGER PRIMARY KEY,
        batch           INTEGER NOT NULL,       -- one trash or restore request
        photo_id        INTEGER NOT NULL REFERENCES photos(id),
        kind            TEXT NOT NULL CHECK (kind IN ('trash','restore')),
        state           TEXT NOT NULL CHECK (state IN ('planned','done','failed','undone')),
        original        BLOB NOT NULL,          -- the locator the file was (or goes back) at
        size            INTEGER NOT NULL,
        mtime_ns        INTEGER NOT NULL,
        content_hash    BLOB NOT NULL,          -- blake3 of the bytes checked before acting
        trashed_as      BLOB,                   -- the OS trash item's id (Linux: its .trashinfo path)
        reason          TEXT,                   -- why failed, or a note on how it settled
        created_at      INTEGER NOT NULL,       -- unix seconds
        finished_at     INTEGER
    );
    CREATE INDEX actions_photo ON actions(photo_id);
    CREATE INDEX actions_state ON actions(state);
    "#,
    // 3: learning. FixMatch's augmented views of a bounded sample of photos (embeddings of
    // weak and strong augmentations, cached because each costs a backbone run), and every
    // trained model with what it was trained on, how, and how well it did.
    r#"
    CREATE TABLE views (
        photo_id        INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE,
        content_hash    BLOB NOT NULL,          -- the bytes the views were made from
        kind            TEXT NOT NULL CHECK (kind IN ('weak','strong')),
        idx             INTEGER NOT NULL,
        embedding       BLOB NOT NULL,          -- f16, like features.embedding
        PRIMARY KEY (photo_id, kind, idx)
    );
    CREATE TABLE models (
        id              INTEGER PRIMARY KEY,
        created_at      INTEGER NOT NULL,       -- unix seconds
        format          INTEGER NOT NULL,       -- version of the `body` layout
        method          TEXT NOT NULL,          -- 'fixmatch' or 'supervised'
        config          TEXT NOT NULL,          -- JSON hyperparameters
        training_set    TEXT NOT NULL,          -- JSON: labeled photo ids per class, views used
        metrics         TEXT NOT NULL,          -- JSON: cross-validation and test metrics
        body            TEXT NOT NULL           -- JSON: head weights, standardiser, threshold
    );
    "#,
    // 4: emptying the trash. A `purge` row journals deleting a trashed photo's bytes for good
    // (only ever on the user's explicit request); when it is done the photo's `trash` row
    // turns `purged`. SQLite cannot alter a CHECK constraint, so the table is rebuilt.
    r#"
    CREATE TABLE actions_new (
        id              INTEGER PRIMARY KEY,
        batch           INTEGER NOT NULL,
        photo_id        INTEGER NOT NULL REFERENCES photos(id),
        kind            TEXT NOT NULL CHECK (kind IN ('trash','restore','purge')),
        state           TEXT NOT NULL
                        CHECK (state IN ('planned','done','failed','undone','purged')),
        original        BLOB NOT NULL,
        size            INTEGER NOT NULL,
        mtime_ns        INTEGER NOT NULL,
        content_hash    BLOB NOT NULL,
        trashed_as      BLOB,
        reason          TEXT,
        created_at      INTEGER NOT NULL,
        finished_at     INTEGER
    );
    INSERT INTO actions_new SELECT * FROM actions;
    DROP TABLE actions;
    ALTER TABLE actions_new RENAME TO actions;
    CREATE INDEX actions_photo ON actions(photo_id);
    CREATE INDEX actions_state ON actions(state);
    "#,
    // 5: the gallery's neighbour graph (derived, like `hog_pca`): each indexed photo's nearest
    // photos by embedding, most similar first, refreshed after a scan changes the index
    // (`learn::graph`). The learner smooths features over it and spreads labels along it.
    r#"
    CREATE TABLE neighbours (
        photo_id        INTEGER PRIMARY KEY REFERENCES photos(id) ON DELETE CASCADE,
        ids             BLOB NOT NULL,          -- neighbour photo ids, i64 little-endian
        sims            BLOB NOT NULL           -- their cosines, f16 little-endian
    );
    "#,
    // 6: each augmented view's own quality signals (5 x f32), so a strong view that blurs or
    // darkens the photo says so. Views cached before it have none and are computed again.
    r#"
    ALTER TABLE views ADD COLUMN quality BLOB;
    "#,
    // 7: blur measured at full resolution (`features::quality::blur`: the edge width in pixels
    // of the full image, higher = blurrier; NULL where it could not be measured). Rows from
    // before have NULL until the next scan re-indexes them (`FEATURE_VERSION` 2), which keeps
    // their ids and labels; meanwhile the learner and the suggestions treat NULL as unknown.
    r#"
    ALTER TABLE features ADD COLUMN blur REAL;
    "#,
    // 8: the user's decisions on duplicate groups (`crate::duplicates`), by content hash so they
    // survive rescans, moves and new copies: 'not_duplicates' (no two of `members` are grouped
    // again), 'keep_all' (each of `members` is kept; a group of only kept photos is not offered
    // again) and 'best' (`best` is the group's kept shot).
    r#"
    CREATE TABLE duplicate_decisions (
        id              INTEGER PRIMARY KEY,
        kind            TEXT NOT NULL CHECK (kind IN ('not_duplicates','keep_all','best')),
        members         BLOB NOT NULL,          -- the group's content hashes, 32 bytes each, sorted
        best            BLOB,                   -- 'best': the chosen photo's content hash
        decided_at      INTEGER NOT NULL        -- unix seconds
    );
    "#,
    // 9: assets of several files (`crate::assets`): each Live Photo video and each RAW of a
    // RAW+JPEG pair, with the photo it belongs to (by locator, as listed by the last scan), and
    // the journal's rows for them (`companion` = 1), so a trash or restore covers every file.
    r#"
    CREATE TABLE companions (
        locator         BLOB PRIMARY KEY,
        photo           BLOB NOT NULL,          -- photos.locator of the image it belongs to
        kind            TEXT NOT NULL CHECK (kind IN ('raw','live_video')),
        size            INTEGER NOT NULL,
        mtime_ns        INTEGER NOT NULL
    );
    CREATE INDEX companions_photo ON companions(photo);
    ALTER TABLE actions ADD COLUMN companion INTEGER NOT NULL DEFAULT 0;
    "#,
    // 10: videos (`crate::video`), indexed from their poster frame like photos: `format` holds
    // the container ('mp4', 'mov', '3gp', 'webm', 'mkv'), and these what only a video has.
    r#"
    ALTER TABLE photos ADD COLUMN duration_ms INTEGER;   -- NULL for photos
    ALTER TABLE photos ADD COLUMN codec TEXT;            -- the container's name for it ('avc1')
    "#,
    // 11: edited copies as companions (`crate::assets`: an iPhone's `IMG_E1234.JPG` beside
    // `IMG_1234.HEIC`): the kind check gains 'edited' (SQLite rebuilds a table to change one).
    r#"
    CREATE TABLE companions_new (
        locator         BLOB PRIMARY KEY,
        photo           BLOB NOT NULL,
        kind            TEXT NOT NULL CHECK (kind IN ('raw','live_video','edited')),
        size            INTEGER NOT NULL,
        mtime_ns        INTEGER NOT NULL
    );
    INSERT INTO companions_new SELECT locator, photo, kind, size, mtime_ns FROM companions;
    DROP TABLE companions;
    ALTER TABLE companions_new RENAME TO companions;
    CREATE INDEX companions_photo ON companions(photo);
    "#,
];
