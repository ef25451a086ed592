"""Findings-over-time charts as inline SVG, built on the server from plain data.

Pure functions: points in, an SVG string out; no database, no clock, no templates. The output is meant to
be placed inside an HTML page as is, so every piece of text and every attribute value that comes from the
caller is HTML-escaped here (the page's Jinja2 autoescaping does not see inside it). Colours are SVG
presentation attributes and the rest is styled through classes, never a `style` attribute or element, so a
Content-Security-Policy without 'unsafe-inline' styles renders it unchanged. No script, no external
reference: links to scans are the only `href`s, and they are whatever the caller passes (escaped).

`trend_chart` draws one line per severity (CRITICAL, HIGH, MEDIUM, LOW by default) over a time axis,
with a dot per scan and severity; each scan's dots sit in one group (a link when the point has an `href`)
whose `<title>` is the tooltip listing its counts. `sparkline` draws one small line of totals.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from html import escape

SERIES: tuple[str, ...] = ("CRITICAL", "HIGH", "MEDIUM", "LOW")
COLOURS: Mapping[str, str] = {
    "CRITICAL": "#c4291c",
    "HIGH": "#e8590c",
    "MEDIUM": "#b08800",
    "LOW": "#2b6cb0",
    "UNKNOWN": "#667085",
}
DEFAULT_COLOUR = "#667085"
_ID_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


@dataclass(frozen=True)
class TrendPoint:
    """One finished scan: when it ran and its finding counts by severity name."""

    at: datetime
    counts: Mapping[str, int] = field(default_factory=dict)
    label: str = ""  # for the tooltip, e.g. "scan 3f2a…"
    href: str | None = None  # the dots become a link to this (escaped, not otherwise checked)
    partial: bool = False  # a scanner job failed: counts may be short; drawn as hollow dots


@dataclass(frozen=True)
class Geometry:
    width: int = 760
    height: int = 280
    left: int = 52  # room for the y tick labels and the rotated axis label
    right: int = 16
    top: int = 34  # room for the legend
    bottom: int = 46  # room for the x tick labels and the axis label

    @property
    def plot_width(self) -> float:
        return float(self.width - self.left - self.right)

    @property
    def plot_height(self) -> float:
        return float(self.height - self.top - self.bottom)


def _text(value: object) -> str:
    return escape(str(value), quote=True)


def _id(value: str) -> str:
    # ids are referenced by aria-labelledby: keep them to characters that need no escaping at all
    return _ID_UNSAFE.sub("-", value)[:80] or "chart"


def _num(value: float) -> str:
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def nice_scale(max_value: int, intervals: int = 4) -> tuple[int, int]:
    """The top of the y axis and its tick step: a round step (1, 2, 2.5 or 5 times a power of ten, whole
    numbers only) giving about `intervals` intervals, and the smallest multiple of it >= max_value."""
    if max_value <= 0:
        return 1, 1
    raw = max_value / intervals
    magnitude = 10 ** math.floor(math.log10(raw)) if raw >= 1 else 1
    step = magnitude * 10
    for multiple in (1, 2, 2.5, 5, 10):
        candidate = multiple * magnitude
        if candidate >= raw and float(candidate).is_integer():
            step = int(candidate)
            break
    step = max(1, int(step))
    return step * math.ceil(max_value / step), step


_TICK_STEPS = (
    *(timedelta(minutes=m) for m in (5, 15, 30)),
    *(timedelta(hours=h) for h in (1, 2, 3, 6, 12)),
    *(timedelta(days=d) for d in (1, 2, 3, 7, 14, 30, 61, 91, 182, 365)),
)


def time_ticks(start: datetime, end: datetime, max_ticks: int = 8) -> list[tuple[datetime, str]]:
    """Round instants between start and end (UTC) with their labels: dates for daily steps, times of day
    for shorter ones (the date again at midnight)."""
    start, end = _utc(start), _utc(end)
    span = end - start
    step = next((s for s in _TICK_STEPS if span / s <= max_ticks), _TICK_STEPS[-1])
    midnight = start.replace(hour=0, minute=0, second=0, microsecond=0)
    if step >= timedelta(days=1):
        first = midnight if midnight >= start else midnight + timedelta(days=1)
    else:
        offset = math.ceil((start - midnight) / step)
        first = midnight + offset * step
    ticks = []
    at = first
    while at <= end:
        daily = step >= timedelta(days=1) or (at.hour == 0 and at.minute == 0)
        ticks.append((at, at.strftime("%b %d") if daily else at.strftime("%H:%M")))
        at += step
    return ticks


def _summary(point: TrendPoint, series: Sequence[str]) -> str:
    counts = ", ".join(f"{name} {int(point.counts.get(name, 0))}" for name in series)
    parts = [_utc(point.at).strftime("%Y-%m-%d %H:%M UTC")]
    if point.label:
        parts.append(point.label)
    text = " · ".join(parts) + f": {counts}"
    if point.partial:
        text += " (a scanner failed: counts may be incomplete)"
    return text


def trend_chart(
    points: Sequence[TrendPoint],
    *,
    title: str,
    chart_id: str,
    series: Sequence[str] = SERIES,
    start: datetime | None = None,
    end: datetime | None = None,
    geometry: Geometry | None = None,
    y_label: str = "findings",
    x_label: str = "scan time (UTC)",
) -> str:
    """A multi-line chart of counts per series over time. The x axis spans start..end (widened to hold
    every point; the points' own range when not given); the y axis starts at 0."""
    g = geometry or Geometry()
    ident = _id(chart_id)
    ordered = sorted(points, key=lambda p: _utc(p.at))
    windowed = start is not None or end is not None
    times = [_utc(p.at) for p in ordered]
    lo = _utc(start) if start is not None else (times[0] if times else None)
    hi = _utc(end) if end is not None else (times[-1] if times else None)
    lo = lo or hi or datetime(1970, 1, 1, tzinfo=UTC)
    hi = hi or lo
    if times:
        lo, hi = min(lo, times[0]), max(hi, times[-1])
    if hi <= lo:  # one instant (a single scan): centre it in a day
        lo, hi = lo - timedelta(hours=12), hi + timedelta(hours=12)
    start, end = lo, hi

    period = f"{start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} UTC"
    if ordered:
        latest = ordered[-1]
        now_counts = ", ".join(f"{name} {int(latest.counts.get(name, 0))}" for name in series)
        desc = f"{len(ordered)} scan(s) from {period}. Latest: {now_counts}."
    else:
        desc = f"No finished scans from {period}." if windowed else "No finished scans."
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="trend{"" if ordered else " trend-empty"}" '
        f'viewBox="0 0 {g.width} {g.height}" width="{g.width}" height="{g.height}" role="img" '
        f'aria-labelledby="{ident}-title" aria-describedby="{ident}-desc" font-size="11">',
        f'<title id="{ident}-title">{_text(title)}</title>',
        f'<desc id="{ident}-desc">{_text(desc)}</desc>',
        f'<rect class="frame" x="{g.left}" y="{g.top}" width="{_num(g.plot_width)}" '
        f'height="{_num(g.plot_height)}" fill="none" stroke="#d9dee7"/>',
    ]
    bottom = g.top + g.plot_height
    if not ordered:
        out.append(
            f'<text class="empty" x="{_num(g.left + g.plot_width / 2)}" '
            f'y="{_num(g.top + g.plot_height / 2)}" '
            f'text-anchor="middle" fill="#667085">No finished scans in this period</text>'
        )
        out.append("</svg>")
        return "".join(out)

    peak = max((int(p.counts.get(name, 0)) for p in ordered for name in series), default=0)
    top, step = nice_scale(peak)
    seconds = (end - start).total_seconds()

    def x(at: datetime) -> float:
        return g.left + (_utc(at) - start).total_seconds() / seconds * g.plot_width

    def y(value: int) -> float:
        return bottom - value / top * g.plot_height

    # y axis: grid lines and labels, then its title
    out.append('<g class="y-axis" text-anchor="end" fill="#667085">')
    for value in range(0, top + 1, step):
        out.append(
            f'<line x1="{g.left}" x2="{_num(g.left + g.plot_width)}" y1="{_num(y(value))}" '
            f'y2="{_num(y(value))}" stroke="#eaecf0"/>'
            f'<text x="{g.left - 6}" y="{_num(y(value) + 4)}">{value}</text>'
        )
    out.append("</g>")
    mid = g.top + g.plot_height / 2
    out.append(
        f'<text class="axis-label" x="14" y="{_num(mid)}" text-anchor="middle" fill="#344054" '
        f'transform="rotate(-90 14 {_num(mid)})">{_text(y_label)}</text>'
    )
    # x axis: ticks at round times, then its title
    out.append('<g class="x-axis" text-anchor="middle" fill="#667085">')
    for at, label in time_ticks(start, end):
        out.append(
            f'<line x1="{_num(x(at))}" x2="{_num(x(at))}" y1="{_num(bottom)}" y2="{_num(bottom + 4)}" '
            f'stroke="#98a2b3"/><text x="{_num(x(at))}" y="{_num(bottom + 16)}">{_text(label)}</text>'
        )
    out.append("</g>")
    out.append(
        f'<text class="axis-label" x="{_num(g.left + g.plot_width / 2)}" y="{g.height - 6}" '
        f'text-anchor="middle" fill="#344054">{_text(x_label)}</text>'
    )
    # legend, above the plot
    out.append('<g class="legend">')
    lx = float(g.left)
    for name in series:
        colour = COLOURS.get(name, DEFAULT_COLOUR)
        out.append(
            f'<rect x="{_num(lx)}" y="10" width="10" height="10" rx="2" fill="{colour}"/>'
            f'<text x="{_num(lx + 14)}" y="19" fill="#344054">{_text(name)}</text>'
        )
        lx += 24 + 7 * len(name)
    out.append("</g>")
    # one line per series (a single scan has no line, only its dots)
    if len(ordered) > 1:
        for name in series:
            colour = COLOURS.get(name, DEFAULT_COLOUR)
            d = " ".join(
                f"{'M' if i == 0 else 'L'}{_num(x(p.at))} {_num(y(int(p.counts.get(name, 0))))}"
                for i, p in enumerate(ordered)
            )
            out.append(
                f'<path class="series series-{_id(name.lower())}" d="{d}" fill="none" stroke="{colour}" '
                f'stroke-width="2" stroke-linejoin="round"/>'
            )
    # the dots, one group per scan with its tooltip; drawn after the lines so they stay on top
    out.append('<g class="points">')
    for p in ordered:
        tag = "a" if p.href else "g"
        link = f' href="{_text(p.href)}"' if p.href else ""
        out.append(f'<{tag} class="point"{link}><title>{_text(_summary(p, series))}</title>')
        for name in series:
            colour = COLOURS.get(name, DEFAULT_COLOUR)
            fill = "#fff" if p.partial else colour
            out.append(
                f'<circle class="dot dot-{_id(name.lower())}" cx="{_num(x(p.at))}" '
                f'cy="{_num(y(int(p.counts.get(name, 0))))}" r="3.5" fill="{fill}" stroke="{colour}" '
                f'stroke-width="1.5"/>'
            )
        out.append(f"</{tag}>")
    out.append("</g></svg>")
    return "".join(out)


def sparkline(values: Sequence[int], *, label: str, width: int = 96, height: int = 22) -> str:
    """A small line of values (oldest first, evenly spaced) scaled from 0 to their maximum, with a dot on
    the newest at the right end; an empty string when there are none. `label` is its accessible name and
    tooltip."""
    if not values:
        return ""
    pad = 3.0
    top = max(max(values), 1)
    inner_w, inner_h = width - 2 * pad, height - 2 * pad

    def x(i: int) -> float:
        return pad + (i / (len(values) - 1) if len(values) > 1 else 1.0) * inner_w  # one value: the newest

    def y(value: int) -> float:
        return pad + inner_h - max(value, 0) / top * inner_h

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="sparkline" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{_text(label)}">',
        f"<title>{_text(label)}</title>",
    ]
    if len(values) > 1:
        d = " ".join(f"{'M' if i == 0 else 'L'}{_num(x(i))} {_num(y(v))}" for i, v in enumerate(values))
        out.append(f'<path d="{d}" fill="none" stroke="#2454c5" stroke-width="1.5" stroke-linejoin="round"/>')
    last = len(values) - 1
    out.append(f'<circle cx="{_num(x(last))}" cy="{_num(y(values[last]))}" r="2.5" fill="#2454c5"/>')
    out.append("</svg>")
    return "".join(out)
