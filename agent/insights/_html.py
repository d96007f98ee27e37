"""`render_html`: one self-contained page (inline CSS, inline SVG charts, no script).

Everything shown that came from a summary is HTML-escaped: line text, templates, user names
and addresses are chosen by whoever wrote the log line. A Content-Security-Policy that allows
no script and no fetch at all backs the escaping up.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from html import escape

from agent.insights._model import CountedKey, LineRef, Summary
from agent.insights._narrative import KIND_WORDS
from agent.insights._text import escape_terminal
from agent.insights._timefmt import DAY_NS, NS, fmt_duration, fmt_time

COLORS = {
    "failed_login": "#d64541", "security_alert": "#8e44ad", "admin_change": "#e67e22",
    "login": "#27ae60", "error": "#b8860b", "normal": "#7f8c8d",
}
_PALETTE = ("#2e86c1", "#16a085", "#c0392b", "#7d3c98", "#d35400", "#2c3e50")
ORDER = ("failed_login", "security_alert", "admin_change", "login", "error", "normal")


def _color(category: str) -> str:
    if category in COLORS:
        return COLORS[category]
    return _PALETTE[hashlib.sha256(category.encode()).digest()[0] % len(_PALETTE)]


def _e(text: object) -> str:
    # Controls shown as \xNN first (visible, as in the text report), then HTML-escaped.
    return escape(escape_terminal(str(text)), quote=True)


def _cat_key(c: str) -> tuple[int, str]:
    return (ORDER.index(c) if c in ORDER else len(ORDER), c)


CSS = """
:root { --fg:#1d2330; --muted:#5d6778; --line:#e3e7ee; --bg:#f6f7f9; --card:#fff; }
* { box-sizing: border-box; }
body { margin:0; background:var(--bg); color:var(--fg);
  font:14px/1.45 -apple-system, "Segoe UI", "DejaVu Sans", Roboto, Helvetica, Arial, sans-serif; }
main { max-width: 1100px; margin: 0 auto; padding: 24px 20px 40px; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 16px; margin: 0 0 12px; }
.sub { color: var(--muted); margin-bottom: 16px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px;
  padding: 16px 18px; margin: 0 0 16px; }
.chips { display: flex; flex-wrap: wrap; gap: 8px; margin: 0 0 16px; }
.chip { background: var(--card); border: 1px solid var(--line); border-left: 5px solid;
  border-radius: 6px; padding: 6px 12px; min-width: 120px; }
.chip b { display: block; font-size: 20px; }
.chip span { color: var(--muted); font-size: 12px; }
.narr { font-size: 15px; }
.badge { display: inline-block; font-size: 11px; font-weight: 600; border-radius: 10px;
  padding: 1px 8px; margin-right: 6px; vertical-align: 1px; white-space: nowrap; }
.gen { background: #fff3cd; color: #7a5b00; border: 1px solid #f0d98a; }
.det { background: #e8f1fb; color: #1f4e79; border: 1px solid #bcd4ee; }
.k-brute_force_success, .k-silent_agent { background:#fde2e1; color:#9b1c1c; }
.k-first_login_from_address, .k-unusual_hour_login { background:#fff0dd; color:#8a4b00; }
.k-new_template, .k-rare_template { background:#ece6f8; color:#4b2a86; }
.k-rate_spike, .k-rate_drop { background:#e3f2ea; color:#1e6a3c; }
table { width: 100%; border-collapse: collapse; }
th, td { text-align: left; vertical-align: top; padding: 7px 8px;
  border-top: 1px solid var(--line); }
th { font-size: 12px; color: var(--muted); font-weight: 600; border-top: 0; }
.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
th.num { text-align: right; }
code, .mono { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 12.5px; }
.tpl { overflow-wrap: anywhere; }
.refs { color: var(--muted); font-size: 12px; margin-top: 3px; overflow-wrap: anywhere; }
.refs .r { white-space: nowrap; }
.line { font-size: 12px; margin-top: 3px; padding: 2px 6px; background: #f6f7f9;
  border-radius: 4px; overflow-wrap: anywhere; white-space: pre-wrap; }
.line span { color: var(--muted); }
.detail { color: var(--muted); font-size: 13px; }
.grid2 { display: grid; grid-template-columns: 1fr 1fr; gap: 16px; }
@media (max-width: 800px) { .grid2 { grid-template-columns: 1fr; } }
.empty { color: var(--muted); font-style: italic; }
svg text { font-family: inherit; }
ul.notes { margin: 0; padding-left: 18px; color: var(--muted); }
footer { color: var(--muted); font-size: 12px; }
"""


HTML_LINES_PER_GROUP = 5
MAX_COLUMNS = 288


def _ref(r: LineRef) -> str:
    return f"{r.agent}/{r.seq}/{r.index}"


def _refs(refs: Sequence[LineRef], total: int | None = None) -> str:
    if not refs:
        return ""
    # One ref never breaks across lines (a wrapped "web-" / "1/3/5" reads as two refs).
    text = " ".join(f'<span class="r">{_e(_ref(r))}</span>' for r in refs)
    more = (total or 0) - len(refs)
    if more > 0:
        text += f" (+{more:,} more)"
    return f'<div class="refs mono" title="AGENT/SEQ/INDEX">lines: {text}</div>'


def _tick_label(ns: int, span_ns: int) -> str:
    t = dt.datetime.fromtimestamp(ns / NS, dt.UTC)
    return t.strftime("%d %b %H:%M") if span_ns > 2 * DAY_NS else t.strftime("%H:%M")


def _buckets(summary: Summary) -> list[int]:
    step = summary.bucket_ns
    if step <= 0:
        return []
    return list(range(summary.window_start_ns - summary.window_start_ns % step,
                      summary.window_end_ns, step))


def timeline_svg(summary: Summary) -> str:
    """One row of bars per category over the window's buckets, each row scaled to its own
    maximum (printed at its right), so a rare category is as readable as a busy one."""
    cats = sorted(summary.category_timeline, key=_cat_key)
    if not cats:
        return '<p class="empty">No lines in the window.</p>'
    buckets = _buckets(summary)
    # At most MAX_COLUMNS bars a row: a week of 1-minute buckets would be 10,080 rects.
    per = max(1, -(-len(buckets) // MAX_COLUMNS))
    columns = [buckets[i:i + per] for i in range(0, len(buckets), per)]
    width_ns = summary.bucket_ns * per
    left, right, row_h, gap, width = 120, 70, 34, 8, 1000
    plot_w = width - left - right
    bar_w = plot_w / max(len(columns), 1)
    height = len(cats) * (row_h + gap) + 40
    parts = [f'<svg viewBox="0 0 {width} {height}" width="100%" role="img" '
             'aria-label="lines per category over time" xmlns="http://www.w3.org/2000/svg">']
    for row, cat in enumerate(cats):
        series = summary.category_timeline[cat]
        top = row * (row_h + gap)
        sums = [sum(series.get(b, 0) for b in col) for col in columns]
        peak = max(sums, default=0)
        color = _color(cat)
        parts.append(f'<rect x="{left}" y="{top}" width="{plot_w}" height="{row_h}" '
                     'fill="#f3f5f8"/>')
        parts.append(f'<text x="{left - 8}" y="{top + row_h / 2 + 4}" text-anchor="end" '
                     f'font-size="12" fill="#1d2330">{_e(cat)}</text>')
        for i, (col, n) in enumerate(zip(columns, sums, strict=True)):
            if not n or not peak:
                continue
            h = max(1.5, row_h * n / peak)
            tip = f"{cat}: {n:,} lines in {fmt_duration(width_ns)} from {fmt_time(col[0])}"
            parts.append(
                f'<rect x="{left + i * bar_w:.2f}" y="{top + row_h - h:.2f}" '
                f'width="{max(bar_w - 0.6, 0.8):.2f}" height="{h:.2f}" fill="{color}">'
                f"<title>{_e(tip)}</title></rect>")
        parts.append(f'<text x="{width - right + 6}" y="{top + 12}" font-size="11" '
                     f'fill="#5d6778">max {peak:,}</text>')
    lane_y = len(cats) * (row_h + gap) + 2  # anomaly markers, under the rows
    axis_y = lane_y + 24
    first = buckets[0] if buckets else summary.window_start_ns
    span_ns = max(len(buckets) * summary.bucket_ns, 1)
    if summary.anomalies:
        parts.append(f'<text x="{left - 8}" y="{lane_y + 9}" text-anchor="end" font-size="11" '
                     'fill="#d64541">anomalies</text>')
    for a in summary.anomalies:
        if not first <= a.time_ns < first + span_ns:
            continue
        x = left + plot_w * (a.time_ns - first) / span_ns
        parts.append(f'<path d="M{x:.1f},{lane_y} l-5,9 h10 z" fill="#d64541">'
                     f"<title>{_e(KIND_WORDS[a.kind] + ': ' + a.subject)}</title></path>")
    span = summary.window_end_ns - summary.window_start_ns
    ticks = 6
    for k in range(ticks + 1):
        x = left + plot_w * k / ticks
        ns = buckets[0] + (len(buckets) * summary.bucket_ns) * k // ticks if buckets else 0
        anchor = "start" if k == 0 else "end" if k == ticks else "middle"
        parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{axis_y - 12}" y2="{axis_y - 8}" '
                     'stroke="#9aa3b2"/>')
        parts.append(f'<text x="{x:.1f}" y="{axis_y + 4}" font-size="11" fill="#5d6778" '
                     f'text-anchor="{anchor}">{_e(_tick_label(ns, span))}</text>')
    parts.append("</svg>")
    return "".join(parts)


def bars_svg(keys: Sequence[CountedKey], color: str, label: str) -> str:
    """Horizontal bars: one per key, longest first."""
    if not keys:
        return f'<p class="empty">No failed logins {_e(label)}.</p>'
    left, width, row_h = 170, 480, 24
    plot_w = width - left - 60
    peak = max(k.count for k in keys)
    height = len(keys) * row_h + 4
    parts = [f'<svg viewBox="0 0 {width} {height}" width="100%" role="img" '
             f'aria-label="failed logins {_e(label)}" xmlns="http://www.w3.org/2000/svg">']
    for i, k in enumerate(keys):
        y = i * row_h + 2
        w = max(2.0, plot_w * k.count / peak)
        name = k.key if len(k.key) <= 24 else k.key[:23] + "…"
        parts.append(f'<text x="{left - 8}" y="{y + 15}" text-anchor="end" font-size="12" '
                     f'font-family="DejaVu Sans Mono, monospace" fill="#1d2330">'
                     f'<title>{_e(k.key)}</title>{_e(name)}</text>')
        parts.append(f'<rect x="{left}" y="{y + 3}" width="{w:.1f}" height="{row_h - 8}" '
                     f'rx="3" fill="{color}"/>')
        parts.append(f'<text x="{left + w + 6:.1f}" y="{y + 15}" font-size="12" '
                     f'fill="#5d6778">{k.count:,}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _score(x: float) -> str:
    return f"{x:,.0f}" if x >= 100 else f"{x:.3g}"


def render_html(summary: Summary) -> str:
    """The summary as one self-contained HTML page: category counts, narrative, a timeline
    per category, top failing users and addresses, anomalies, the audit trail and notes.
    No external asset and no script; every text is escaped."""
    s = summary
    scope = f"agent {s.agent_filter}" if s.agent_filter else "all agents"
    title = f"sealtail summary {fmt_time(s.window_start_ns)} – {fmt_time(s.window_end_ns)}"
    out = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        'style-src \'unsafe-inline\'; img-src data:">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(title)}</title><style>{CSS}</style></head><body><main>",
        "<h1>sealtail summary</h1>",
        f'<div class="sub">{_e(fmt_time(s.window_start_ns))} – {_e(fmt_time(s.window_end_ns))}'
        f" ({_e(fmt_duration(s.window_end_ns - s.window_start_ns))}), {_e(scope)} · "
        f"{s.total_lines:,} lines · {len(s.counts_by_agent):,} agent(s) · "
        f"{len(s.anomalies):,} anomal{'y' if len(s.anomalies) == 1 else 'ies'}</div>",
        '<div class="chips">',
    ]
    for cat in sorted(s.counts_by_category, key=_cat_key):
        out.append(f'<div class="chip" style="border-left-color:{_color(cat)}">'
                   f"<b>{s.counts_by_category[cat]:,}</b><span>{_e(cat)}</span></div>")
    out.append("</div>")
    if s.narrative:
        badge = ('<span class="badge gen">generated by a model — check against the items '
                 'below</span>' if s.narrative_generated
                 else '<span class="badge det">written from the summary</span>')
        out.append(f'<section class="card"><h2>In short</h2><p class="narr">{badge}'
                   f"{_e(s.narrative)}</p></section>")
    out.append(f'<section class="card"><h2>Anomalies ({len(s.anomalies)})</h2>')
    if s.anomalies:
        out.append('<table><tr><th>kind</th><th>score</th><th>what</th></tr>')
        for a in s.anomalies:
            out.append(
                f'<tr><td><span class="badge k-{_e(a.kind)}">{_e(KIND_WORDS[a.kind])}</span>'
                f'</td><td class="num">{_e(_score(a.score))}</td>'
                f'<td><div class="tpl mono">{_e(a.subject)}</div>'
                f'<div class="detail">{_e(a.detail)}</div>{_refs(a.refs)}</td></tr>')
        out.append("</table>")
    else:
        out.append('<p class="empty">None found.</p>')
    out.append("</section>")

    per = max(1, -(-len(_buckets(s)) // MAX_COLUMNS))
    out.append(f'<section class="card"><h2>Lines per category (one bar = '
               f"{_e(fmt_duration(s.bucket_ns * per))})</h2>{timeline_svg(s)}</section>")
    out.append('<div class="grid2">'
               f'<section class="card"><h2>Top failing users</h2>'
               f'{bars_svg(s.failed_logins_by_user, COLORS["failed_login"], "by user")}'
               "</section>"
               f'<section class="card"><h2>Top failing addresses</h2>'
               f'{bars_svg(s.failed_logins_by_address, "#c0392b", "by address")}</section>'
               "</div>")

    out.append('<section class="card"><h2>Audit trail: security alerts and admin changes, '
               "by template</h2>")
    if s.audit:
        out.append('<table><tr><th>category</th><th>lines</th><th>template</th></tr>')
        for g in s.audit:
            out.append(
                f'<tr><td><span class="badge" style="background:{_color(g.category)};'
                f'color:#fff">{_e(g.category)}</span></td><td class="num">{g.count:,}</td>'
                f'<td><div class="tpl mono">{_e(g.template)}</div>'
                + "".join(f'<div class="line mono"><span>{_e(_ref(ln.ref))} '
                          f"{_e(fmt_time(ln.time_ns))}</span> {_e(ln.text)}</div>"
                          for ln in g.lines[:HTML_LINES_PER_GROUP])
                + f"{_refs(g.refs, g.count)}</td></tr>")
        out.append("</table>")
    else:
        out.append('<p class="empty">No security alert or admin change in the window.</p>')
    out.append("</section>")

    if s.counts_by_agent:
        cats = sorted({c for v in s.counts_by_agent.values() for c in v}, key=_cat_key)
        out.append('<section class="card"><h2>Lines per agent</h2><table><tr><th>agent</th>'
                   + "".join(f'<th class="num">{_e(c)}</th>' for c in cats) + "</tr>")
        for agent, counts in s.counts_by_agent.items():
            out.append(f'<tr><td class="mono">{_e(agent)}</td>'
                       + "".join(f'<td class="num">{counts.get(c, 0):,}</td>' for c in cats)
                       + "</tr>")
        out.append("</table></section>")
    if s.notes:
        out.append('<section class="card"><h2>What could not be judged</h2><ul class="notes">'
                   + "".join(f"<li>{_e(n)}</li>" for n in s.notes) + "</ul></section>")
    out.append("<footer>Lines are listed as AGENT/SEQ/INDEX. Prove one offline: "
               "<code>sealtail prove --collector HOST:PORT --agent AGENT --seq SEQ --index "
               "INDEX --out line.proof.json</code></footer></main></body></html>")
    return "\n".join(out) + "\n"
