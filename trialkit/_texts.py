"""The length and character rules of the texts of a study spec and a design file.

Every text of a decoded document — each value and each table key — is checked: ids hold at most
``ID_CHARS`` characters, labels, units and level labels at most ``LABEL_CHARS``, titles and every
other text at most ``TEXT_CHARS`` (docs/limits.md), and none holds a control character (NUL,
escape, the other C0 and C1 controls; a tab is allowed). Each problem names the key. Which keys
are ids and which labels is given by the format, as patterns of key paths (:class:`TextKinds`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from trialkit._errors import Rule
from trialkit._limits import ID_CHARS, LABEL_CHARS, TEXT_CHARS
from trialkit._schema import ProblemCollector

__all__ = ["CONTROL", "DATA_CONTROL", "TextKinds", "check_texts", "control_character", "control_name", "shown_text"]

#: the control characters (Unicode category Cc: C0, DEL and C1) other than a tab
CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f]")
#: the control characters refused in texts of the data: as :data:`CONTROL`, but a quoted CSV value may break lines
DATA_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
#: how many characters of an overlong or unprintable text a problem shows
_SHOWN = 60


@dataclass(frozen=True)
class TextKinds:
    """Which key paths of a format hold ids and which labels (every other text is free text).

    Attributes
    ----------
    ids, labels : re.Pattern
        Full-match patterns of key paths (``endpoints[0].id``; an array's items share the array's path).
    label_keys : re.Pattern
        Key paths of tables whose keys are labels rather than ids (``covariates.sex.level_labels``).
    exempt : frozenset of str
        Key paths whose value may be a control character (``data.delimiter`` may be a tab or another).
    """

    ids: re.Pattern[str]
    labels: re.Pattern[str]
    label_keys: re.Pattern[str]
    exempt: frozenset[str] = frozenset()

    def limit(self, key: str) -> tuple[int, str, str]:
        """Return the limit of the text at ``key``: (characters, its constant's name, what the text is)."""
        if self.ids.fullmatch(key):
            return ID_CHARS, "ID_CHARS", "an id"
        if self.labels.fullmatch(key):
            return LABEL_CHARS, "LABEL_CHARS", "a label or unit"
        return TEXT_CHARS, "TEXT_CHARS", "a title or other text"


def control_character(text: str) -> str | None:
    r"""Return the first control character of ``text`` other than a tab, or None.

    Examples
    --------
    >>> control_character("Week\x008") == "\x00"
    True
    >>> control_character("Sleep\ttime") is None
    True
    """
    found = CONTROL.search(text)
    return None if found is None else found.group()


def control_name(character: str) -> str:
    r"""Return how a message names a control character: its code point and name.

    Examples
    --------
    >>> control_name("\x00"), control_name("\x1b")
    ('U+0000 (NUL)', 'U+001B (ESCAPE)')
    """
    name = unicodedata.name(character, "") or _CONTROL_NAMES.get(ord(character), "a control character")
    return f"U+{ord(character):04X} ({name})"


_CONTROL_NAMES = {0: "NUL", 7: "BELL", 8: "BACKSPACE", 9: "TAB", 10: "LINE FEED", 13: "CARRIAGE RETURN", 27: "ESCAPE"}
_CONTROL_NAMES |= {0x7F: "DELETE", 0x85: "NEXT LINE"}


def shown_text(text: str) -> str:
    """Return a text for a problem: control characters escaped, cut to :data:`_SHOWN` characters."""
    return _shown(text)


def _shown(text: str) -> str:
    """Return a text for a problem: control characters escaped, cut to :data:`_SHOWN` characters."""
    short = text[:_SHOWN]
    escaped = "".join(c if control_character(c) is None else f"\\x{ord(c):02x}" for c in short)
    return escaped + ("…" if len(text) > _SHOWN else "")


def _check(text: str, key: str, kind: tuple[int, str, str], out: ProblemCollector, *, is_key: bool) -> None:
    limit, name, what = kind
    where = f"a key of `{key}`" if is_key else f"`{key}`"
    found = control_character(text)
    if found is not None:
        out.add(
            Rule.CONTROL_CHARACTER,
            key,
            f"{where} holds the control character {control_name(found)}; names, labels, titles and units must be "
            f"printable text (a tab is allowed); got '{_shown(text)}'.",
            _shown(text),
        )
    if len(text) > limit:
        out.add(
            Rule.TOO_LARGE,
            key,
            f"{where} is {len(text):,} characters long; {what} holds at most {limit:,} ({name}, docs/limits.md); "
            f"got '{_shown(text)}'.",
            _shown(text),
        )


def check_texts(document: Mapping[str, Any], kinds: TextKinds, out: ProblemCollector) -> None:
    """Record every text of a decoded document that is too long or holds a control character.

    Parameters
    ----------
    document : mapping
        The decoded TOML document.
    kinds : TextKinds
        Which key paths hold ids and which labels.
    out : ProblemCollector
        Receives one ``too_large`` or ``control_character`` problem per text, naming its key path.
    """
    # walked without recursion: a document handed to a parser directly is not depth-limited
    stack: list[tuple[str, Any]] = [("", document)]
    while stack:
        path, node = stack.pop()
        if isinstance(node, str):
            # every limit is at least ID_CHARS: a short printable text (nearly all) is judged by one scan
            if (len(node) > ID_CHARS or CONTROL.search(node)) and path not in kinds.exempt:
                _check(node, path, kinds.limit(path), out, is_key=False)
        elif isinstance(node, Mapping):
            items = []
            for name, value in node.items():
                name = str(name)
                if len(name) > ID_CHARS or CONTROL.search(name):
                    labels = kinds.label_keys.fullmatch(path)
                    kind = (LABEL_CHARS, "LABEL_CHARS", "a label") if labels else (ID_CHARS, "ID_CHARS", "a key")
                    _check(name, path or name, kind, out, is_key=bool(path))
                    name = _shown(name)
                items.append((f"{path}.{name}" if path else name, value))
            stack.extend(reversed(items))
        elif isinstance(node, list):
            tables = any(isinstance(v, Mapping) for v in node)
            stack.extend(reversed([(f"{path}[{i}]" if tables else path, v) for i, v in enumerate(node)]))
