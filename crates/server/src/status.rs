//! The status page (`/` and `/status` on the admin listener): one
//! server-rendered HTML page, no scripts and no external assets, with
//! what an operator looks at first — tables with their ingest rate and
//! last event, views with their rows and maintenance time and each view's
//! dataflow drawn as a graph, and the most recent refused deliveries.

use std::fmt::Write;

use rivulet_catalog::{Plan, Relation};
use rivulet_stream::metrics::RelationLabels;
use rivulet_stream::{Database, TableActivity};

/// Refusals shown.
const REJECTIONS_SHOWN: usize = 25;

/// What the page shows of one relation.
struct Row {
    rel: std::sync::Arc<Relation>,
    rows: Option<i64>,
}

/// `text` escaped for HTML.
fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// How long ago `at` (µs) was, from `now` (µs).
fn ago(at: Option<i64>, now: i64) -> String {
    let Some(at) = at else {
        return "never".into();
    };
    let secs = (now - at).max(0) / 1_000_000;
    match secs {
        0..=59 => format!("{secs} s ago"),
        60..=3599 => format!("{} min ago", secs / 60),
        3600..=86_399 => format!("{} h ago", secs / 3600),
        _ => format!("{} days ago", secs / 86_400),
    }
}

/// Reads what the page needs; blocking (row counts read storage).
pub fn render(db: &Database) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64);
    let catalog = db.catalog();
    let mut rels: Vec<Row> = catalog
        .relations()
        .map(|r| Row {
            rows: db.row_count_blocking(r).ok(),
            rel: r.clone(),
        })
        .collect();
    rels.sort_by_key(|r| r.rel.id);
    let activity: Vec<TableActivity> = db.webhook_log().activity(now);
    let metrics = db.metrics();
    metrics.refresh(
        rels.iter()
            .filter_map(|r| Some((r.rel.name.clone(), r.rows?))),
    );

    let mut h = String::new();
    h.push_str(concat!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">",
        "<meta name=\"viewport\" content=\"width=device-width\">",
        "<title>Rivulet status</title><style>",
        "body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}",
        "table{border-collapse:collapse;margin:.5em 0 2em}",
        "th,td{border-bottom:1px solid #ddd;padding:.3em .8em;text-align:left;vertical-align:top}",
        "th{background:#f4f4f4}td.n{text-align:right;font-variant-numeric:tabular-nums}",
        "h1{font-size:1.4em}h2{font-size:1.1em;margin-top:1.5em}",
        ".bad{color:#a00}.muted{color:#777}svg text{font:11px monospace}",
        "</style></head><body>\n"
    ));
    let resident = metrics.resident_bytes.get() as f64 / (1 << 20) as f64;
    let budget = metrics.budget_bytes.get() as f64 / (1 << 20) as f64;
    let _ = writeln!(
        h,
        "<h1>Rivulet</h1><p>Memory: <b>{resident:.0} MiB</b> resident of a {budget:.0} MiB budget. Writer: {}.</p>",
        if db.has_failed() {
            "<b class=\"bad\">stopped — restart the server</b>"
        } else {
            "running"
        }
    );

    h.push_str("<h2 id=\"tables\">Tables</h2>\n<table><tr><th>table</th><th>kind</th><th>rows</th><th>rows/s (last minute)</th><th>deliveries stored</th><th>refused</th><th>last event</th></tr>\n");
    for r in rels.iter().filter(|r| r.rel.table().is_some()) {
        let t = r.rel.table().map(|t| t.webhook.as_ref());
        let kind = match t.flatten() {
            Some(w) if w.typed => "webhook (typed)",
            Some(_) => "webhook",
            None => "table",
        };
        let a = activity.iter().find(|a| a.table == r.rel.name);
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td>{kind}</td><td class=\"n\">{}</td><td class=\"n\">{:.1}</td><td class=\"n\">{}</td><td class=\"n{}\">{}</td><td>{}</td></tr>",
            esc(&r.rel.name),
            r.rows.map_or("?".into(), |n| n.to_string()),
            a.map_or(0.0, |a| a.rows_per_second),
            a.map_or(0, |a| a.accepted),
            if a.is_some_and(|a| a.rejected > 0) { " bad" } else { "" },
            a.map_or(0, |a| a.rejected),
            ago(a.and_then(|a| a.last_accepted), now),
        );
    }
    h.push_str("</table>\n");

    h.push_str("<h2 id=\"views\">Materialized views</h2>\n<table><tr><th>view</th><th>rows</th><th>maintenance time</th><th>dataflow</th></tr>\n");
    for r in rels.iter().filter(|r| r.rel.view().is_some()) {
        let Some(spec) = r.rel.view() else { continue };
        let secs = metrics
            .view_seconds
            .get_or_create(&RelationLabels {
                name: r.rel.name.clone(),
            })
            .get();
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{secs:.3} s</td><td>{}</td></tr>",
            esc(&r.rel.name),
            r.rows.map_or("?".into(), |n| n.to_string()),
            dataflow_svg(&spec.plan),
        );
    }
    h.push_str("</table>\n");

    h.push_str("<h2 id=\"rejections\">Recent refused deliveries</h2>\n");
    let rejections = db.webhook_log().recent_rejections(REJECTIONS_SHOWN);
    if rejections.is_empty() {
        h.push_str("<p class=\"muted\">None since start-up.</p>\n");
    } else {
        h.push_str("<table><tr><th>when</th><th>table</th><th>status</th><th>reason</th><th>body bytes</th><th>from</th></tr>\n");
        for r in rejections {
            let _ = writeln!(
                h,
                "<tr><td>{}</td><td>{}</td><td class=\"n bad\">{}</td><td>{}</td><td class=\"n\">{}</td><td>{}</td></tr>",
                ago(Some(r.at), now),
                esc(r.table.as_deref().unwrap_or("")),
                r.status,
                esc(&r.reason),
                r.body_bytes,
                esc(&r.remote_addr),
            );
        }
        h.push_str("</table>\n");
    }
    h.push_str("<p class=\"muted\">Metrics for Prometheus: <a href=\"/metrics\">/metrics</a>. Queries: <code>rivulet_catalog.webhook_rejections</code>, <code>rivulet_catalog.webhook_stats</code>.</p>\n</body></html>\n");
    h
}

/// Width and height of a node box, and the gaps between them.
const NODE_W: f64 = 230.0;
const NODE_H: f64 = 26.0;
const GAP_X: f64 = 16.0;
const GAP_Y: f64 = 22.0;
/// Longest label drawn in a box (the full one is its tooltip).
const LABEL_CHARS: usize = 32;

/// A node placed: its column (in node widths) and depth.
struct Placed {
    label: String,
    x: f64,
    depth: usize,
    parent: Option<usize>,
}

/// Places `plan`'s nodes: leaves left to right, each parent centred over
/// its inputs; the root at the top, scans at the bottom.
fn place(
    plan: &Plan,
    depth: usize,
    parent: Option<usize>,
    next_leaf: &mut f64,
    out: &mut Vec<Placed>,
) -> f64 {
    let me = out.len();
    out.push(Placed {
        label: plan.label(),
        x: 0.0,
        depth,
        parent,
    });
    let inputs = plan.inputs();
    let x = if inputs.is_empty() {
        let x = *next_leaf;
        *next_leaf += 1.0;
        x
    } else {
        let xs: Vec<f64> = inputs
            .iter()
            .map(|p| place(p, depth + 1, Some(me), next_leaf, out))
            .collect();
        (xs[0] + xs[xs.len() - 1]) / 2.0
    };
    out[me].x = x;
    x
}

/// A view's plan as an SVG graph: one box per operator, an arrow from
/// each input to the operator it feeds.
fn dataflow_svg(plan: &Plan) -> String {
    let mut nodes = Vec::new();
    let mut leaves = 0.0;
    place(plan, 0, None, &mut leaves, &mut nodes);
    let depth = nodes.iter().map(|n| n.depth).max().unwrap_or(0) + 1;
    let width = leaves.max(1.0) * (NODE_W + GAP_X);
    let height = depth as f64 * (NODE_H + GAP_Y);
    let pos = |n: &Placed| {
        (
            n.x * (NODE_W + GAP_X) + GAP_X / 2.0,
            n.depth as f64 * (NODE_H + GAP_Y) + GAP_Y / 2.0,
        )
    };
    let mut s = format!(
        "<svg class=\"dataflow\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{width:.0}\" height=\"{height:.0}\" viewBox=\"0 0 {width:.0} {height:.0}\" role=\"img\" aria-label=\"dataflow\">",
    );
    s.push_str("<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"6\" markerHeight=\"6\" orient=\"auto\"><path d=\"M0,0L10,5L0,10z\" fill=\"#888\"/></marker></defs>");
    for n in &nodes {
        if let Some(p) = n.parent {
            let (x1, y1) = pos(n);
            let (x2, y2) = pos(&nodes[p]);
            let _ = write!(
                s,
                "<line x1=\"{:.0}\" y1=\"{:.0}\" x2=\"{:.0}\" y2=\"{:.0}\" stroke=\"#888\" marker-end=\"url(#arrow)\"/>",
                x1 + NODE_W / 2.0,
                y1,
                x2 + NODE_W / 2.0,
                y2 + NODE_H
            );
        }
    }
    for n in &nodes {
        let (x, y) = pos(n);
        let shown: String = if n.label.chars().count() > LABEL_CHARS {
            n.label.chars().take(LABEL_CHARS - 1).chain(['…']).collect()
        } else {
            n.label.clone()
        };
        let _ = write!(
            s,
            "<g class=\"node\"><title>{}</title><rect x=\"{x:.0}\" y=\"{y:.0}\" width=\"{NODE_W}\" height=\"{NODE_H}\" rx=\"4\" fill=\"#eef4fb\" stroke=\"#5b8fc9\"/><text x=\"{:.0}\" y=\"{:.0}\">{}</text></g>",
            esc(&n.label),
            x + 6.0,
            y + NODE_H / 2.0 + 4.0,
            esc(&shown)
        );
    }
    s.push_str("</svg>");
    s
}
