//! The overview's charts as SVG documents drawn by the server: shown with `<img>`, so
//! that no script runs in them and the console loads nothing from outside. Every text
//! from the database (department names) is escaped.

use std::fmt::Write;

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 240.0;
const LEFT: f64 = 48.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 28.0;
const BOTTOM: f64 = 36.0;
const FONT: &str = "font-family=\"sans-serif\" font-size=\"11\"";

/// Series colours: open findings, known exploited, used by ransomware.
const COLOURS: [&str; 3] = ["#7f9cad", "#d08c2d", "#b3261e"];

/// The words of a chart, so that it can be drawn in the user's language.
pub struct ChartText<'a> {
    pub title: &'a str,
    pub series: [&'a str; 3],
    pub empty: &'a str,
}

/// One point of a series chart: a label (a day) and its three values.
pub struct Point {
    pub label: String,
    pub values: [i64; 3],
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

fn open_svg(height: f64, title: &str) -> String {
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{height}\" viewBox=\"0 0 {WIDTH} {height}\" role=\"img\" aria-label=\"{t}\">\
         <rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\
         <text x=\"{LEFT}\" y=\"16\" {FONT} font-weight=\"bold\" fill=\"#1d3340\">{t}</text>",
        t = escape(title)
    );
    svg.reserve(4096);
    svg
}

fn legend(svg: &mut String, text: &ChartText<'_>, y: f64) {
    let mut x = WIDTH - RIGHT - 330.0;
    for (name, colour) in text.series.iter().zip(COLOURS) {
        let _ = write!(
            svg,
            "<rect x=\"{x}\" y=\"{}\" width=\"10\" height=\"10\" fill=\"{colour}\"/>\
             <text x=\"{}\" y=\"{y}\" {FONT} fill=\"#333333\">{}</text>",
            y - 9.0,
            x + 14.0,
            escape(name)
        );
        x += 110.0;
    }
}

/// A round step for about five grid lines up to `max`.
fn grid_step(max: i64) -> i64 {
    let rough = (max.max(1) as f64 / 5.0).max(1.0);
    let magnitude = 10f64.powf(rough.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|s| *s >= rough)
        .unwrap_or(rough);
    step as i64
}

/// Lines of the three series over the points (days), oldest first.
pub fn risk_over_time(points: &[Point], text: &ChartText<'_>) -> String {
    let mut svg = open_svg(HEIGHT, text.title);
    legend(&mut svg, text, 16.0);
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    if points.is_empty() {
        let _ = write!(
            svg,
            "<text x=\"{LEFT}\" y=\"{}\" {FONT} fill=\"#666666\">{}</text></svg>",
            TOP + plot_h / 2.0,
            escape(text.empty)
        );
        return svg;
    }
    let max = points
        .iter()
        .flat_map(|p| p.values)
        .max()
        .unwrap_or(0)
        .max(1);
    let step = grid_step(max);
    let top = ((max + step - 1) / step) * step;
    let y_of = |v: i64| TOP + plot_h - (v as f64 / top as f64) * plot_h;
    let x_of = |i: usize| {
        if points.len() == 1 {
            LEFT + plot_w / 2.0
        } else {
            LEFT + plot_w * i as f64 / (points.len() - 1) as f64
        }
    };
    let mut v = 0;
    while v <= top {
        let y = y_of(v);
        let _ = write!(
            svg,
            "<line x1=\"{LEFT}\" y1=\"{y:.1}\" x2=\"{}\" y2=\"{y:.1}\" stroke=\"#e3e8eb\"/>\
             <text x=\"{}\" y=\"{:.1}\" {FONT} text-anchor=\"end\" fill=\"#666666\">{v}</text>",
            WIDTH - RIGHT,
            LEFT - 6.0,
            y + 4.0
        );
        v += step;
    }
    for (series, colour) in COLOURS.iter().enumerate() {
        let path: Vec<String> = points
            .iter()
            .enumerate()
            .map(|(i, p)| format!("{:.1},{:.1}", x_of(i), y_of(p.values[series])))
            .collect();
        let _ = write!(
            svg,
            "<polyline fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\" points=\"{}\"/>",
            path.join(" ")
        );
        if let (Some(last), Some(p)) = (points.len().checked_sub(1), points.last()) {
            let _ = write!(
                svg,
                "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3\" fill=\"{colour}\"/>",
                x_of(last),
                y_of(p.values[series])
            );
        }
    }
    let label_y = HEIGHT - BOTTOM + 16.0;
    let shown: Vec<usize> = match points.len() {
        1 => vec![0],
        n => vec![0, n / 2, n - 1],
    };
    for i in shown {
        // The first and last labels end inside the chart.
        let anchor = match i {
            0 if points.len() > 1 => "start",
            i if i + 1 == points.len() && points.len() > 1 => "end",
            _ => "middle",
        };
        let _ = write!(
            svg,
            "<text x=\"{:.1}\" y=\"{label_y}\" {FONT} text-anchor=\"{anchor}\" fill=\"#666666\">{}</text>",
            x_of(i),
            escape(&points[i].label)
        );
    }
    svg.push_str("</svg>");
    svg
}

/// One bar per department: its open findings, with the known exploited and the
/// ransomware ones drawn over it, largest first.
pub fn by_department(points: &[Point], text: &ChartText<'_>) -> String {
    let row = 22.0;
    let height = TOP + 10.0 + row * points.len().max(1) as f64 + 12.0;
    let mut svg = open_svg(height, text.title);
    legend(&mut svg, text, 16.0);
    if points.is_empty() {
        let _ = write!(
            svg,
            "<text x=\"{LEFT}\" y=\"{}\" {FONT} fill=\"#666666\">{}</text></svg>",
            TOP + 24.0,
            escape(text.empty)
        );
        return svg;
    }
    let label_w = 150.0;
    let bar_x = label_w + 8.0;
    let bar_w = WIDTH - RIGHT - bar_x - 60.0;
    let max = points.iter().map(|p| p.values[0]).max().unwrap_or(0).max(1);
    for (i, p) in points.iter().enumerate() {
        let y = TOP + 10.0 + row * i as f64;
        let name: String = p.label.chars().take(24).collect();
        let _ = write!(
            svg,
            "<text x=\"{label_w}\" y=\"{:.1}\" {FONT} text-anchor=\"end\" fill=\"#333333\">{}</text>",
            y + 12.0,
            escape(&name)
        );
        for (series, colour) in COLOURS.iter().enumerate() {
            let w = bar_w * p.values[series] as f64 / max as f64;
            if w > 0.0 {
                let _ = write!(
                    svg,
                    "<rect x=\"{bar_x}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"15\" fill=\"{colour}\"/>"
                );
            }
        }
        let _ = write!(
            svg,
            "<text x=\"{:.1}\" y=\"{:.1}\" {FONT} fill=\"#333333\">{}</text>",
            bar_x + bar_w * p.values[0] as f64 / max as f64 + 6.0,
            y + 12.0,
            p.values[0]
        );
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: ChartText<'static> = ChartText {
        title: "Risk",
        series: ["open", "exploited", "ransomware"],
        empty: "nothing yet",
    };

    fn point(label: &str, values: [i64; 3]) -> Point {
        Point {
            label: label.into(),
            values,
        }
    }

    #[test]
    fn a_hostile_department_name_is_text_in_the_chart() {
        let svg = by_department(&[point("<img src=x>&\"", [5, 2, 1])], &TEXT);
        assert!(!svg.contains("<img"), "{svg}");
        assert!(svg.contains("&lt;img src=x&gt;&amp;&quot;"), "{svg}");
        assert_eq!(
            svg.matches("<rect x=\"158\"").count(),
            3,
            "three bars: {svg}"
        );
    }

    #[test]
    fn lines_follow_the_values_and_an_empty_chart_says_so() {
        let svg = risk_over_time(
            &[
                point("2026-12-01", [10, 4, 1]),
                point("2026-12-02", [20, 4, 1]),
                point("2026-12-03", [5, 0, 0]),
            ],
            &TEXT,
        );
        assert_eq!(svg.matches("<polyline").count(), 3);
        // The highest value (20) sits at the top of the plot (y = 28).
        assert!(svg.contains(",28.0"), "{svg}");
        assert!(svg.contains(">2026-12-01<") && svg.contains(">2026-12-03<"));
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        let empty = risk_over_time(&[], &TEXT);
        assert!(empty.contains("nothing yet") && !empty.contains("polyline"));
    }

    #[test]
    fn grid_steps_are_round() {
        assert_eq!(grid_step(0), 1);
        assert_eq!(grid_step(7), 2);
        assert_eq!(grid_step(20), 5);
        assert_eq!(grid_step(1_999_000), 500_000);
    }
}
