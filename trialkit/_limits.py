"""The documented limits on inputs: the one place each limit is set (docs/limits.md explains them).

Every limit is far above what a real trial needs and well below what would hang the machine or
exhaust its memory. An input over a limit is refused with a message that names the input, the
limit and its value, before any work is done; nothing is cut or guessed.
"""

from __future__ import annotations

__all__ = [
    "ID_CHARS",
    "LABEL_CHARS",
    "LOAD_MEMORY_BASE",
    "LOAD_MEMORY_FACTOR_LONG",
    "LOAD_MEMORY_FACTOR_WIDE",
    "MANIFEST_BYTES",
    "MAX_MAGNITUDE",
    "MIN_MAGNITUDE",
    "POWER_SIZES",
    "POWER_TRIALS",
    "SIMULATE_SUBJECTS_PER_ARM",
    "TEXT_CHARS",
    "TOML_BYTES",
    "TOML_DEPTH",
    "XLSX_SHEET_BYTES",
]

#: bytes of a TOML input (study spec, design file, published-results file); a real one is a few kB
TOML_BYTES = 1_048_576
#: bytes of a MANIFEST.json beside generated data; a real one lists a few files in a few kB
MANIFEST_BYTES = 1_048_576
#: nesting depth of tables and arrays in a TOML input; a real one nests 4 deep at most
TOML_DEPTH = 16
#: characters of an identifier (study id, arm, visit, endpoint and covariate codes): ids name files and folders
ID_CHARS = 64
#: characters of a label, a unit or a level label: one line of a table or a figure legend
LABEL_CHARS = 200
#: characters of a title or another free-text key of the spec (registration, intervention, ...)
TEXT_CHARS = 2_000
#: bytes of a spreadsheet's sheet once inflated (an .xlsx is compressed: a small file can inflate hugely)
XLSX_SHEET_BYTES = 64 * 1_048_576
#: bytes the loader may use whatever the file's size: the libraries it loads on first use (Arrow, ...)
LOAD_MEMORY_BASE = 268_435_456
#: beyond LOAD_MEMORY_BASE, the loader's peak memory, as a multiple of the size of a long CSV (one row per
#: subject, visit and endpoint); a file whose bound does not fit in the memory available is refused unread
LOAD_MEMORY_FACTOR_LONG = 6
#: the same for a wide CSV (one row per subject): each of its values becomes a record, so a value of a
#: few bytes costs tens of bytes once loaded
LOAD_MEMORY_FACTOR_WIDE = 24
#: subjects per arm that ``simulate`` draws
SIMULATE_SUBJECTS_PER_ARM = 1_000_000
#: replicate trials per sample size of a power simulation: 10 million gives a Monte Carlo SE of 0.00016 at
#: 50 % power, far below any design decision
POWER_TRIALS = 10_000_000
#: sample sizes in one power simulation (``--n``): a power curve needs tens
POWER_SIZES = 1_000
#: the largest magnitude of a value an analysis accepts: its fourth power (a variance squared, as in the
#: Welch-Satterthwaite and MMRM degrees of freedom), times the subjects, stays finite in double precision
MAX_MAGNITUDE = 1e75
#: the smallest non-zero magnitude of a value an analysis accepts: its fourth power stays a normal number, not
#: subnormal or 0
MIN_MAGNITUDE = 1e-75
