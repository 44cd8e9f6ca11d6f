#!/usr/bin/env python3
"""Turns `rivulet-bench ingest` output into the chart and table in docs/benchmarks.md.

    python3 scripts/bench-chart.py [REPORT] [SVG]

REPORT is the JSON the bench writes (default target/rivulet-bench/ingest.json);
SVG (default docs/ingest-views.svg) gets events/s against the number of views:
Rivulet, one signed event per POST, beside PostgreSQL 15's durable one-row
INSERTs into a table with no views and the HTTP ceiling. The Markdown table of
every run goes to standard output. Standard library only.
"""

import json
import sys
from html import escape

REPORT = sys.argv[1] if len(sys.argv) > 1 else "target/rivulet-bench/ingest.json"
SVG = sys.argv[2] if len(sys.argv) > 2 else "docs/ingest-views.svg"

WIDTH, HEIGHT = 800, 420
LEFT, RIGHT, TOP, BOTTOM = 80, 220, 50, 70


def table(report):
    lines = [
        "| what | events/s | range | × HTTP ceiling | × PostgreSQL | p50 | p99 | p999 |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in report["runs"]:
        every = r.get("all_events_per_s") or [r["events_per_s"]]
        lines.append(
            "| {} | {:,.0f} | {:,.0f}–{:,.0f} | {:.2f} | {:.2f} | {:.2f} ms | {:.2f} ms | {:.2f} ms |".format(
                r["what"], r["events_per_s"], min(every), max(every), r["x_ceiling"],
                r["x_postgres"], r["p50_ms"], r["p99_ms"], r["p999_ms"],
            )
        )
    for r in report["runs"]:
        if r["system"] == "rivulet-half-load" and r.get("all_p99_ms"):
            p99s = ", ".join("{:.2f} ms".format(p) for p in r["all_p99_ms"])
            lines.append("")
            lines.append("The paced runs' p99, in order: {}.".format(p99s))
    paired = report.get("paired_pg_ratios") or {}
    if paired.get("2") or paired.get("10"):
        show = lambda key: ", ".join("{:.2f}".format(x) for x in paired.get(key, []))
        lines.append(
            "Each round's Rivulet over that round's PostgreSQL: 2 views {}; 10 views {}.".format(
                show("2"), show("10")
            )
        )
    return "\n".join(lines)


def nice_top(value):
    """The smallest 1, 2 or 5 times a power of ten at or above value."""
    step = 1
    while step * 10 <= value:
        step *= 10
    for m in (1, 2, 5, 10):
        if m * step >= value:
            return m * step
    return 10 * step


def chart(report):
    runs = report["runs"]
    rivulet = sorted(
        (r["views"], r["events_per_s"]) for r in runs if r["system"] == "rivulet"
    )
    postgres = next((r["events_per_s"] for r in runs if r["system"] == "postgres"), None)
    ceiling_name = report.get("ceiling", "nginx")
    ceiling = next((r["events_per_s"] for r in runs if r["system"] == ceiling_name), None)
    if not rivulet:
        sys.exit("no Rivulet runs in " + REPORT)
    top = nice_top(
        max([v for _, v in rivulet] + [3 * (postgres or 0), ceiling or 0]) * 1.05
    )
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    xs = [v for v, _ in rivulet]

    def x(i):
        return LEFT + (plot_w * i / (len(xs) - 1) if len(xs) > 1 else plot_w / 2)

    def y(v):
        return TOP + plot_h * (1 - v / top)

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'font-family="sans-serif" font-size="12">',
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>',
        f'<text x="{LEFT}" y="24" font-size="15" font-weight="bold">'
        "Durable ingest, one signed Segment event per POST</text>",
    ]
    for k in range(6):
        v = top * k / 5
        out.append(
            f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{y(v):.1f}" y2="{y(v):.1f}" stroke="#ddd"/>'
        )
        out.append(
            f'<text x="{LEFT - 8}" y="{y(v) + 4:.1f}" text-anchor="end">{v:,.0f}</text>'
        )
    for i, views in enumerate(xs):
        out.append(
            f'<text x="{x(i):.1f}" y="{TOP + plot_h + 18}" text-anchor="middle">{views}</text>'
        )
    out.append(
        f'<text x="{LEFT + plot_w / 2}" y="{HEIGHT - 28}" text-anchor="middle">'
        "materialized views on the table</text>"
    )
    out.append(
        f'<text transform="translate(18,{TOP + plot_h / 2}) rotate(-90)" text-anchor="middle">'
        "events per second</text>"
    )
    legend = []
    if ceiling is not None:
        legend.append(("#999", "4 4", f"HTTP ceiling ({escape(ceiling_name)})"))
        out.append(
            f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{y(ceiling):.1f}" y2="{y(ceiling):.1f}" '
            'stroke="#999" stroke-width="2" stroke-dasharray="4 4"/>'
        )
    if postgres is not None:
        legend.append(("#c44", "8 4", "PostgreSQL 15, no views"))
        legend.append(("#e99", "2 3", "3 × PostgreSQL"))
        out.append(
            f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{y(3 * postgres):.1f}" '
            f'y2="{y(3 * postgres):.1f}" stroke="#e99" stroke-width="1.5" stroke-dasharray="2 3"/>'
        )
        out.append(
            f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{y(postgres):.1f}" y2="{y(postgres):.1f}" '
            'stroke="#c44" stroke-width="2" stroke-dasharray="8 4"/>'
        )
    points = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, (_, v) in enumerate(rivulet))
    out.append(f'<polyline points="{points}" fill="none" stroke="#2a6" stroke-width="3"/>')
    for i, (_, v) in enumerate(rivulet):
        out.append(f'<circle cx="{x(i):.1f}" cy="{y(v):.1f}" r="4" fill="#2a6"/>')
        out.append(
            f'<text x="{x(i):.1f}" y="{y(v) - 9:.1f}" text-anchor="middle" font-size="11">{v:,.0f}</text>'
        )
    legend.insert(0, ("#2a6", "", "Rivulet (VALIDATE + views)"))
    for k, (color, dash, label) in enumerate(legend):
        ly = TOP + 10 + 22 * k
        lx = LEFT + plot_w + 14
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        out.append(
            f'<line x1="{lx}" x2="{lx + 24}" y1="{ly}" y2="{ly}" stroke="{color}" '
            f'stroke-width="3"{dash_attr}/>'
        )
        out.append(f'<text x="{lx + 30}" y="{ly + 4}" font-size="11">{label}</text>')
    m = report.get("machine", {})
    caption = (
        "{} × {}, {} GiB, Linux {}; {} connections, load generator on the same cores; "
        "median of {} runs"
    ).format(
        m.get("cpus", "?"), m.get("cpu", "?"), m.get("memory_gib", "?"), m.get("kernel", "?"),
        report.get("connections", "?"), report.get("repeats", 1),
    )
    out.append(f'<text x="{LEFT}" y="{HEIGHT - 8}" font-size="10" fill="#555">{escape(caption)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main():
    with open(REPORT) as f:
        report = json.load(f)
    with open(SVG, "w") as f:
        f.write(chart(report))
    print(table(report))
    print(f"\nchart: {SVG}", file=sys.stderr)


if __name__ == "__main__":
    main()
