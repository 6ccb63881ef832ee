"""Reading TOML input files (spec, design, published results) with problems, not tracebacks."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from trialkit._errors import Problem, Rule, ValidationError


def read_toml(path: str | Path, what: str) -> dict[str, Any]:
    """Decode a UTF-8 TOML file (a byte-order mark is allowed).

    Raises
    ------
    ValidationError
        ``file_not_found`` when the file is absent, ``spec_unreadable`` when it is not TOML;
        ``what`` names the file's role in the message ("study spec", "design", ...).
    """
    path = Path(path)
    try:
        return tomllib.loads(path.read_bytes().decode("utf-8-sig"))
    except FileNotFoundError:
        raise ValidationError([Problem(Rule.FILE_NOT_FOUND, str(path), f"the {what} does not exist.")]) from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ValidationError([Problem(Rule.SPEC_UNREADABLE, str(path), f"cannot read the {what}: {exc}.")]) from None
