"""Reading TOML input files (spec, design, published results) with problems, not tracebacks.

Every TOML input passes the input gate (:mod:`trialkit._input`: a regular file, read with a bound)
and two documented limits (docs/limits.md): its size, ``TOML_BYTES``, and the nesting of its
tables and arrays, ``TOML_DEPTH``.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from trialkit._errors import Problem, Rule, ValidationError
from trialkit._input import read_input, shown_path
from trialkit._limits import TOML_BYTES, TOML_DEPTH

__all__ = ["nesting_depth", "read_toml"]


def nesting_depth(document: Any) -> int:
    """Return how deep tables and arrays nest in a decoded document (the document itself is depth 0).

    Walked without recursion, so that any depth tomllib returns can be measured.

    Examples
    --------
    >>> nesting_depth({"study": {"id": "x"}, "visits": {"order": ["a", "b"]}})
    2
    >>> nesting_depth({"a": [[[1]]]})
    3
    """
    deepest = 0
    stack: list[tuple[Any, int]] = [(document, 0)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return deepest


def _too_deep(path: Path, what: str) -> ValidationError:
    return ValidationError(
        [
            Problem(
                Rule.TOO_LARGE,
                shown_path(path),
                f"the {what} nests tables and arrays more than {TOML_DEPTH} deep, the limit TOML_DEPTH "
                "(docs/limits.md).",
            )
        ]
    )


def read_toml(path: str | Path, what: str) -> dict[str, Any]:
    """Decode a UTF-8 TOML file (a byte-order mark is allowed).

    Raises
    ------
    ValidationError
        ``file_not_found`` when the file is absent; ``not_a_file`` or ``unreadable_file`` when the
        path is not a regular file that can be read (:func:`trialkit._input.read_input`);
        ``too_large`` over ``TOML_BYTES`` bytes or nested over ``TOML_DEPTH`` deep;
        ``spec_unreadable`` when it is not TOML. ``what`` names the file's role in the message
        ("study spec", "design", ...).
    """
    path = Path(path)
    content = read_input(path, what, limit=TOML_BYTES, limit_name="TOML_BYTES")
    try:
        document = tomllib.loads(content.decode("utf-8-sig"))
    except RecursionError:  # tomllib recurses once per nested array or inline table
        raise _too_deep(path, what) from None
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ValidationError(
            [Problem(Rule.SPEC_UNREADABLE, shown_path(path), f"cannot read the {what}: {exc}.")]
        ) from None
    if nesting_depth(document) > TOML_DEPTH:
        raise _too_deep(path, what)
    return document
