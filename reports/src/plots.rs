//! Plots of the report: horizontal bar charts and line charts, drawn with plotters into PNG and
//! SVG files (written atomically).
//!
//! Text is drawn with DejaVu Sans compiled into the crate (`assets/DejaVuSans.ttf`, registered
//! as `sans-serif` through plotters' `ab_glyph` support), so drawing needs no system font and
//! no font library. Logarithmic axes are drawn on `log10` of the values with ticks at 1, 2 and
//! 5 times a power of ten, labelled with the values themselves.

use pelab_sim::{Error, Result};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::{Path, PathBuf};

/// DejaVu Sans (Bitstream Vera license, see `assets/DejaVuSans-LICENSE.txt`).
const FONT: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");
/// The family name the font is registered under.
const FAMILY: &str = "sans-serif";

/// Series colours (colour-blind friendly: Okabe and Ito's palette, then greys).
const COLORS: [RGBColor; 8] = [
    RGBColor(0, 114, 178),
    RGBColor(230, 159, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(213, 94, 0),
    RGBColor(86, 180, 233),
    RGBColor(120, 120, 120),
    RGBColor(0, 0, 0),
];

/// The colour of series `i`.
pub fn color(i: usize) -> RGBColor {
    COLORS[i % COLORS.len()]
}

/// One series of a bar chart: a value (or none) per category.
#[derive(Debug, Clone)]
pub struct BarSeries {
    /// Legend text.
    pub name: String,
    /// One value per category; `None` draws the chart's `missing` text instead of a bar.
    pub values: Vec<Option<f64>>,
}

/// A chart of horizontal bars: one row per category, one bar per series in each row.
#[derive(Debug, Clone)]
pub struct Bars {
    /// Title above the chart.
    pub title: String,
    /// Label of the value axis, with its unit.
    pub value_axis: String,
    /// Row labels, top to bottom.
    pub categories: Vec<String>,
    /// Series (bars within a row, top to bottom).
    pub series: Vec<BarSeries>,
    /// Logarithmic value axis (values must be positive).
    pub log: bool,
    /// Print each bar's value at its end.
    pub value_labels: bool,
    /// Text drawn where a series has no value for a row.
    pub missing: String,
}

/// One line of a line chart.
#[derive(Debug, Clone)]
pub struct Line {
    /// Legend text.
    pub name: String,
    /// Points (x, y); points with a non-finite or (on a log axis) non-positive coordinate are
    /// left out.
    pub points: Vec<(f64, f64)>,
    /// Dashed instead of solid.
    pub dashed: bool,
    /// Colour index ([`color`]).
    pub color: usize,
    /// Draw a marker at each point.
    pub markers: bool,
    /// List the line in the legend.
    pub legend: bool,
}

/// A line chart.
#[derive(Debug, Clone)]
pub struct Lines {
    /// Title above the chart.
    pub title: String,
    /// Label of the x axis, with its unit.
    pub x_axis: String,
    /// Label of the y axis, with its unit.
    pub y_axis: String,
    /// Lines.
    pub lines: Vec<Line>,
    /// Logarithmic x axis.
    pub log_x: bool,
    /// Logarithmic y axis.
    pub log_y: bool,
    /// Ticks of the x axis at these values, labelled with these texts (default: automatic).
    pub x_ticks: Option<Vec<(f64, String)>>,
    /// Fixed y range (in data units), e.g. 0 to 100 for percentages.
    pub y_range: Option<(f64, f64)>,
}

/// A chart of horizontal stacked bars: one bar per category, one segment per series, the
/// total printed at each bar's end (linear value axis; missing or negative values draw no
/// segment).
#[derive(Debug, Clone)]
pub struct Stacked {
    /// Title above the chart.
    pub title: String,
    /// Label of the value axis, with its unit.
    pub value_axis: String,
    /// Row labels, top to bottom.
    pub categories: Vec<String>,
    /// Segments, left to right within a bar (one value per category each).
    pub segments: Vec<BarSeries>,
}

/// A panel of a figure.
#[derive(Debug, Clone)]
pub enum Panel {
    /// Horizontal bars.
    Bars(Bars),
    /// Horizontal stacked bars.
    Stacked(Stacked),
    /// Lines.
    Lines(Lines),
}

/// A figure: panels side by side, with notes (sources) under them.
#[derive(Debug, Clone)]
pub struct Figure {
    /// File stem (`<stem>.png`, `<stem>.svg`).
    pub stem: String,
    /// Panels, left to right.
    pub panels: Vec<Panel>,
    /// Lines of small text under the panels (where the numbers come from).
    pub notes: Vec<String>,
    /// Width in pixels (the height follows from the content).
    pub width: u32,
}

fn register_font() -> Result<()> {
    static ONCE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    let ok = *ONCE
        .get_or_init(|| plotters::style::register_font(FAMILY, FontStyle::Normal, FONT).is_ok());
    if ok {
        Ok(())
    } else {
        Err(Error::new(
            "the embedded font (reports/assets/DejaVuSans.ttf) does not load",
        ))
    }
}

const TITLE_PX: u32 = 22;
const AXIS_PX: u32 = 17;
const TICK_PX: u32 = 15;
const LEGEND_PX: u32 = 15;
const NOTE_PX: u32 = 13;

impl Figure {
    /// Height in pixels.
    pub fn height(&self) -> u32 {
        let panel = self
            .panels
            .iter()
            .map(|p| match p {
                Panel::Bars(b) => {
                    let row = 14 + 16 * b.series.len() as u32;
                    130 + row * b.categories.len() as u32
                }
                Panel::Lines(l) => {
                    let rows = (l.lines.iter().filter(|x| x.legend).count() as u32).div_ceil(3);
                    560 + rows * (LEGEND_PX + 8)
                }
                Panel::Stacked(b) => 160 + 34 * b.categories.len() as u32,
            })
            .max()
            .unwrap_or(300);
        panel + 16 + (NOTE_PX + 6) * self.note_lines().len() as u32
    }

    /// The notes, wrapped at word boundaries to the figure's width.
    fn note_lines(&self) -> Vec<String> {
        // DejaVu Sans averages about 0.55 em per character.
        let max = ((self.width.saturating_sub(24)) as f64 / (NOTE_PX as f64 * 0.56)) as usize;
        let mut out = Vec::new();
        for note in &self.notes {
            let mut line = String::new();
            for word in note.split(' ') {
                if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > max {
                    out.push(std::mem::take(&mut line));
                    line.push_str("    ");
                }
                if !line.trim().is_empty() {
                    line.push(' ');
                }
                line.push_str(word);
            }
            out.push(line);
        }
        out
    }

    /// Draws the figure as `<dir>/<stem>.png` and `<dir>/<stem>.svg`, each written under a
    /// temporary name and renamed, and returns both paths.
    pub fn write(&self, dir: &Path) -> Result<Vec<PathBuf>> {
        register_font()?;
        let size = (self.width, self.height());
        // PNG: drawn into a temporary file (with the .png extension the encoder needs).
        let png = dir.join(format!("{}.png", self.stem));
        let tmp = dir.join(format!(
            ".{}.tmp{}-{}.png",
            self.stem,
            std::process::id(),
            unique()
        ));
        let drawn = {
            let root = BitMapBackend::new(&tmp, size).into_drawing_area();
            self.draw(&root)
                .and_then(|_| root.present().map_err(|e| e.to_string()))
        };
        if let Err(e) = drawn {
            let _ = std::fs::remove_file(&tmp);
            return Err(Error::new(format!("cannot draw {}: {e}", png.display())));
        }
        std::fs::rename(&tmp, &png).map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            Error::new(format!(
                "cannot rename {} to {}: {e}",
                tmp.display(),
                png.display()
            ))
        })?;
        // SVG: drawn into a string, then written atomically.
        let svg = dir.join(format!("{}.svg", self.stem));
        let mut text = String::new();
        {
            let root = SVGBackend::with_string(&mut text, size).into_drawing_area();
            self.draw(&root)
                .and_then(|_| root.present().map_err(|e| e.to_string()))
                .map_err(|e| Error::new(format!("cannot draw {}: {e}", svg.display())))?;
        }
        pelab_hdl::emit::write_atomic(&svg, &text)?;
        Ok(vec![png, svg])
    }

    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
    ) -> std::result::Result<(), String>
    where
        DB::ErrorType: 'static,
    {
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let notes = self.note_lines();
        let notes_h = 10 + (NOTE_PX + 6) * notes.len() as u32;
        let (_, h) = root.dim_in_pixel();
        let (top, bottom) = root.split_vertically(h.saturating_sub(notes_h));
        let n = self.panels.len().max(1);
        let (w, _) = top.dim_in_pixel();
        let mut rest = top;
        for (i, p) in self.panels.iter().enumerate() {
            let (area, r) = if i + 1 < n {
                rest.split_horizontally(w / n as u32)
            } else {
                let (a, _) = rest.split_horizontally(rest.dim_in_pixel().0);
                (a, rest.clone())
            };
            match p {
                Panel::Bars(b) => draw_bars(&area, b)?,
                Panel::Lines(l) => draw_lines(&area, l)?,
                Panel::Stacked(b) => draw_stacked(&area, b)?,
            }
            rest = r;
        }
        let style = (FAMILY, NOTE_PX).into_font().color(&RGBColor(60, 60, 60));
        for (i, note) in notes.iter().enumerate() {
            bottom
                .draw(&Text::new(
                    note.clone(),
                    (12, 4 + i as i32 * (NOTE_PX as i32 + 6)),
                    style.clone(),
                ))
                .map_err(|e| e.to_string())?;
        }
        Ok(())
    }
}

/// A linear axis from `lo` to `hi` with ticks exactly at `keys` (plotters picks its own ticks
/// otherwise).
struct Axis {
    lo: f64,
    hi: f64,
    keys: Vec<f64>,
}

impl Ranged for Axis {
    type FormatOption = plotters::coord::ranged1d::DefaultFormatting;
    type ValueType = f64;

    fn map(&self, v: &f64, limit: (i32, i32)) -> i32 {
        let f = (v - self.lo) / (self.hi - self.lo);
        limit.0 + (f * (limit.1 - limit.0) as f64).round() as i32
    }

    fn key_points<H: plotters::coord::ranged1d::KeyPointHint>(&self, hint: H) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.keys.clone()
        }
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.lo..self.hi
    }
}

fn unique() -> usize {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// A number as a short label: up to 3 significant digits, no trailing zeros.
pub fn short(v: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    let a = v.abs();
    if !(1e-3..1e5).contains(&a) {
        let s = format!("{v:.1e}");
        return s.replace(".0e", "e");
    }
    let digits = (2 - a.log10().floor() as i32).max(0) as usize;
    let s = format!("{v:.digits$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// Log-axis ticks between 10^lo and 10^hi (exponents): 1, 2, 5 times powers of ten, or only
/// the powers when the range spans many decades. Returned as log10 values.
fn log_ticks(lo: f64, hi: f64) -> Vec<f64> {
    let decades = (hi - lo).max(0.0);
    let mults: &[f64] = if decades <= 4.5 {
        &[1.0, 2.0, 5.0]
    } else {
        &[1.0]
    };
    let mut v = Vec::new();
    let mut k = lo.floor() as i32 - 1;
    while (k as f64) <= hi + 1.0 {
        for m in mults {
            let t = (m * 10f64.powi(k)).log10();
            if t >= lo - 1e-9 && t <= hi + 1e-9 {
                v.push(t);
            }
        }
        k += 1;
    }
    v
}

/// Range of positive values on a log axis, padded to whole or half decades.
fn log_range(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in values.filter(|v| v.is_finite() && *v > 0.0) {
        lo = lo.min(v.log10());
        hi = hi.max(v.log10());
    }
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    // Half a decade or more below the smallest value, so that its bar stays visible.
    let lo = ((lo - 0.15) * 2.0).floor() / 2.0;
    let mut hi = (hi * 2.0).ceil() / 2.0;
    if hi - lo < 1.0 {
        hi = lo + 1.0;
    }
    (lo, hi)
}

fn text_px<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, s: &str, px: u32) -> u32 {
    area.estimate_text_size(s, &(FAMILY, px).into_text_style(area))
        .map(|(w, _)| w)
        .unwrap_or(px * s.len() as u32 * 6 / 10)
}

/// Draws a legend row (one entry per `(name, colour, kind)`) in `area`; kind 0 = box, 1 = solid
/// line, 2 = dashed line.
fn legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    entries: &[(String, RGBColor, u8)],
    x0: i32,
) -> std::result::Result<(), String>
where
    DB::ErrorType: 'static,
{
    let style = (FAMILY, LEGEND_PX).into_font().color(&BLACK);
    let (w, _) = area.dim_in_pixel();
    let (mut x, mut y) = (x0, 4);
    for (name, c, kind) in entries {
        let tw = text_px(area, name, LEGEND_PX) as i32;
        if x + 40 + tw > w as i32 - 10 && x > x0 {
            x = x0;
            y += LEGEND_PX as i32 + 8;
        }
        let cy = y + LEGEND_PX as i32 / 2 + 1;
        match kind {
            0 => area
                .draw(&Rectangle::new([(x, cy - 6), (x + 18, cy + 6)], c.filled()))
                .map_err(|e| e.to_string())?,
            1 => area
                .draw(&PathElement::new(
                    vec![(x, cy), (x + 24, cy)],
                    c.stroke_width(3),
                ))
                .map_err(|e| e.to_string())?,
            _ => {
                for s in 0..3 {
                    let a = x + s * 9;
                    area.draw(&PathElement::new(
                        vec![(a, cy), (a + 5, cy)],
                        c.stroke_width(3),
                    ))
                    .map_err(|e| e.to_string())?;
                }
            }
        }
        area.draw(&Text::new(name.clone(), (x + 30, y), style.clone()))
            .map_err(|e| e.to_string())?;
        x += 48 + tw;
    }
    Ok(())
}

/// Rows a legend of these entries takes in `width` pixels.
fn legend_rows<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    names: &[String],
    x0: i32,
) -> u32 {
    let (w, _) = area.dim_in_pixel();
    let (mut x, mut rows) = (x0, 1);
    for n in names {
        let tw = text_px(area, n, LEGEND_PX) as i32;
        if x + 40 + tw > w as i32 - 10 && x > x0 {
            x = x0;
            rows += 1;
        }
        x += 48 + tw;
    }
    rows
}

/// Draws `title` at the top of `area` and below it the legend of `entries` (as [`legend`]
/// draws them, from `x0`); returns the area left for the chart.
fn title_and_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
    entries: &[(String, RGBColor, u8)],
    x0: i32,
) -> std::result::Result<DrawingArea<DB, Shift>, String>
where
    DB::ErrorType: 'static,
{
    let names: Vec<String> = entries.iter().map(|e| e.0.clone()).collect();
    let legend_h = legend_rows(area, &names, x0) * (LEGEND_PX + 8) + 6;
    let (title_area, rest) = area.split_vertically(TITLE_PX + 16);
    title_area
        .draw(&Text::new(
            title.to_string(),
            (12, 6),
            (FAMILY, TITLE_PX).into_font().color(&BLACK),
        ))
        .map_err(|e| e.to_string())?;
    let (legend_area, chart_area) = rest.split_vertically(legend_h);
    legend(&legend_area, entries, x0)?;
    Ok(chart_area)
}

fn draw_bars<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    b: &Bars,
) -> std::result::Result<(), String>
where
    DB::ErrorType: 'static,
{
    let n = b.categories.len();
    let s = b.series.len().max(1);
    let all = || {
        b.series
            .iter()
            .flat_map(|s| s.values.iter().flatten().copied())
    };
    let (lo, hi) = if b.log {
        let (lo, hi) = log_range(all());
        // Room for the value labels at the right.
        (lo, hi + if b.value_labels { 0.35 } else { 0.0 })
    } else {
        let max = all().fold(0f64, f64::max);
        (0.0, if max > 0.0 { max * 1.15 } else { 1.0 })
    };
    let tx = |v: f64| if b.log { v.log10() } else { v };
    let names: Vec<&str> = b.series.iter().map(|s| s.name.as_str()).collect();
    let frame = Frame {
        title: &b.title,
        names: &names,
        categories: &b.categories,
        value_axis: &b.value_axis,
    };
    category_chart(area, &frame, (lo, hi), b.log, |chart| {
        let band = 0.8 / s as f64;
        let value_style = (FAMILY, TICK_PX - 2)
            .into_font()
            .color(&RGBColor(40, 40, 40));
        let missing_style = (FAMILY, TICK_PX - 2)
            .into_font()
            .color(&RGBColor(120, 120, 120));
        for (k, series) in b.series.iter().enumerate() {
            let c = color(k);
            let mut rects = Vec::new();
            // Labels: anchored at a bar's end (or the axis start), a few pixels to the right.
            let mut texts: Vec<(f64, f64, String, bool)> = Vec::new();
            for (i, v) in series.values.iter().enumerate().take(n) {
                let yc = n as f64 - 1.0 - i as f64;
                let top = yc + 0.4 - band * k as f64;
                let bot = top - band * 0.92;
                match v {
                    Some(v) if v.is_finite() && (!b.log || *v > 0.0) => {
                        let x = tx(*v).clamp(lo, hi);
                        rects.push(Rectangle::new([(lo, bot), (x, top)], c.filled()));
                        if b.value_labels {
                            texts.push((x, (top + bot) / 2.0, short(*v), true));
                        }
                    }
                    _ => texts.push((lo, (top + bot) / 2.0, b.missing.clone(), false)),
                }
            }
            chart.draw_series(rects).map_err(|e| e.to_string())?;
            let half = (TICK_PX as i32 - 2) / 2 + 1;
            chart
                .draw_series(texts.into_iter().map(|(x, y, t, value)| {
                    EmptyElement::at((x, y))
                        + Text::new(
                            t,
                            (4, -half),
                            if value {
                                value_style.clone()
                            } else {
                                missing_style.clone()
                            },
                        )
                }))
                .map_err(|e| e.to_string())?;
        }
        Ok(())
    })
}

fn draw_stacked<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    b: &Stacked,
) -> std::result::Result<(), String>
where
    DB::ErrorType: 'static,
{
    let n = b.categories.len();
    let part = |v: &Option<f64>| v.filter(|v| v.is_finite() && *v > 0.0).unwrap_or(0.0);
    let totals: Vec<f64> = (0..n)
        .map(|i| {
            b.segments
                .iter()
                .map(|s| part(&s.values.get(i).copied().flatten()))
                .sum()
        })
        .collect();
    let max = totals.iter().copied().fold(0f64, f64::max);
    let (lo, hi) = (0.0, if max > 0.0 { max * 1.18 } else { 1.0 });
    let names: Vec<&str> = b.segments.iter().map(|s| s.name.as_str()).collect();
    let frame = Frame {
        title: &b.title,
        names: &names,
        categories: &b.categories,
        value_axis: &b.value_axis,
    };
    category_chart(area, &frame, (lo, hi), false, |chart| {
        let mut start = vec![0f64; n];
        for (k, seg) in b.segments.iter().enumerate() {
            let c = color(k);
            let mut rects = Vec::new();
            for (i, x0) in start.iter_mut().enumerate() {
                let v = part(&seg.values.get(i).copied().flatten());
                if v > 0.0 {
                    let yc = n as f64 - 1.0 - i as f64;
                    rects.push(Rectangle::new(
                        [(*x0, yc - 0.35), (*x0 + v, yc + 0.35)],
                        c.filled(),
                    ));
                    *x0 += v;
                }
            }
            chart.draw_series(rects).map_err(|e| e.to_string())?;
        }
        let style = (FAMILY, TICK_PX - 2)
            .into_font()
            .color(&RGBColor(40, 40, 40));
        let half = (TICK_PX as i32 - 2) / 2 + 1;
        chart
            .draw_series(totals.iter().enumerate().map(|(i, t)| {
                EmptyElement::at((*t, n as f64 - 1.0 - i as f64))
                    + Text::new(short(*t), (4, -half), style.clone())
            }))
            .map_err(|e| e.to_string())?;
        Ok(())
    })
}

/// The text of a horizontal-bar chart: title, legend names (colours in order), one category
/// per row (row 0 at the top) and the value axis' description.
struct Frame<'a> {
    title: &'a str,
    names: &'a [&'a str],
    categories: &'a [String],
    value_axis: &'a str,
}

/// Draws the title, the legend and the mesh of a horizontal-bar chart (category labels at the
/// left, the value axis from `lo` to `hi` below: log10 values with ticks at the powers of ten
/// when `log`), then the bars with `draw`.
fn category_chart<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    f: &Frame,
    (lo, hi): (f64, f64),
    log: bool,
    draw: impl FnOnce(
        &mut ChartContext<'_, DB, Cartesian2d<Axis, Axis>>,
    ) -> std::result::Result<(), String>,
) -> std::result::Result<(), String>
where
    DB::ErrorType: 'static,
{
    let n = f.categories.len();
    let label_w = f
        .categories
        .iter()
        .map(|c| text_px(area, c, TICK_PX))
        .max()
        .unwrap_or(40)
        + 16;
    let entries: Vec<(String, RGBColor, u8)> = f
        .names
        .iter()
        .enumerate()
        .map(|(i, s)| (s.to_string(), color(i), 0))
        .collect();
    let chart_area = title_and_legend(area, f.title, &entries, label_w as i32)?;
    let keys: Vec<f64> = (0..n).map(|i| i as f64).collect();
    let mut chart = ChartBuilder::on(&chart_area)
        .margin_right(24)
        .margin_top(4)
        .x_label_area_size(52)
        .y_label_area_size(label_w)
        .build_cartesian_2d(
            Axis {
                lo,
                hi,
                keys: if log {
                    log_ticks(lo, hi)
                } else {
                    linear_ticks(lo, hi)
                },
            },
            Axis {
                lo: -0.5,
                hi: n as f64 - 0.5,
                keys,
            },
        )
        .map_err(|e| e.to_string())?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .light_line_style(WHITE.mix(0.0))
        .bold_line_style(RGBColor(220, 220, 220))
        .x_desc(f.value_axis)
        .x_label_formatter(&|v| short(if log { 10f64.powf(*v) } else { *v }))
        .y_label_formatter(&|v| {
            // Row 0 is at the top.
            let i = (n as f64 - 1.0 - v).round();
            if i >= 0.0 && (i as usize) < n {
                f.categories[i as usize].clone()
            } else {
                String::new()
            }
        })
        .x_label_style((FAMILY, TICK_PX).into_font())
        .y_label_style((FAMILY, TICK_PX).into_font())
        .axis_desc_style((FAMILY, AXIS_PX).into_font())
        .draw()
        .map_err(|e| e.to_string())?;
    draw(&mut chart)
}

/// About six round ticks between `lo` and `hi`.
fn linear_ticks(lo: f64, hi: f64) -> Vec<f64> {
    let span = (hi - lo).max(1e-12);
    let raw = span / 6.0;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    let mut v = Vec::new();
    let mut t = (lo / step).ceil() * step;
    while t <= hi + 1e-9 * span {
        v.push(t);
        t += step;
    }
    v
}

fn draw_lines<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    l: &Lines,
) -> std::result::Result<(), String>
where
    DB::ErrorType: 'static,
{
    let ok = |x: f64, y: f64| {
        x.is_finite() && y.is_finite() && (!l.log_x || x > 0.0) && (!l.log_y || y > 0.0)
    };
    let tx = |x: f64| if l.log_x { x.log10() } else { x };
    let ty = |y: f64| if l.log_y { y.log10() } else { y };
    let pts = || {
        l.lines
            .iter()
            .flat_map(|s| s.points.iter().copied())
            .filter(|&(x, y)| ok(x, y))
    };
    let (xlo, xhi) = match &l.x_ticks {
        Some(t) if !t.is_empty() => {
            let a = t.iter().map(|p| tx(p.0)).fold(f64::INFINITY, f64::min);
            let b = t.iter().map(|p| tx(p.0)).fold(f64::NEG_INFINITY, f64::max);
            let pad = (b - a).max(1e-9) * 0.04;
            (a - pad, b + pad)
        }
        _ => {
            let a = pts().map(|p| tx(p.0)).fold(f64::INFINITY, f64::min);
            let b = pts().map(|p| tx(p.0)).fold(f64::NEG_INFINITY, f64::max);
            if a.is_finite() {
                (a, b.max(a + 1e-9))
            } else {
                (0.0, 1.0)
            }
        }
    };
    let (ylo, yhi) = match l.y_range {
        Some((a, b)) => (ty(a), ty(b)),
        None if l.log_y => log_range(pts().map(|p| p.1)),
        None => {
            let b = pts().map(|p| p.1).fold(0f64, f64::max);
            let a = pts().map(|p| p.1).fold(0f64, f64::min);
            (a, if b > a { b * 1.1 } else { a + 1.0 })
        }
    };
    let xkeys: Vec<f64> = match &l.x_ticks {
        Some(t) => t.iter().map(|p| tx(p.0)).collect(),
        None if l.log_x => log_ticks(xlo, xhi),
        None => linear_ticks(xlo, xhi),
    };
    let ykeys = if l.log_y {
        log_ticks(ylo, yhi)
    } else {
        linear_ticks(ylo, yhi)
    };
    let entries: Vec<(String, RGBColor, u8)> = l
        .lines
        .iter()
        .filter(|s| s.legend)
        .map(|s| (s.name.clone(), color(s.color), if s.dashed { 2 } else { 1 }))
        .collect();
    let chart_area = title_and_legend(area, &l.title, &entries, 80)?;
    let mut chart = ChartBuilder::on(&chart_area)
        .margin_right(24)
        .margin_left(10)
        .margin_top(6)
        .x_label_area_size(52)
        .y_label_area_size(80)
        .build_cartesian_2d(
            Axis {
                lo: xlo,
                hi: xhi,
                keys: xkeys,
            },
            Axis {
                lo: ylo,
                hi: yhi,
                keys: ykeys,
            },
        )
        .map_err(|e| e.to_string())?;
    let ticks = l.x_ticks.clone();
    let (lx, ly) = (l.log_x, l.log_y);
    chart
        .configure_mesh()
        .light_line_style(WHITE.mix(0.0))
        .bold_line_style(RGBColor(220, 220, 220))
        .x_desc(l.x_axis.clone())
        .y_desc(l.y_axis.clone())
        .x_label_formatter(&|v| {
            if let Some(t) = &ticks {
                let x = if lx { 10f64.powf(*v) } else { *v };
                if let Some(p) = t
                    .iter()
                    .find(|p| (p.0 - x).abs() <= 1e-6 * p.0.abs().max(1.0))
                {
                    return p.1.clone();
                }
            }
            short(if lx { 10f64.powf(*v) } else { *v })
        })
        .y_label_formatter(&|v| short(if ly { 10f64.powf(*v) } else { *v }))
        .x_label_style((FAMILY, TICK_PX).into_font())
        .y_label_style((FAMILY, TICK_PX).into_font())
        .axis_desc_style((FAMILY, AXIS_PX).into_font())
        .draw()
        .map_err(|e| e.to_string())?;
    for s in &l.lines {
        let c = color(s.color);
        let p: Vec<(f64, f64)> = s
            .points
            .iter()
            .copied()
            .filter(|&(x, y)| ok(x, y))
            .map(|(x, y)| (tx(x), ty(y).clamp(ylo, yhi)))
            .collect();
        if s.dashed {
            chart
                .draw_series(DashedLineSeries::new(p.clone(), 9, 6, c.stroke_width(3)))
                .map_err(|e| e.to_string())?;
        } else {
            chart
                .draw_series(LineSeries::new(p.clone(), c.stroke_width(3)))
                .map_err(|e| e.to_string())?;
        }
        if s.markers {
            chart
                .draw_series(p.iter().map(|&q| Circle::new(q, 5, c.filled())))
                .map_err(|e| e.to_string())?;
        }
        // A lone point gets a ring, so that it shows beside other lines' markers.
        if s.markers && p.len() == 1 {
            chart
                .draw_series(p.iter().map(|&q| Circle::new(q, 10, c.stroke_width(3))))
                .map_err(|e| e.to_string())?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_and_ticks() {
        assert_eq!(short(0.12345), "0.123");
        assert_eq!(short(12.0), "12");
        assert_eq!(short(1234.6), "1235");
        assert_eq!(short(2.5e-5), "2.5e-5");
        let t = log_ticks(-1.0, 1.0);
        let v: Vec<String> = t.iter().map(|x| short(10f64.powf(*x))).collect();
        assert_eq!(v, ["0.1", "0.2", "0.5", "1", "2", "5", "10"]);
        assert_eq!(
            linear_ticks(0.0, 100.0),
            vec![0.0, 20.0, 40.0, 60.0, 80.0, 100.0]
        );
    }

    #[test]
    fn stacked_bars_print_each_total() {
        let dir = std::env::temp_dir().join(format!("pelab-plots-st-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = Figure {
            stem: "st".into(),
            panels: vec![Panel::Stacked(Stacked {
                title: "stacked".into(),
                value_axis: "energy (µJ)".into(),
                categories: vec!["a".into(), "b".into()],
                segments: vec![
                    BarSeries {
                        name: "x".into(),
                        values: vec![Some(1.25), Some(10.5)],
                    },
                    BarSeries {
                        name: "y".into(),
                        values: vec![Some(2.5), None],
                    },
                ],
            })],
            notes: vec![],
            width: 800,
        };
        let files = f.write(&dir).unwrap();
        let svg = std::fs::read_to_string(&files[1]).unwrap();
        // Totals: 1.25 + 2.5 and 10.5 (a missing segment adds nothing).
        let text = |t: &str| svg.lines().any(|l| l.trim() == t);
        assert!(text("3.75") && text("10.5"), "{svg}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn writes_png_and_svg() {
        let dir = std::env::temp_dir().join(format!("pelab-plots-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = Figure {
            stem: "t".into(),
            panels: vec![
                Panel::Bars(Bars {
                    title: "bars".into(),
                    value_axis: "energy (pJ)".into(),
                    categories: vec!["a".into(), "b".into()],
                    series: vec![BarSeries {
                        name: "s".into(),
                        values: vec![Some(1.0), None],
                    }],
                    log: true,
                    value_labels: true,
                    missing: "n/a".into(),
                }),
                Panel::Lines(Lines {
                    title: "lines".into(),
                    x_axis: "x".into(),
                    y_axis: "y (%)".into(),
                    lines: vec![Line {
                        name: "l".into(),
                        points: vec![(1.0, 1.0), (2.0, 4.0)],
                        dashed: true,
                        color: 1,
                        markers: true,
                        legend: true,
                    }],
                    log_x: false,
                    log_y: true,
                    x_ticks: None,
                    y_range: None,
                }),
            ],
            notes: vec!["source: test".into()],
            width: 900,
        };
        let files = f.write(&dir).unwrap();
        let png = std::fs::read(&files[0]).unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        let svg = std::fs::read_to_string(&files[1]).unwrap();
        assert!(svg.contains("<svg") && svg.contains("energy (pJ)"));
        let left: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().starts_with('.'))
            .collect();
        assert!(left.is_empty(), "temporary files left: {left:?}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
