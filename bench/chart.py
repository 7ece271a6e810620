"""The curves as one SVG picture: ratio to the baseline against size, a line per path.

Drawn as plain SVG text: a few lines and labels need no plotting library."""

import math
from html import escape
from pathlib import Path

from bench.growth import RATIO_LIMIT, Curve

WIDTH, HEIGHT = 960, 560
TICKS = [0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500]
LEFT, RIGHT, TOP, BOTTOM = 70, 330, 30, 60
COLOURS = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
    "#7f7f7f", "#bcbd22", "#17becf", "#393b79", "#637939", "#8c6d31", "#843c39",
    "#7b4173", "#3182bd", "#e6550d", "#31a354", "#756bb1", "#636363",
]  # fmt: skip


def svg(curves: list[Curve]) -> str:
    sizes = [point.size for curve in curves for point in curve.points]
    ratios = [point.ratio for curve in curves for point in curve.points]
    low, high = math.floor(math.log10(min(sizes))), math.ceil(math.log10(max(sizes)))
    # Ratios span two decades (a page against a quiet one, an upload against a copy): log scale.
    bottom_ratio = max([tick for tick in TICKS if tick <= min(0.5, *ratios)], default=TICKS[0])
    top = min([tick for tick in TICKS if tick >= max(2.0, *ratios)], default=max(ratios))
    span = math.log10(top) - math.log10(bottom_ratio)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(size: float) -> float:
        return LEFT + (math.log10(size) - low) / max(high - low, 1) * plot_w

    def y(ratio: float) -> float:
        clamped = min(max(ratio, bottom_ratio), top)
        return TOP + plot_h - (math.log10(clamped) - math.log10(bottom_ratio)) / span * plot_h

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="12">',
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>',
    ]
    parts += axes(low, high, (bottom_ratio, top), x, y)
    for index, curve in enumerate(curves):
        colour = COLOURS[index % len(COLOURS)]
        points = " ".join(f"{x(p.size):.1f},{y(p.ratio):.1f}" for p in curve.points)
        parts.append(f'<polyline points="{points}" fill="none" stroke="{colour}" '
                     'stroke-width="2"/>')  # fmt: skip
        parts += [
            f'<circle cx="{x(p.size):.1f}" cy="{y(p.ratio):.1f}" r="3" fill="{colour}"/>'
            for p in curve.points
        ]
        legend_y = TOP + 8 + index * 17
        parts.append(
            f'<line x1="{WIDTH - RIGHT + 15}" y1="{legend_y}" x2="{WIDTH - RIGHT + 35}" '
            f'y2="{legend_y}" stroke="{colour}" stroke-width="3"/>'
        )
        parts.append(
            f'<text x="{WIDTH - RIGHT + 40}" y="{legend_y + 4}">{escape(curve.path)}</text>'
        )
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def axes(low: int, high: int, ratios: tuple[float, float], x, y) -> list[str]:
    least, top = ratios
    left, right, bottom = x(10**low), x(10**high), y(least)
    parts = [
        f'<line x1="{left}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="black"/>',
        f'<line x1="{left}" y1="{y(top)}" x2="{left}" y2="{bottom}" stroke="black"/>',
        f'<line x1="{left}" y1="{y(1):.1f}" x2="{right}" y2="{y(1):.1f}" stroke="#999"/>',
        f'<line x1="{left}" y1="{y(RATIO_LIMIT):.1f}" x2="{right}" y2="{y(RATIO_LIMIT):.1f}" '
        'stroke="#d62728" stroke-dasharray="4 4"/>',
        f'<text x="{right - 130}" y="{y(RATIO_LIMIT) - 4:.1f}" fill="#d62728">'
        "data target 1.2x</text>",
        f'<text x="{(left + right) / 2 - 90}" y="{bottom + 40}">size (files, runs, lines)</text>',
        f'<text x="15" y="{y(1):.1f}" transform="rotate(-90 15 {y(1):.1f})">'
        "ratio to baseline</text>",
    ]
    for power in range(low, high + 1):
        at = x(10**power)
        parts.append(f'<text x="{at - 15:.1f}" y="{bottom + 18}">{10**power:,}</text>')
    for value in [tick for tick in TICKS if least <= tick <= top]:
        parts.append(f'<text x="{left - 40}" y="{y(value) + 4:.1f}">{value:g}x</text>')
    return parts


def write_svg(path: Path, curves: list[Curve]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(svg(curves))
