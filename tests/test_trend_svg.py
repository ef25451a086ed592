"""The trend charts' SVG builder on plain data: escaping, empty and single-point series, scales."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import pytest

from scanner.reports.trend_svg import (
    SERIES,
    Geometry,
    TrendPoint,
    nice_scale,
    sparkline,
    time_ticks,
    trend_chart,
)

SVG = "{http://www.w3.org/2000/svg}"
T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
HOSTILE = "<script>alert(1)</script>"


def parse(svg: str) -> ET.Element:
    """The builder's output is well-formed XML too (its escapes are XML's), so it can be inspected."""
    return ET.fromstring(svg)


def circles(root: ET.Element) -> list[ET.Element]:
    return list(root.iter(f"{SVG}circle"))


def series_paths(root: ET.Element) -> list[ET.Element]:
    return [p for p in root.iter(f"{SVG}path") if "series" in p.get("class", "").split()]


def point(
    days: float, critical: int = 0, high: int = 0, medium: int = 0, low: int = 0, **kw: object
) -> TrendPoint:
    counts = {"CRITICAL": critical, "HIGH": high, "MEDIUM": medium, "LOW": low}
    return TrendPoint(at=T0 + timedelta(days=days), counts=counts, **kw)  # type: ignore[arg-type]


def assert_inert(svg: str) -> None:
    """Nothing in the output can run or needs an inline style under a strict CSP."""
    assert "<script" not in svg and "<style" not in svg and "style=" not in svg
    assert "javascript:" not in svg and "<foreignObject" not in svg
    assert not re.search(r"\son[a-z]+=", svg), "an event handler attribute"


# ---------------------------------------------------------------- escaping


def test_text_from_the_caller_is_escaped_everywhere() -> None:
    p = TrendPoint(
        at=T0,
        counts={"CRITICAL": 1},
        label=f'scan "{HOSTILE}"',
        href='/ui/scans/x"><script>alert(2)</script>',
    )
    svg = trend_chart([p], title=f"Findings in {HOSTILE}", chart_id='x" onload="alert(3)')
    assert HOSTILE not in svg and "<script>alert(2)" not in svg
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in svg
    assert_inert(svg)
    root = parse(svg)  # still one well-formed element tree: nothing broke out of an attribute
    assert root.find(f"{SVG}title").text == f"Findings in {HOSTILE}"  # type: ignore[union-attr]
    link = root.find(f".//{SVG}a")
    assert link is not None and link.get("href") == '/ui/scans/x"><script>alert(2)</script>'
    tooltip = link.find(f"{SVG}title")
    assert tooltip is not None and f'scan "{HOSTILE}"' in (tooltip.text or "")
    # the id used by aria-labelledby is reduced to safe characters
    assert root.get("aria-labelledby") == "x--onload--alert-3--title"
    assert root.get("aria-describedby") == "x--onload--alert-3--desc"


def test_series_names_and_axis_labels_are_escaped() -> None:
    svg = trend_chart([point(0, critical=1), point(1)], title="t", chart_id="c", series=["CRITICAL", "<b>"])
    assert "<b>" not in svg and "&lt;b&gt;" in svg
    svg = trend_chart([point(0)], title="t", chart_id="c", y_label="<i>n</i>", x_label="a & b")
    assert "&lt;i&gt;n&lt;/i&gt;" in svg and "a &amp; b" in svg
    assert_inert(svg)


def test_sparkline_label_is_escaped() -> None:
    svg = sparkline([1, 2], label=f"{HOSTILE} in prod")
    assert HOSTILE not in svg and "&lt;script&gt;" in svg
    root = parse(svg)
    assert root.get("aria-label") == f"{HOSTILE} in prod"
    assert_inert(svg)


# ---------------------------------------------------------------- empty and single points


def test_an_empty_series_draws_a_labelled_empty_chart() -> None:
    svg = trend_chart(
        [], title="payments-api · prod", chart_id="trend-prod", start=T0, end=T0 + timedelta(30)
    )
    root = parse(svg)
    assert "trend-empty" in root.get("class", "")
    assert root.get("role") == "img"
    assert circles(root) == [] and series_paths(root) == []
    assert "No finished scans in this period" in svg
    desc = root.find(f"{SVG}desc")
    assert (
        desc is not None and desc.text == "No finished scans from 2026-11-01 12:00 to 2026-12-01 12:00 UTC."
    )
    assert_inert(svg)


def test_an_empty_series_without_a_period() -> None:
    root = parse(trend_chart([], title="t", chart_id="c"))
    assert root.find(f"{SVG}desc").text == "No finished scans."  # type: ignore[union-attr]


def test_a_single_point_has_dots_but_no_lines_and_sits_in_the_middle() -> None:
    g = Geometry()
    root = parse(trend_chart([point(0, critical=2, high=1)], title="t", chart_id="c", geometry=g))
    dots = circles(root)
    assert len(dots) == len(SERIES)
    assert series_paths(root) == []
    assert {d.get("cx") for d in dots} == {f"{g.left + g.plot_width / 2:g}"}
    # the y axis reaches the highest count (2), so the CRITICAL dot is at the top of the plot
    critical = next(d for d in dots if "dot-critical" in d.get("class", ""))
    assert float(critical.get("cy", "")) == pytest.approx(g.top)


def test_an_empty_sparkline_is_nothing_and_a_single_value_is_a_dot() -> None:
    assert sparkline([], label="x") == ""
    root = parse(sparkline([5], label="x", width=100, height=20))
    assert list(root.iter(f"{SVG}path")) == []
    (dot,) = circles(root)
    assert (dot.get("cx"), dot.get("cy")) == ("97", "3")  # the newest value sits at the right end


# ---------------------------------------------------------------- scales and shapes


@pytest.mark.parametrize(
    ("peak", "expected"),
    [(0, (1, 1)), (1, (1, 1)), (3, (3, 1)), (4, (4, 1)), (5, (6, 2)), (37, (40, 10)), (64, (80, 20)),
     (90, (100, 25)), (500, (600, 200)), (501, (600, 200)), (12345, (15000, 5000))],
)  # fmt: skip
def test_nice_scale(peak: int, expected: tuple[int, int]) -> None:
    top, step = nice_scale(peak)
    assert (top, step) == expected
    assert top >= peak and top % step == 0 and top // step <= 5


def test_points_are_placed_on_the_time_and_count_scales() -> None:
    g = Geometry()
    start, end = T0, T0 + timedelta(days=10)
    points = [point(10, low=37), point(0, low=0, critical=10), point(5, low=20)]  # out of order on purpose
    root = parse(trend_chart(points, title="t", chart_id="c", start=start, end=end, geometry=g))
    bottom = g.top + g.plot_height
    low = sorted(
        (float(d.get("cx", "")), float(d.get("cy", "")))
        for d in circles(root)
        if "dot-low" in d.get("class", "")
    )
    # x: start at the left edge, the middle of the period in the middle, the end at the right edge
    assert [x for x, _ in low] == pytest.approx(
        [g.left, g.left + g.plot_width / 2, g.left + g.plot_width], abs=0.1
    )
    # y: 37 findings on an axis topped at 40, 20 at half of it, 0 on the baseline
    top = 40
    assert [y for _, y in low] == pytest.approx(
        [bottom, bottom - 20 / top * g.plot_height, bottom - 37 / top * g.plot_height], abs=0.1
    )
    labels = [t.text for t in root.iter(f"{SVG}text") if t.text and t.text.isdigit()]
    assert labels == ["0", "10", "20", "30", "40"]


def test_one_line_per_series_through_every_point_in_time_order() -> None:
    points = [point(d, critical=d % 3, high=d, medium=1, low=10 - d) for d in (4, 1, 3, 0, 2)]
    root = parse(trend_chart(points, title="t", chart_id="c"))
    paths = series_paths(root)
    assert len(paths) == len(SERIES)
    assert len(circles(root)) == len(SERIES) * len(points)
    for path in paths:
        d = path.get("d", "")
        assert d.count("M") == 1 and d.count("L") == len(points) - 1
        xs = [float(x) for x in re.findall(r"[ML]([\d.]+) ", d)]
        assert xs == sorted(xs) and len(set(xs)) == len(points)
    assert [p.get("class") for p in paths] == [f"series series-{name.lower()}" for name in SERIES]


def test_each_scan_is_one_link_with_a_tooltip_of_its_counts() -> None:
    points = [point(0, critical=1, high=2, medium=3, low=4, label="scan abc", href="/ui/scans/abc")]
    root = parse(trend_chart(points, title="t", chart_id="c"))
    (link,) = root.iter(f"{SVG}a")
    assert link.get("href") == "/ui/scans/abc"
    assert link.find(f"{SVG}title").text == (  # type: ignore[union-attr]
        "2026-11-01 12:00 UTC · scan abc: CRITICAL 1, HIGH 2, MEDIUM 3, LOW 4"
    )
    assert len(link.findall(f"{SVG}circle")) == len(SERIES)
    # without an href the dots are grouped, not linked
    assert list(parse(trend_chart([point(0)], title="t", chart_id="c")).iter(f"{SVG}a")) == []


def test_a_partial_scan_is_drawn_hollow() -> None:
    root = parse(trend_chart([point(0, high=1), point(1, high=1, partial=True)], title="t", chart_id="c"))
    fills = [d.get("fill") for d in circles(root) if "dot-high" in d.get("class", "")]
    assert fills[0] != "#fff" and fills[1] == "#fff"
    assert "counts may be incomplete" in ET.tostring(root, encoding="unicode")


def test_naive_times_are_utc_and_points_outside_the_period_widen_it() -> None:
    naive = TrendPoint(at=datetime(2026, 11, 1, 12, 0), counts={"LOW": 1})
    aware = TrendPoint(at=T0 + timedelta(days=2), counts={"LOW": 2})
    g = Geometry()
    root = parse(
        trend_chart([naive, aware], title="t", chart_id="c", start=T0 + timedelta(days=1), geometry=g)
    )
    xs = sorted(float(d.get("cx", "")) for d in circles(root) if "dot-low" in d.get("class", ""))
    assert xs == pytest.approx([g.left, g.left + g.plot_width])


def test_the_description_tells_the_period_and_latest_counts() -> None:
    root = parse(trend_chart([point(0, critical=3), point(2, high=1)], title="t", chart_id="c"))
    assert root.find(f"{SVG}desc").text == (  # type: ignore[union-attr]
        "2 scan(s) from 2026-11-01 12:00 to 2026-11-03 12:00 UTC. "
        "Latest: CRITICAL 0, HIGH 1, MEDIUM 0, LOW 0."
    )


def test_time_ticks_are_round_and_labelled_for_the_span() -> None:
    month = time_ticks(T0, T0 + timedelta(days=30))
    assert 4 <= len(month) <= 8
    assert all(at.hour == 0 and at.minute == 0 for at, _ in month)
    assert month[0] == (datetime(2026, 11, 2, tzinfo=UTC), "Nov 02")
    hours = time_ticks(T0, T0 + timedelta(hours=6))
    assert [label for _, label in hours] == ["12:00", "13:00", "14:00", "15:00", "16:00", "17:00", "18:00"]
    day = time_ticks(T0, T0 + timedelta(hours=24))
    assert ("Nov 02" in [label for _, label in day]) and all(
        T0 <= at <= T0 + timedelta(days=1) for at, _ in day
    )


def test_sparkline_scales_from_zero_to_its_maximum() -> None:
    root = parse(sparkline([0, 5, 10], label="x", width=100, height=20))
    (path,) = root.iter(f"{SVG}path")
    assert path.get("d") == "M3 17 L50 10 L97 3"
    (dot,) = circles(root)
    assert (dot.get("cx"), dot.get("cy")) == ("97", "3")
