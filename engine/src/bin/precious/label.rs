//! `precious label`: the terminal's swipe screen. Shows one photo at a time (facts, and the
//! picture itself drawn with coloured half-blocks in terminals with 24-bit colour) and takes
//! left = delete, right = keep, down = skip, u = undo, q = quit. The queue comes from the
//! engine; every key press is saved at once, so quitting or a crash loses nothing.

use std::io::{IsTerminal, Write};

use crossterm::event::{self, Event, KeyCode, KeyEventKind};
use crossterm::{cursor, execute, terminal};
use precious_engine::{Engine, Error, Label, PhotoDetails, Result, Split};
use serde::Serialize;

#[derive(Debug, Default, Serialize)]
pub struct Session {
    pub split: Option<Split>,
    pub labeled: Vec<Labeled>,
    pub undone: usize,
}

#[derive(Debug, Serialize)]
pub struct Labeled {
    pub id: i64,
    pub label: Label,
}

/// Labels the given ids without asking (the non-interactive form).
pub fn label_ids(
    engine: &mut Engine,
    split: Split,
    by_label: &[(Label, &[i64])],
) -> Result<Session> {
    let mut s = Session {
        split: Some(split),
        ..Session::default()
    };
    for (label, ids) in by_label {
        for &id in ids.iter() {
            engine.set_label(id, *label, split)?;
            s.labeled.push(Labeled { id, label: *label });
        }
    }
    Ok(s)
}

/// Restores the terminal however the session ends.
struct Screen;

impl Screen {
    fn enter() -> Result<Screen> {
        let io = |e: std::io::Error| Error::Invalid(format!("terminal: {e}"));
        terminal::enable_raw_mode().map_err(io)?;
        execute!(
            std::io::stdout(),
            terminal::EnterAlternateScreen,
            cursor::Hide
        )
        .map_err(io)?;
        Ok(Screen)
    }
}

impl Drop for Screen {
    fn drop(&mut self) {
        let _ = execute!(
            std::io::stdout(),
            cursor::Show,
            terminal::LeaveAlternateScreen
        );
        let _ = terminal::disable_raw_mode();
    }
}

pub fn interactive(engine: &mut Engine, split: Split, n: usize, seed: u64) -> Result<Session> {
    if !std::io::stdin().is_terminal() || !std::io::stdout().is_terminal() {
        return Err(Error::Invalid(
            "interactive labeling needs a terminal; use --keep/--delete/--skip ID... instead"
                .into(),
        ));
    }
    let queue = engine.label_queue(split, n, seed)?;
    let mut session = Session {
        split: Some(split),
        ..Session::default()
    };
    if queue.is_empty() {
        println!("Nothing to label: every indexed photo has a label.");
        return Ok(session);
    }
    let screen = Screen::enter()?;
    let mut i = 0;
    while i < queue.len() {
        let photo = engine.photo(queue[i].id)?;
        draw(&photo, i, queue.len(), split)?;
        let key = loop {
            if let Ok(Event::Key(k)) = event::read() {
                if k.kind == KeyEventKind::Press {
                    break k.code;
                }
            }
        };
        let label = match key {
            KeyCode::Left => Label::Delete,
            KeyCode::Right => Label::Keep,
            KeyCode::Down => Label::Skip,
            KeyCode::Char('u') | KeyCode::Backspace if i > 0 => {
                i -= 1;
                engine.undo_label(queue[i].id)?;
                session.labeled.pop();
                session.undone += 1;
                continue;
            }
            KeyCode::Char('q') | KeyCode::Esc => break,
            _ => continue,
        };
        engine.set_label(photo.id, label, split)?;
        session.labeled.push(Labeled {
            id: photo.id,
            label,
        });
        i += 1;
    }
    drop(screen);
    Ok(session)
}

fn draw(p: &PhotoDetails, i: usize, total: usize, split: Split) -> Result<()> {
    let (cols, rows) = terminal::size().unwrap_or((80, 24));
    let mut out = String::new();
    out += "\x1b[2J\x1b[H";
    out += &format!(
        "precious · {} label {}/{}   ← delete   → keep   ↓ skip   u undo   q quit\r\n",
        split.as_str(),
        i + 1,
        total
    );
    out += &format!("[{}] {}\r\n", p.id, p.path);
    let mut facts = vec![format!("{:.1} MB", p.bytes as f64 / 1e6)];
    if let (Some(w), Some(h)) = (p.width, p.height) {
        facts.push(format!("{w}x{h}"));
    }
    if let Some(t) = &p.taken_at {
        facts.push(format!("taken {t}"));
    }
    match (&p.make, &p.model) {
        (Some(make), Some(model)) => facts.push(format!("{make} {model}")),
        (None, None) => facts.push("no camera EXIF".into()),
        (a, b) => facts.push(a.clone().or(b.clone()).unwrap_or_default()),
    }
    if let Some(f) = &p.features {
        facts.push(format!(
            "sharpness {:.0}, brightness {:.0}",
            f.quality.sharpness, f.quality.brightness
        ));
        if !f.near_duplicates.is_empty() {
            facts.push(format!("{} near-duplicates", f.near_duplicates.len()));
        }
    }
    out += &facts.join(" · ");
    out += "\r\n\r\n";
    if let Some(img) = p.thumbnail.as_ref().and_then(|t| image::open(t).ok()) {
        out += &half_blocks(&img.to_rgb8(), cols as u32, rows.saturating_sub(5) as u32);
    }
    let mut stdout = std::io::stdout();
    stdout
        .write_all(out.as_bytes())
        .and_then(|_| stdout.flush())
        .map_err(|e| Error::Invalid(format!("terminal: {e}")))
}

/// Renders an image into at most `cols` x `rows` cells, two pixels per cell (upper half block
/// in the top pixel's colour on the bottom pixel's colour).
pub fn half_blocks(img: &image::RgbImage, cols: u32, rows: u32) -> String {
    let (w, h) = img.dimensions();
    let scale = (cols as f64 / w as f64).min(2.0 * rows as f64 / h as f64);
    let (tw, th) = (
        ((w as f64 * scale) as u32).max(1),
        ((h as f64 * scale) as u32 / 2 * 2).max(2),
    );
    let small = image::imageops::resize(img, tw, th, image::imageops::FilterType::Triangle);
    let mut s = String::with_capacity((tw * th / 2 * 40) as usize);
    for y in (0..th).step_by(2) {
        for x in 0..tw {
            let [r1, g1, b1] = small.get_pixel(x, y).0;
            let [r2, g2, b2] = small.get_pixel(x, y + 1).0;
            s += &format!("\x1b[38;2;{r1};{g1};{b1}m\x1b[48;2;{r2};{g2};{b2}m▀");
        }
        s += "\x1b[0m\r\n";
    }
    s
}
