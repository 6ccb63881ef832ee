"""The power curve of a power simulation as an SVG figure.

PLACEHOLDER (branch pw_cli): a minimal stand-in of this exact signature so that ``trialkit power``
can write ``power_curve.svg``; the figure itself is written on another branch and replaces this
file when the branches are merged.
"""

from __future__ import annotations

from html import escape

from trialkit.power import PowerSimulation

__all__ = ["power_curve_svg"]


def power_curve_svg(sim: PowerSimulation) -> str:
    """Return an SVG of the simulated power against the control arm's size (placeholder: one line per row group)."""
    width, height, margin = 480, 320, 40
    sizes = sim.n_per_arm
    low, high = min(sizes), max(sizes)

    def x(n: int) -> float:
        return margin + (width - 2 * margin) * ((n - low) / (high - low) if high > low else 0.5)

    def y(p: float) -> float:
        return height - margin - (height - 2 * margin) * p

    lines = []
    for key, group in sim.table.groupby(["endpoint", "analysis", "arm"], sort=False):
        points = " ".join(f"{x(n):.1f},{y(p):.1f}" for n, p in zip(group["n_per_arm"], group["power"], strict=True))
        label = escape(" / ".join(str(k) for k in key))
        lines.append(f'<polyline fill="none" stroke="black" points="{points}"><title>{label}</title></polyline>')
    body = "\n".join(lines)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}">\n<title>Power by simulation</title>\n{body}\n</svg>\n'
    )
