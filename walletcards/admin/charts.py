"""Server-side SVG charts for the dashboard: no JavaScript, nothing to vendor, printable, and
readable by screen readers (a <title> plus the data table under each chart)."""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

WIDTH, HEIGHT = 640, 220
LEFT, RIGHT, TOP, BOTTOM = 56, 12, 12, 28
COLOURS = ("#2563eb", "#d97706", "#059669", "#db2777")


def _nice_max(value: int) -> int:
    """The axis top: 1, 2 or 5 times a power of ten, at least ``value``."""
    if value <= 0:
        return 1
    magnitude = 1
    while magnitude * 10 < value:
        magnitude *= 10
    return next(magnitude * m for m in (1, 2, 5, 10) if magnitude * m >= value)


def _short(value: float) -> str:
    for size, suffix in ((1_000_000_000, "B"), (1_000_000, "M"), (1_000, "k")):
        if abs(value) >= size:
            return f"{value / size:g}{suffix}"
    return f"{value:g}"


def _frame(title: str, top: int, labels: Sequence[str]) -> list[str]:
    plot_h = HEIGHT - TOP - BOTTOM
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
    ]
    for i in range(5):
        y = TOP + plot_h - plot_h * i / 4
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>'
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{_short(top * i / 4)}</text>'
        )
    if labels:
        last = len(labels) - 1
        for index in sorted({0, len(labels) // 2, last}):
            # the end labels align inwards so that they are never clipped at the edges
            anchor = "start" if index == 0 else "end" if index == last else "middle"
            x = _x(index, len(labels))
            parts.append(
                f'<text x="{x:.1f}" y="{HEIGHT - 8}" text-anchor="{anchor}">'
                f"{escape(labels[index])}</text>"
            )
    return parts


def _x(index: int, count: int) -> float:
    span = WIDTH - LEFT - RIGHT
    return LEFT + (span * (index + 0.5) / count if count else 0)


def _y(value: int, top: int) -> float:
    plot_h = HEIGHT - TOP - BOTTOM
    return TOP + plot_h - plot_h * value / top


def line_chart(
    title: str, labels: Sequence[str], series: Sequence[tuple[str, list[int]]]
) -> Markup:
    """One polyline per named series over the bucket labels, with a legend."""
    top = _nice_max(max((max(values, default=0) for _, values in series), default=0))
    parts = _frame(title, top, labels)
    for (name, values), colour in zip(series, COLOURS, strict=False):
        points = " ".join(
            f"{_x(i, len(values)):.1f},{_y(v, top):.1f}" for i, v in enumerate(values)
        )
        parts.append(
            f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{points}">'
            f"<title>{escape(name)}</title></polyline>"
        )
    parts.append("</svg>")
    legend = "".join(
        f'<span class="key"><i style="background:{colour}"></i>{escape(name)}</span>'
        for (name, _), colour in zip(series, COLOURS, strict=False)
    )
    return Markup("".join(parts) + f'<p class="legend">{legend}</p>')  # noqa: S704 (escaped above)


def bar_chart(title: str, items: Sequence[tuple[str, int]]) -> Markup:
    """Vertical bars, one per item (members per tier), each named under its bar."""
    top = _nice_max(max((value for _, value in items), default=0))
    parts = _frame(title, top, [])
    span = (WIDTH - LEFT - RIGHT) / max(len(items), 1)
    for index, (label, value) in enumerate(items):
        x, y = LEFT + span * index + span * 0.15, _y(value, top)
        parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{span * 0.7:.1f}" '
            f'height="{HEIGHT - BOTTOM - y:.1f}" fill="{COLOURS[0]}">'
            f"<title>{escape(label)}: {value}</title></rect>"
            f'<text x="{x + span * 0.35:.1f}" y="{HEIGHT - 8}" text-anchor="middle">'
            f"{escape(label)}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 (every text is escaped above)


SPARK_W, SPARK_H = 120, 28


def sparkline(title: str, values: Sequence[int]) -> Markup:
    """A small line of a segment's daily sizes, scaled from 0 to its own top (the numbers are
    in the table beside it); nothing to draw without two values."""
    if len(values) < 2:
        return Markup("")
    top = _nice_max(max(values))
    step = (SPARK_W - 4) / (len(values) - 1)
    points = " ".join(
        f"{2 + step * i:.1f},{SPARK_H - 2 - (SPARK_H - 4) * v / top:.1f}"
        for i, v in enumerate(values)
    )
    return Markup(  # noqa: S704 (the title is escaped, the rest are numbers)
        f'<svg class="spark" viewBox="0 0 {SPARK_W} {SPARK_H}" width="{SPARK_W}" '
        f'height="{SPARK_H}" role="img" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{escape(title)}</title>"
        f'<polyline fill="none" stroke="{COLOURS[0]}" stroke-width="1.5" points="{points}"/>'
        "</svg>"
    )
