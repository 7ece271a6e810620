"""A small score-by-version line chart, drawn as SVG on the server."""

from collections.abc import Iterable

WIDTH, HEIGHT, PAD = 480, 140, 24


def score_chart(versions: Iterable) -> dict | None:
    """Points for the versions that have a score, oldest first; None when fewer than one."""
    scored = [(version.label, version.score) for version in versions if version.score is not None]
    if not scored:
        return None
    low = min(score for _, score in scored)
    high = max(score for _, score in scored)
    span = (high - low) or 1.0
    step = (WIDTH - 2 * PAD) / max(len(scored) - 1, 1)
    points = [
        {
            "label": label,
            "score": score,
            "x": round(PAD + index * step, 1),
            "y": round(HEIGHT - PAD - (score - low) / span * (HEIGHT - 2 * PAD), 1),
        }
        for index, (label, score) in enumerate(scored)
    ]
    return {
        "width": WIDTH,
        "height": HEIGHT,
        "points": points,
        "polyline": " ".join(f"{p['x']},{p['y']}" for p in points),
        "low": low,
        "high": high,
    }
