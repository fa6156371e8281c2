"""Charts as inline SVG, generated here: no plotting library, nothing fetched, so the page works offline and under
`Content-Security-Policy: default-src 'none'`. Every text is escaped."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

WIDTH = 640
_LABEL = 210  # px for the labels
_VALUE = 90  # px for the value after the bar
_ROW = 22
_TOP = 28
_COLOURS = ("#2b6cb0", "#c05621", "#2f855a", "#805ad5")


@dataclass(frozen=True)
class Bar:
    """One bar: its label, its length (in the chart's unit), the text written after it; `series` picks its colour."""

    label: str
    value: float
    text: str
    series: int = 0


def bar_chart(title: str, bars: list[Bar], *, maximum: float | None = None, legend: tuple[str, ...] = ()) -> str:
    """A horizontal bar chart; `maximum` is the full bar (default: the largest value)."""
    top = max((b.value for b in bars), default=0.0)
    full = maximum if maximum is not None else top
    span = WIDTH - _LABEL - _VALUE
    legend_rows = 1 if legend else 0
    height = _TOP + _ROW * (len(bars) + legend_rows) + 8
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" width="{WIDTH}" height="{height}"'
        f' viewBox="0 0 {WIDTH} {height}" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        f'<text x="0" y="16" font-weight="bold">{escape(title)}</text>',
    ]
    for i, bar in enumerate(bars):
        y = _TOP + i * _ROW
        length = 0.0 if full <= 0 else max(0.0, min(1.0, bar.value / full)) * span
        colour = _COLOURS[bar.series % len(_COLOURS)]
        parts += [
            f'<text x="{_LABEL - 6}" y="{y + 15}" text-anchor="end">{escape(_short(bar.label))}</text>',
            f'<rect x="{_LABEL}" y="{y + 3}" width="{length:.1f}" height="{_ROW - 6}" fill="{colour}">'
            f"<title>{escape(bar.label)}: {escape(bar.text)}</title></rect>",
            f'<text x="{_LABEL + length + 4:.1f}" y="{y + 15}">{escape(bar.text)}</text>',
        ]
    if legend:
        y = _TOP + len(bars) * _ROW
        for i, name in enumerate(legend):
            x = _LABEL + i * 150
            parts += [
                f'<rect x="{x}" y="{y + 5}" width="12" height="12" fill="{_COLOURS[i % len(_COLOURS)]}"/>',
                f'<text x="{x + 16}" y="{y + 15}">{escape(name)}</text>',
            ]
    if not bars:
        parts.append(f'<text x="{_LABEL}" y="{_TOP + 15}">no data</text>')
    parts.append("</svg>")
    return "".join(parts)


def _short(label: str, chars: int = 30) -> str:
    return label if len(label) <= chars else label[: chars - 1] + "…"
