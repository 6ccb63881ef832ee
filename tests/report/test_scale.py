"""The report at scale: figures whose size does not grow with the trial, text laid out in linear time.

Fast checks of the bounds (a few thousand subjects, counted work instead of timings); the measured
500,000-subject report is described in the closing note of the issue, not timed here.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import trialkit as tk
from trialkit._design import read_design
from trialkit._limits import LABEL_CHARS, TEXT_CHARS
from trialkit._report import _consort, _theme
from trialkit._report._figures import POINTS_PER_ARM, change_figures
from trialkit._report._svg import new_figure, svg_text, xml_text
from trialkit._report._theme import fit, shown, text_width, theme, wrap

DESIGN = Path(tk.datasets.study_spec("abbasi2012")).parent / "design.toml"


def _trial(folder: Path, per_arm: int) -> tk.Trial:
    """Simulate the bundled design with ``per_arm`` subjects per arm (a twelfth drop out) and load it."""
    text = DESIGN.read_text(encoding="utf-8")
    text = re.sub(r"(?m)^n = 23$", f"n = {per_arm}", text)
    text = re.sub(r"(?m)^dropout = \d+$", f"dropout = {per_arm // 12}", text)
    folder.mkdir()
    (folder / "design.toml").write_text(text, encoding="utf-8")
    tk.simulate(read_design(folder / "design.toml"), seed=7).to_files(folder / "data")
    return tk.load(folder / "data" / "study.toml")


@pytest.fixture(scope="module")
def sizes(tmp_path_factory: pytest.TempPathFactory) -> dict[int, list[str]]:
    """Return the change figures' SVG of trials of 2,000 and 20,000 subjects."""
    root = tmp_path_factory.mktemp("scale")
    return {n: [f.svg for f in change_figures(_trial(root / str(n), n // 2))] for n in (2_000, 20_000)}


def test_the_change_figure_does_not_grow_with_the_trial(sizes: dict[int, list[str]]) -> None:
    small, large = (sum(len(svg) for svg in sizes[n]) for n in (2_000, 20_000))
    # the same boxes and axes; only coordinates and the digits of n differ
    assert abs(large / small - 1) < 0.05
    assert large < 200_000


def test_above_the_threshold_no_point_is_drawn_and_the_caption_says_so(tmp_path: Path) -> None:
    trial = _trial(tmp_path / "t", POINTS_PER_ARM + 1)
    (figure,) = change_figures(trial)
    # a participant's point is a marker used once (so is a tick): far fewer uses than participants
    assert figure.svg.count("<use") < sum(len(y) for y in _changes(trial)) / 10
    assert f"values beyond the whiskers not drawn (more than {POINTS_PER_ARM} participants in an arm)" in (
        figure.caption
    )


def test_the_bundled_trial_keeps_one_point_per_participant() -> None:
    trial = tk.load(tk.datasets.study_spec("abbasi2012"))
    (figure,) = change_figures(trial)
    points = sum(len(y) for y in _changes(trial))
    assert figure.svg.count("<use") >= points  # a use per point, and the ticks
    assert "one point per participant with both values (spread sideways)" in figure.caption


def _changes(trial: tk.Trial) -> list[list[float]]:
    from trialkit._report._figures import change_values

    return [change_values(trial, e)["y"].tolist() for e in trial.spec.endpoints if e.type == "continuous"]


# ----------------------------------------------------------------------------------- label length: linear


class _Counting(_consort._Measure):
    """The consort's measure, counting the characters it measures."""

    def __init__(self) -> None:
        super().__init__()
        self.measured = 0

    def char(self, c: str, bold: bool) -> float:
        self.measured += 1
        return super().char(c, bold)


@pytest.mark.parametrize("text", ["W", "lorem ipsum "])
def test_the_consort_boxes_wrap_in_time_linear_in_the_text(text: str) -> None:
    work = {}
    for n in (2_000, 20_000):
        measure = _Counting()
        lines = _consort._wrap((text * n)[:n], 150, measure, bold=False)
        assert all(measure(line) <= 150 for line in lines)
        assert "".join(lines).replace(" ", "") == (text * n)[:n].replace(" ", "")
        work[n] = measure.measured
    assert work[20_000] / work[2_000] < 12  # ten times the text, about ten times the work


def test_a_title_is_fitted_with_work_linear_in_its_length(monkeypatch: pytest.MonkeyPatch) -> None:
    measured = []

    def counting(text: str, size: float, *, bold: bool = False) -> float:
        measured.append(len(text))
        return text_width(text, size, bold=bold)

    monkeypatch.setattr(_theme, "text_width", counting)
    work = {}
    for n in (200, 2_000):
        measured.clear()
        lines = fit("W" * n, 150, 8, bold=True).splitlines()
        assert "".join(lines) == "W" * n
        assert all(text_width(line, 8, bold=True) <= 150 for line in lines)
        work[n] = sum(measured)
    assert work[2_000] / work[200] < 20


def test_text_longer_than_any_limit_is_cut_before_the_layout_sees_it() -> None:
    assert fit("W" * 100_000, 150, 8).replace("\n", "") == shown("W" * 100_000, TEXT_CHARS)
    assert len(wrap("x" * 100_000, 22).replace("\n", "")) == 2 * LABEL_CHARS + 2
    assert shown("x" * LABEL_CHARS) == "x" * LABEL_CHARS  # a label within the limit is drawn whole


def test_the_longest_label_is_fitted_inside_a_panel() -> None:
    label = "Magnesium" + "m" * (LABEL_CHARS - 9)
    for line in fit(label, 120, 8, bold=True).splitlines():
        assert text_width(line, 8, bold=True) <= 120


# ------------------------------------------------------------------------------------------ the XML step


@pytest.mark.parametrize("odd", ["\ufffe", "\uffff", "\ud800", "\udfff", "\u2028", "\u2029", "\x0b"])
def test_a_figure_with_any_text_is_written_as_xml(odd: str) -> None:
    with theme():
        fig = new_figure(3, 2)
        ax = fig.subplots()
        ax.set_title(fit(f"Arm{odd}A", 100, 8))
        ax.set_xticks([0, 1], [f"Visit{odd}", "Week 8"])
        svg = svg_text(fig, "odd")
    svg.encode("utf-8")  # no lone surrogate left
    texts = "".join(ET.fromstring(svg).itertext())
    assert "Arm" in texts
    assert ("Visit" + (odd if odd in "\u2028\u2029" else "\ufffd")) in texts


def test_xml_text_keeps_every_character_xml_allows() -> None:
    kept = "Tab\tnew\nline\r é ✓ 𝔸 \u2028 \ufffd"
    assert xml_text(kept) == kept
    assert xml_text("\x00\x1f\ud83d\ufffe") == "\ufffd" * 4
