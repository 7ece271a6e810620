"""What every chart drawn on the server shares: round tick values, their labels, and the
mapping of values onto the drawing. The apps draw their own charts with these."""

import math
from dataclasses import dataclass

TICKS = 5
SMALLEST_STEP = 1e-300  # below, powers of ten lose their precision


def nice_ticks(low: float, high: float, count: int = TICKS) -> list[float]:
    """Round values (1, 2, 2.5 or 5 times a power of ten apart) from `low` to `high`."""
    if high <= low:
        return [low]
    raw = (high / 2 - low / 2) / max(count - 1, 1) * 2  # halves: 1e308 - -1e308 overflows
    if not SMALLEST_STEP < raw < math.inf:
        return [low, high]
    power = 10 ** math.floor(math.log10(raw))
    step = next(factor * power for factor in (1, 2, 2.5, 5, 10) if factor * power >= raw)
    return ticks_every(step, low, high)


def ticks_every(step: float, low: float, high: float) -> list[float]:
    """The multiples of `step` from `low` to `high`, to twelve significant digits (0.3, not
    0.30000000000000004)."""
    first, last = math.ceil(low / step - 1e-9), math.floor(high / step + 1e-9)
    return [float(f"{index * step:.12g}") for index in range(first, last + 1)]


def label(value: float) -> str:
    """Whole numbers in full (steps: 25,000), others to four significant digits."""
    if float(value).is_integer() and abs(value) < 1e9:
        return f"{value:,.0f}"
    return f"{value:.4g}"


@dataclass(frozen=True, kw_only=True)
class Framed:
    """A drawing's size, and the edges of its plot inside it; charts extend it."""

    width: int
    height: int
    left: int
    right: int
    top: int
    bottom: int


def frame(size: tuple[int, int], margins: tuple[int, int, int, int]) -> dict[str, int]:
    """The fields of Framed for a drawing of `size` with (left, right, top, bottom) margins."""
    (width, height), (left, right, top, bottom) = size, margins
    edges = {"left": left, "right": width - right, "top": top, "bottom": height - bottom}
    return {"width": width, "height": height, **edges}


@dataclass(frozen=True)
class Tick:
    at: float
    label: str


class Scale:
    """Maps values from [low, high] onto [start, end] of the drawing."""

    def __init__(self, low: float, high: float, start: float, end: float) -> None:
        if high / 2 == low / 2:  # one value, or two no drawing tells apart
            pad = max(1.0, abs(low) / 1e9)
            low, high = low - pad, low + pad
        self.low, self.high, self.start, self.end = low, high, start, end
        self.factor = (end - start) / (high / 2 - low / 2)  # halves never overflow

    def __call__(self, value: float) -> float:
        return round(self.start + (value / 2 - self.low / 2) * self.factor, 1)

    def ticks(self, values: list[float], name=label) -> list[Tick]:
        return [Tick(self(value), name(value)) for value in values]
