//! LOLWUT as Redis 7.0 has it: without `VERSION` (Redis 7's own) the server's version line;
//! `VERSION 5` Georg Nees's "Schotter" drawn in braille characters (`[columns]
//! [squares-per-row] [squares-per-column]`); `VERSION 6` a city skyline in the terminal's
//! four grays (`[columns] [rows]`). The drawings follow Redis's `lolwut5.c` and
//! `lolwut6.c` step by step, single-precision arithmetic included, so that the parts that
//! are not random (Schotter's first two rows) come out byte for byte as Redis's; the
//! random parts draw from the same distributions.

use super::ctx::Ctx;
use super::error::{CmdError, CmdResult, NOT_INTEGER};
use super::flags::*;
use super::{cmd, Spec};
use crate::rdb::REDIS_VER;

/// Pixels, one color each; drawing outside is ignored (Redis's `lwCanvas`).
struct Canvas {
    width: i32,
    height: i32,
    pixels: Vec<u8>,
}

impl Canvas {
    fn new(width: i32, height: i32, color: u8) -> Canvas {
        Canvas {
            width,
            height,
            pixels: vec![color; (width.max(0) as usize) * (height.max(0) as usize)],
        }
    }

    fn set(&mut self, x: i32, y: i32, color: u8) {
        if (0..self.width).contains(&x) && (0..self.height).contains(&y) {
            self.pixels[(x + y * self.width) as usize] = color;
        }
    }

    fn get(&self, x: i32, y: i32) -> u8 {
        if (0..self.width).contains(&x) && (0..self.height).contains(&y) {
            self.pixels[(x + y * self.width) as usize]
        } else {
            0
        }
    }

    /// Bresenham's line from (x1, y1) to (x2, y2).
    fn line(&mut self, mut x1: i32, mut y1: i32, x2: i32, y2: i32, color: u8) {
        let (dx, dy) = ((x2 - x1).abs(), (y2 - y1).abs());
        let sx = if x1 < x2 { 1 } else { -1 };
        let sy = if y1 < y2 { 1 } else { -1 };
        let mut err = dx - dy;
        loop {
            self.set(x1, y1, color);
            if x1 == x2 && y1 == y2 {
                break;
            }
            let e2 = err * 2;
            if e2 > -dy {
                err -= dy;
                x1 += sx;
            }
            if e2 < dx {
                err += dx;
                y1 += sy;
            }
        }
    }

    /// A square centred on (x, y), `size` wide, turned by `angle` radians: its corners lie
    /// on a circle, a quarter turn apart (Redis's `lwDrawSquare`, in its precisions).
    fn square(&mut self, x: i32, y: i32, size: f32, angle: f32, color: u8) {
        let size = ((size as f64 / REDIS_SQRT_2) as f32 as f64).round() as f32;
        let mut k = (std::f64::consts::FRAC_PI_4 + angle as f64) as f32;
        let mut px = [0i32; 4];
        let mut py = [0i32; 4];
        for j in 0..4 {
            px[j] = ((k as f64).sin() * size as f64 + x as f64).round() as i32;
            py[j] = ((k as f64).cos() * size as f64 + y as f64).round() as i32;
            k = (k as f64 + std::f64::consts::FRAC_PI_2) as f32;
        }
        for j in 0..4 {
            self.line(px[j], py[j], px[(j + 1) % 4], py[(j + 1) % 4], color);
        }
    }
}

/// The square root of two as Redis's `lwDrawSquare` writes it: its ten digits, not the
/// exact constant, decide how sizes round, so the drawing matches Redis's.
#[allow(clippy::approx_constant)]
const REDIS_SQRT_2: f64 = 1.4142135623;

/// C's `rand()`: uniform in 0..=RAND_MAX.
fn c_rand() -> i32 {
    (rand::random::<u32>() >> 1) as i32
}

const RAND_MAX: f32 = i32::MAX as f32;

/// Schotter: rows of squares, turned and shifted more and more at random down the page.
fn schotter(cols: i32, per_row: i32, per_col: i32) -> Canvas {
    let width = cols * 2;
    let padding = if width > 4 { 2 } else { 0 };
    let side = (width - padding * 2) as f32 / per_row as f32;
    let height = (side * per_col as f32 + (padding * 2) as f32) as i32;
    let mut canvas = Canvas::new(width, height, 0);
    for y in 0..per_col {
        for x in 0..per_row {
            let mut sx = (x as f32 * side + side / 2.0 + padding as f32) as i32;
            let mut sy = (y as f32 * side + side / 2.0 + padding as f32) as i32;
            let mut angle = 0.0f32;
            if y > 1 {
                let spread = |r: i32| r as f32 / RAND_MAX / per_col as f32 * y as f32;
                let (mut r1, mut r2, mut r3) =
                    (spread(c_rand()), spread(c_rand()), spread(c_rand()));
                if c_rand() % 2 != 0 {
                    r1 = -r1;
                }
                if c_rand() % 2 != 0 {
                    r2 = -r2;
                }
                if c_rand() % 2 != 0 {
                    r3 = -r3;
                }
                angle = r1;
                sx = (sx as f32 + r2 * side / 3.0) as i32;
                sy = (sy as f32 + r3 * side / 3.0) as i32;
            }
            canvas.square(sx, sy, side, angle, 1);
        }
    }
    canvas
}

/// Each 2x4 block of pixels as one braille character (U+2800 + the dots).
fn render_braille(canvas: &Canvas) -> Vec<u8> {
    let mut text = Vec::new();
    let mut y = 0;
    while y < canvas.height {
        let mut x = 0;
        while x < canvas.width {
            let dots = [
                (0, 0, 0),
                (0, 1, 1),
                (0, 2, 2),
                (1, 0, 3),
                (1, 1, 4),
                (1, 2, 5),
                (0, 3, 6),
                (1, 3, 7),
            ];
            let byte = dots
                .iter()
                .filter(|(dx, dy, _)| canvas.get(x + dx, y + dy) != 0)
                .fold(0u32, |b, (_, _, bit)| b | 1 << bit);
            let code = 0x2800 + byte;
            text.extend_from_slice(&[
                0xE0 | (code >> 12) as u8,
                0x80 | ((code >> 6) & 0x3F) as u8,
                0x80 | (code & 0x3F) as u8,
            ]);
            x += 2;
        }
        if y != canvas.height - 1 {
            text.push(b'\n');
        }
        y += 4;
    }
    text
}

/// One building of the skyline.
struct Skyscraper {
    xoff: i32,
    width: i32,
    height: i32,
    windows: bool,
    color: u8,
}

/// Draws a building from the bottom row up; its roof is two pixels narrower on each
/// side; its windows (two pixels wide, one tall) take one of the two grays at random.
fn skyscraper(canvas: &mut Canvas, s: &Skyscraper) {
    let start_y = canvas.height - 1;
    let end_y = start_y - s.height + 1;
    let mut y = start_y;
    while y >= end_y {
        for x in s.xoff..s.xoff + s.width {
            if y == end_y && (x <= s.xoff + 1 || x >= s.xoff + s.width - 2) {
                continue;
            }
            let mut color = s.color;
            if s.windows
                && x > s.xoff + 1
                && x < s.xoff + s.width - 2
                && y > end_y + 1
                && y < start_y - 1
            {
                let rel_x = x - (s.xoff + 1);
                let rel_y = y - (end_y + 1);
                if (rel_x / 2) % 2 != 0 && rel_y % 2 != 0 {
                    loop {
                        color = 1 + (c_rand() % 2) as u8;
                        if color != s.color {
                            break;
                        }
                    }
                    if rel_x % 2 != 0 {
                        color = canvas.get(x - 1, y);
                    }
                }
            }
            canvas.set(x, y, color);
        }
        y -= 1;
    }
}

/// Two layers of window-less buildings in the grays, then the black ones with windows.
fn skyline(canvas: &mut Canvas) {
    for color in [2u8, 1] {
        let mut offset = -10;
        while offset < canvas.width {
            offset += c_rand() % 8;
            let width = 10 + c_rand() % 9;
            let height = if color == 2 {
                canvas.height / 2 + c_rand() % canvas.height / 2
            } else {
                canvas.height / 2 + c_rand() % canvas.height / 3
            };
            let s = Skyscraper {
                xoff: offset,
                width,
                height,
                windows: false,
                color,
            };
            skyscraper(canvas, &s);
            offset += if color == 2 { width / 2 } else { width + 1 };
        }
    }
    let mut offset = -10;
    while offset < canvas.width {
        offset += c_rand() % 8;
        let mut width = 5 + c_rand() % 14;
        if width % 4 != 0 {
            width += width % 3;
        }
        let s = Skyscraper {
            xoff: offset,
            width,
            height: canvas.height / 3 + c_rand() % canvas.height / 2,
            windows: true,
            color: 0,
        };
        skyscraper(canvas, &s);
        offset += width + 5;
    }
}

/// Each pixel as a space on the terminal color of its gray.
fn render_grays(canvas: &Canvas) -> Vec<u8> {
    let mut text = Vec::new();
    for y in 0..canvas.height {
        for x in 0..canvas.width {
            let escape = match canvas.get(x, y) {
                1 => "0;90;100m",
                2 => "0;37;47m",
                3 => "0;97;107m",
                _ => "0;30;40m",
            };
            text.extend_from_slice(format!("\x1b[{escape} \x1b[0m").as_bytes());
        }
        if y != canvas.height - 1 {
            text.push(b'\n');
        }
    }
    text
}

/// The integer arguments after the version: `defaults`, replaced by those given, each
/// clamped to its range.
fn numbers(args: &[bytes::Bytes], defaults: &[(i64, i64, i64)]) -> Result<Vec<i32>, CmdError> {
    let mut out = Vec::with_capacity(defaults.len());
    for (i, &(default, min, max)) in defaults.iter().enumerate() {
        let value = match args.get(i) {
            Some(arg) => crate::resp::parser::parse_i64(arg).ok_or(CmdError::Fixed(NOT_INTEGER))?,
            None => default,
        };
        out.push(value.clamp(min, max) as i32);
    }
    Ok(out)
}

fn lolwut(ctx: &mut Ctx) -> CmdResult {
    let mut version = REDIS_VER
        .split('.')
        .next()
        .and_then(|v| v.parse::<i64>().ok())
        .unwrap_or(0);
    let mut args = &ctx.argv[1..];
    if args.len() >= 2 && args[0].eq_ignore_ascii_case(b"version") {
        version = crate::resp::parser::parse_i64(&args[1]).ok_or(CmdError::Fixed(NOT_INTEGER))?;
        args = &args[2..];
    }
    // Redis writes the version as an unsigned int, then picks the drawing by its text.
    let mut text = match version as u32 {
        5 => {
            let n = numbers(args, &[(66, 1, 1000), (8, 1, 200), (12, 1, 200)])?;
            let mut text = render_braille(&schotter(n[0], n[1], n[2]));
            text.extend_from_slice(b"\nGeorg Nees - schotter, plotter on paper, 1968. Redis ver. ");
            text
        }
        6 => {
            let n = numbers(args, &[(80, 1, 1000), (20, 1, 1000)])?;
            let mut canvas = Canvas::new(n[0], n[1], 3);
            skyline(&mut canvas);
            let mut text = render_grays(&canvas);
            text.extend_from_slice(
                b"\nDedicated to the 8 bit game developers of past and present.\n\
                  Original 8 bit image from Plaguemon by hikikomori. Redis ver. ",
            );
            text
        }
        _ => b"Redis ver. ".to_vec(),
    };
    text.extend_from_slice(REDIS_VER.as_bytes());
    text.push(b'\n');
    ctx.out.verbatim(&text);
    Ok(())
}

/// The family's commands.
pub static COMMANDS: &[Spec] = &[cmd!(
    "lolwut",
    -1,
    READONLY | FAST,
    (0, 0, 0),
    "server",
    lolwut
)];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schotter_rows_before_the_randomness_are_exact() {
        // Two rows of one square each: no random move; 3 columns make a canvas 6 wide, a
        // square 2 wide and 2 padding pixels around.
        let canvas = schotter(3, 1, 2);
        assert_eq!((canvas.width, canvas.height), (6, 8));
        let text = String::from_utf8(render_braille(&canvas)).unwrap();
        assert_eq!(text.lines().count(), 2);
        assert!(text
            .chars()
            .filter(|&c| c != '\n')
            .all(|c| ('\u{2800}'..='\u{28FF}').contains(&c)));
    }

    #[test]
    fn the_skyline_fills_its_canvas_with_the_four_grays() {
        let mut canvas = Canvas::new(30, 10, 3);
        skyline(&mut canvas);
        assert!(canvas.pixels.iter().all(|&p| p <= 3));
        assert!(canvas.pixels.contains(&0), "no foreground building");
        let text = render_grays(&canvas);
        assert_eq!(text.iter().filter(|&&b| b == b'\n').count(), 9);
    }
}
