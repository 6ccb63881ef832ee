"""Reading a published-results document block by block into the data model.

Each block is type-checked against the schema (:mod:`._schema`, with the
checks shared with the study spec in :mod:`trialkit._schema`), then its values are checked against
each other and against the rest of the file (declared arms and time points, n against the
randomised, a change row needs a baseline, ...). Every problem is collected; :func:`parse_document`
raises them together.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from trialkit._errors import Rule
from trialkit._schema import SLUG, ProblemCollector, choice, interval, string_list
from trialkit.reproduce.published._model import (
    UNAVAILABLE,
    Citation,
    ContextResult,
    DesignType,
    Direction,
    Dispersion,
    PairedSummary,
    PublishedArm,
    PublishedComparison,
    PublishedDesign,
    PublishedFlag,
    PublishedOutcome,
    PublishedSummary,
    PublishedTable,
    PublishedTrial,
    Scale,
)
from trialkit.reproduce.published._schema import (
    COMPARISON_ON,
    SD_DIVISORS,
    check_block,
    known_name,
    positive_int,
    read_number,
    read_p_value,
    unavailable_keys,
)


class Context:
    """What the checks of one table need to know about the trial."""

    def __init__(self, design: PublishedDesign | None, arms: tuple[PublishedArm, ...], arm_ids: tuple[str, ...]):
        self.design = design
        self.arms = {a.id: a for a in arms}
        self.arm_ids = arm_ids
        self.visits = design.visits if design is not None else ()


def _parse_citation(raw: Any, out: ProblemCollector) -> Citation | None:
    c = check_block(raw, "citation", "citation", out)
    authors = string_list(c["authors"], "citation.authors", out) if "authors" in c else None
    if authors is not None and not authors:
        out.add(Rule.INVALID_VALUE, "citation.authors", "`citation.authors` must name at least one author.")
    if not {"authors", "title", "year", "source"} <= set(c) or not authors:
        return None
    return Citation(
        authors=authors,
        title=c["title"],
        year=c["year"],
        source=c["source"],
        journal=c.get("journal", ""),
        volume=str(c.get("volume", "")),
        issue=str(c.get("issue", "")),
        pages=c.get("pages", ""),
        pmid=c.get("pmid", ""),
        pmcid=c.get("pmcid", ""),
        doi=c.get("doi", ""),
        registry=c.get("registry", ""),
        license=c.get("license", ""),
        url=c.get("url", ""),
    )


def _parse_design(raw: Any, out: ProblemCollector) -> PublishedDesign | None:
    d = check_block(raw, "design", "design", out)
    missing = unavailable_keys(d, "design", "design", out)
    dtype = choice(d["type"], tuple(t.value for t in DesignType), "design.type", out) if "type" in d else None
    visits = string_list(d["visits"], "design.visits", out) if "visits" in d else None
    if visits is not None and not visits:
        out.add(Rule.INVALID_VALUE, "design.visits", "`design.visits` must list at least one time point.")
        visits = None
    baseline = d.get("baseline")
    if baseline is not None and visits:
        if (
            known_name(baseline, visits, "design.baseline", "time point of `design.visits`", Rule.UNKNOWN_VISIT, out)
            and visits[0] != baseline
        ):
            out.add(
                Rule.INVALID_VALUE,
                "design.baseline",
                f"the baseline {baseline!r} must come first in `design.visits`.",
                baseline,
            )
    randomised = positive_int(d.get("randomised"), "design.randomised", out)
    analysed = positive_int(d.get("analysed"), "design.analysed", out)
    if randomised is not None and analysed is not None and analysed > randomised:
        out.add(
            Rule.INVALID_VALUE,
            "design.analysed",
            f"`design.analysed` ({analysed}) is larger than `design.randomised` ({randomised}).",
            analysed,
        )
    alpha = None  # strings other than "unavailable" were reported and removed by unavailable_keys
    if "alpha" in d:
        alpha = float(d["alpha"])
        if not 0 < alpha < 1:
            out.add(
                Rule.INVALID_VALUE,
                "design.alpha",
                f"`design.alpha` must be a number in (0, 1); got {d['alpha']!r}.",
                d["alpha"],
            )
            alpha = None
    duration = None
    if "duration_weeks" in d:
        value = d["duration_weeks"]
        if not value > 0:
            out.add(
                Rule.INVALID_VALUE,
                "design.duration_weeks",
                f"`design.duration_weeks` must be a positive number; got {value!r}.",
                value,
            )
        else:
            duration = float(value)
    if dtype is None or visits is None or not {"control", "source"} <= set(d):
        return None
    return PublishedDesign(
        type=DesignType(dtype),
        control=d["control"],
        visits=visits,
        source=d["source"],
        randomised=randomised,
        analysed=analysed,
        baseline=baseline,
        duration_weeks=duration,
        alpha=alpha,
        software=d.get("software", ""),
        tests=d.get("tests", ""),
        blinding=d.get("blinding", ""),
        setting=d.get("setting", ""),
        population=d.get("population", ""),
        intervention=d.get("intervention", ""),
        note=d.get("note", ""),
        unavailable=missing,
        unavailable_reason=d.get("unavailable_reason", ""),
    )


def _parse_arms(raw: Any, design: PublishedDesign | None, out: ProblemCollector) -> tuple[PublishedArm, ...]:
    if not isinstance(raw, dict):
        return ()  # reported by the top-level check
    arms = []
    for arm_id, body in raw.items():
        path = f"arms.{arm_id}"
        if not SLUG.match(arm_id):
            out.add(Rule.INVALID_VALUE, path, f"arm id {arm_id!r} must be a slug (letters, digits, _ or -).", arm_id)
        a = check_block(body, "arm", path, out)
        missing = unavailable_keys(a, "arm", path, out)
        n_rand = positive_int(a.get("n_randomised"), f"{path}.n_randomised", out)
        n_anal = positive_int(a.get("n_analysed"), f"{path}.n_analysed", out)
        if n_rand is not None and n_anal is not None and n_anal > n_rand:
            out.add(
                Rule.INVALID_VALUE,
                f"{path}.n_analysed",
                f"`{path}.n_analysed` ({n_anal}) is larger than `{path}.n_randomised` ({n_rand}).",
                n_anal,
            )
        if "source" not in a:
            continue
        arms.append(
            PublishedArm(
                id=arm_id,
                label=str(a.get("label", arm_id)),
                source=a["source"],
                description=a.get("description", ""),
                n_randomised=n_rand,
                n_analysed=n_anal,
                unavailable=missing,
                unavailable_reason=a.get("unavailable_reason", ""),
            )
        )
    if len(raw) < 2:
        out.add(Rule.INVALID_VALUE, "arms", "a trial needs at least two arms (`[arms.<id>]` tables).")
    if design is not None:
        ids = tuple(raw)
        known_name(design.control, ids, "design.control", "arm", Rule.UNKNOWN_ARM, out)
        for key, total in (("n_randomised", design.randomised), ("n_analysed", design.analysed)):
            values = [getattr(a, key) for a in arms]
            if (
                design.type is DesignType.PARALLEL
                and total is not None
                and len(values) == len(ids)
                and all(v is not None for v in values)
                and sum(values) != total
            ):
                out.add(
                    Rule.INVALID_VALUE,
                    f"arms.*.{key}",
                    f"the arms' `{key}` add up to {sum(values)}, but the design says "
                    f"{'randomised' if key == 'n_randomised' else 'analysed'} = {total}.",
                )
    return tuple(arms)


def _parse_scale(raw: dict[str, Any], path: str, out: ProblemCollector) -> Scale:
    s = check_block(raw, "scale", path, out)
    rng = interval(s["range"], f"{path}.range", out) if "range" in s else None
    items = s.get("items", 1)
    if items < 1:
        out.add(Rule.INVALID_VALUE, f"{path}.items", f"`{path}.items` must be a positive integer; got {items!r}.")
        items = 1
    return Scale(integer=s.get("integer", False), range=rng, items=items, unit=s.get("unit", ""))


def _summary_common(
    s: dict[str, Any],
    block_path: str,
    decimals: int | None,
    dispersion: Dispersion | None,
    ctx: Context,
    out: ProblemCollector,
) -> dict[str, Any] | None:
    """Check what end-value, change and paired rows share; return the parsed fields or None."""
    ok = True
    if "arm" in s:
        ok &= known_name(s["arm"], ctx.arm_ids, f"{block_path}.arm", "arm", Rule.UNKNOWN_ARM, out)
    if "time" in s and ctx.visits:
        ok &= known_name(
            s["time"], ctx.visits, f"{block_path}.time", "time point of `design.visits`", Rule.UNKNOWN_VISIT, out
        )
    n = s.get("n")
    if n is not None:
        if n < 1:
            out.add(Rule.INVALID_VALUE, f"{block_path}.n", f"`{block_path}.n` must be at least 1; got {n}.", n)
            ok = False
        else:
            arm = ctx.arms.get(s.get("arm", ""))
            limit, what = None, ""
            if arm is not None and arm.n_randomised is not None:
                limit, what = arm.n_randomised, f"`arms.{arm.id}.n_randomised`"
            elif ctx.design is not None and ctx.design.randomised is not None:
                limit, what = ctx.design.randomised, "`design.randomised`"
            if limit is not None and n > limit:
                out.add(
                    Rule.INVALID_VALUE,
                    f"{block_path}.n",
                    f"`{block_path}.n` = {n} is larger than the {limit} randomised ({what}).",
                    n,
                )
                ok = False
    mean, mean_dec = (None, None)
    if "mean" in s:
        mean, mean_dec = read_number(s["mean"], f"{block_path}.mean", out)
        ok &= mean is not None
    has_sd, has_se = "sd" in s, "se" in s
    spread, spread_dec = None, None
    if has_sd and has_se:
        out.add(
            Rule.INVALID_VALUE, block_path, f"`{block_path}` gives both `sd` and `se`; give the one the table reports."
        )
        ok = False
    elif not has_sd and not has_se:
        out.add(Rule.MISSING_KEY, f"{block_path}.sd", f"`{block_path}` needs `sd` or `se` (the table's ± value).")
        ok = False
    else:
        key = "sd" if has_sd else "se"
        if dispersion is not None and key != dispersion.value:
            out.add(
                Rule.INVALID_VALUE,
                f"{block_path}.{key}",
                f"`{block_path}` gives `{key}` but the table declares `dispersion = {dispersion.value!r}`.",
            )
            ok = False
        spread, spread_dec = read_number(s[key], f"{block_path}.{key}", out)
        if spread is not None and spread < 0:
            out.add(
                Rule.INVALID_VALUE,
                f"{block_path}.{key}",
                f"`{block_path}.{key}` must not be negative; got {s[key]!r}.",
                s[key],
            )
            ok = False
        ok &= spread is not None
    if not ok or n is None or mean is None or "arm" not in s or "time" not in s:
        return None
    return {
        "arm": s["arm"],
        "time": s["time"],
        "n": n,
        "mean": mean,
        "sd": spread if has_sd else None,
        "se": spread if has_se else None,
        "mean_decimals": mean_dec if mean_dec is not None else decimals,
        "dispersion_decimals": spread_dec if spread_dec is not None else decimals,
    }


def _rows(
    raw: list[Any],
    kind: str,
    path: str,
    decimals: int | None,
    dispersion: Dispersion | None,
    divisor: str,
    ctx: Context,
    out: ProblemCollector,
) -> list[Any]:
    parsed: list[Any] = []
    seen: dict[tuple[str, ...], int] = {}
    for j, body in enumerate(raw):
        row_path = f"{path}.{kind}[{j}]"
        s = check_block(body, "paired" if kind == "paired" else "summary", row_path, out)
        if kind == "paired" and "reference" in s:
            if known_name(s["reference"], ctx.arm_ids, f"{row_path}.reference", "arm", Rule.UNKNOWN_ARM, out):
                if s.get("arm") == s["reference"]:
                    out.add(
                        Rule.INVALID_VALUE, f"{row_path}.reference", f"`{row_path}`: `arm` and `reference` must differ."
                    )
        if (
            kind == "change"
            and ctx.design is not None
            and ctx.design.baseline is not None
            and s.get("time") == ctx.design.baseline
        ):
            out.add(
                Rule.INVALID_VALUE,
                f"{row_path}.time",
                f"`{row_path}.time` is the baseline; a change row names the visit the change runs to.",
            )
            continue
        fields = _summary_common(s, row_path, decimals, dispersion, ctx, out)
        key = (s.get("arm", ""), s.get("reference", ""), s.get("time", ""))
        if key in seen and key[0] and key[2]:
            out.add(
                Rule.DUPLICATE_RECORD,
                row_path,
                f"`{row_path}` repeats `{path}.{kind}[{seen[key]}]` ({', '.join(k for k in key if k)}).",
            )
            continue
        seen[key] = j
        if fields is None or (
            kind == "paired" and "reference" not in s
        ):  # a missing or mistyped key: a problem already
            continue
        if kind == "paired":
            parsed.append(PairedSummary(reference=s["reference"], sd_divisor=divisor, **fields))
        else:
            parsed.append(PublishedSummary(sd_divisor=divisor, **fields))
    return parsed


def _parse_table(raw: dict[str, Any], path: str, ctx: Context, out: ProblemCollector) -> PublishedTable | None:
    t = check_block(raw, "table", path, out)
    dispersion = None
    if "dispersion" in t:
        chosen = choice(t["dispersion"], tuple(x.value for x in Dispersion), f"{path}.dispersion", out)
        dispersion = Dispersion(chosen) if chosen else None
    divisor = choice(t.get("sd_divisor", "n-1"), SD_DIVISORS, f"{path}.sd_divisor", out) or "n-1"
    decimals = t.get("decimals")
    if decimals is not None and decimals < 0:
        out.add(Rule.INVALID_VALUE, f"{path}.decimals", f"`{path}.decimals` must be 0 or more; got {decimals}.")
        decimals = None
    rows = _rows(t.get("rows", []), "rows", path, decimals, dispersion, divisor, ctx, out)
    change = _rows(t.get("change", []), "change", path, decimals, dispersion, divisor, ctx, out)
    paired = _rows(t.get("paired", []), "paired", path, decimals, dispersion, divisor, ctx, out)
    design = ctx.design
    if design is not None and design.type is DesignType.PARALLEL and design.randomised is not None:
        for kind, summaries in (("rows", rows), ("change", change)):
            for time in dict.fromkeys(r.time for r in summaries):
                total = sum(r.n for r in summaries if r.time == time)
                if total > design.randomised:
                    out.add(
                        Rule.INVALID_VALUE,
                        f"{path}.{kind}",
                        f"the arms' n at {time!r} in `{path}.{kind}` add up to {total}, more than "
                        f"the {design.randomised} randomised (`design.randomised`).",
                    )
    if ctx.design is not None and paired and ctx.design.type is not DesignType.CROSSOVER:
        out.add(
            Rule.INVALID_VALUE,
            f"{path}.paired",
            f"`{path}.paired` (within-subject differences between arms) needs `design.type = 'crossover'`.",
        )
    if change and ctx.design is not None and ctx.design.baseline is None:
        out.add(Rule.INVALID_VALUE, f"{path}.change", f"`{path}.change` needs a baseline: set `design.baseline`.")
    if not (rows or change or paired or t.get("comparisons")):
        out.add(
            Rule.MISSING_KEY,
            f"{path}.rows",
            f"`{path}` holds no numbers: give `rows`, `change`, `paired` or `comparisons` "
            f"(or write `table = {UNAVAILABLE!r}` in the outcome).",
        )
    comparisons = []
    for j, body in enumerate(t.get("comparisons", [])):
        cpath = f"{path}.comparisons[{j}]"
        c = check_block(body, "comparison", cpath, out)
        on = choice(c.get("on", "end"), COMPARISON_ON, f"{cpath}.on", out)
        ok = on is not None
        if "time" in c and ctx.visits:
            ok &= known_name(
                c["time"], ctx.visits, f"{cpath}.time", "time point of `design.visits`", Rule.UNKNOWN_VISIT, out
            )
        if "arm" in c:
            ok &= known_name(c["arm"], ctx.arm_ids, f"{cpath}.arm", "arm", Rule.UNKNOWN_ARM, out)
        if on == "change" and ctx.design is not None and ctx.design.baseline is None:
            out.add(Rule.INVALID_VALUE, f"{cpath}.on", f"`{cpath}.on = 'change'` needs `design.baseline`.")
        if on == "paired" and ctx.design is not None and ctx.design.type is not DesignType.CROSSOVER:
            out.add(Rule.INVALID_VALUE, f"{cpath}.on", f"`{cpath}.on = 'paired'` needs `design.type = 'crossover'`.")
        p = read_p_value(c["p"], f"{cpath}.p", out) if "p" in c else None
        if ok and p is not None and "time" in c:
            comparisons.append(
                PublishedComparison(
                    time=c["time"],
                    p=p,
                    on=on or "end",
                    arm=c.get("arm", ""),
                    test=c.get("test", ""),
                    source=c.get("source", ""),
                )
            )
    if "source" not in t:
        return None
    return PublishedTable(
        source=t["source"],
        rows=tuple(rows),
        change=tuple(change),
        paired=tuple(paired),
        comparisons=tuple(comparisons),
        dispersion=dispersion,
        sd_divisor=divisor,
    )


def _parse_outcome(raw: Any, index: int, ctx: Context, out: ProblemCollector) -> PublishedOutcome | None:
    path = f"outcomes[{index}]"
    o = check_block(raw, "outcome", path, out)
    missing = unavailable_keys(o, "outcome", path, out)
    directions = tuple(x.value for x in Direction)
    direction = choice(o["direction"], directions, f"{path}.direction", out) if "direction" in o else None
    expected = None
    if "expected" in o:
        expected = choice(o["expected"], ("increase", "decrease"), f"{path}.expected", out)
        if not o.get("expected_source"):
            out.add(
                Rule.MISSING_KEY,
                f"{path}.expected_source",
                f"`{path}.expected` is an a priori expectation, not a published fact: give its "
                f"rationale in `{path}.expected_source`.",
            )
    p = read_p_value(o["p"], f"{path}.p", out) if "p" in o else None
    flags: list[PublishedFlag] = []
    if "flags" in o:
        names = string_list(o["flags"], f"{path}.flags", out) or ()
        allowed = tuple(f.value for f in PublishedFlag)
        for name in names:
            if choice(name, allowed, f"{path}.flags", out):
                flags.append(PublishedFlag(name))
    scale = _parse_scale(o["scale"], f"{path}.scale", out) if "scale" in o else None
    # a string `table` other than "unavailable" was reported and removed by unavailable_keys
    table = _parse_table(o["table"], f"{path}.table", ctx, out) if "table" in o else None
    if direction is None or "id" not in o or "source" not in o:
        return None
    return PublishedOutcome(
        id=o["id"],
        label=o.get("label", o["id"]),
        direction=Direction(direction),
        source=o["source"],
        p=p,
        flags=tuple(flags),
        description=o.get("description", ""),
        expected=Direction(expected) if expected else None,
        expected_source=o.get("expected_source", ""),
        scale=scale,
        table=table,
        note=o.get("note", ""),
        unavailable=missing,
        unavailable_reason=o.get("unavailable_reason", ""),
    )


def _parse_context(raw: Any, index: int, outcome_ids: tuple[str, ...], out: ProblemCollector) -> ContextResult | None:
    path = f"context[{index}]"
    c = check_block(raw, "context", path, out)
    relates = string_list(c["relates_to"], f"{path}.relates_to", out) if "relates_to" in c else ()
    for name in relates or ():
        known_name(name, outcome_ids, f"{path}.relates_to", "outcome id", Rule.UNKNOWN_ENDPOINT, out)
    p = read_p_value(c["p"], f"{path}.p", out) if "p" in c else None
    est, lo, hi = c.get("estimate"), c.get("ci_low"), c.get("ci_high")
    if lo is not None and hi is not None and not lo <= hi:
        out.add(Rule.INVALID_VALUE, f"{path}.ci_low", f"`{path}.ci_low` ({lo}) is above `ci_high` ({hi}).")
    elif est is not None and lo is not None and hi is not None and not lo <= est <= hi:
        out.add(Rule.INVALID_VALUE, f"{path}.estimate", f"`{path}.estimate` ({est}) is outside its CI [{lo}, {hi}].")
    level = c.get("ci_level")
    if level is not None and not 0 < level < 1:
        out.add(Rule.INVALID_VALUE, f"{path}.ci_level", f"`{path}.ci_level` must be in (0, 1), e.g. 0.95; got {level}.")
    for key in ("n_participants", "n_trials"):
        if key in c and c[key] < 1:
            out.add(Rule.INVALID_VALUE, f"{path}.{key}", f"`{path}.{key}` must be a positive integer.")
    if not {"kind", "citation", "label", "source"} <= set(c):
        return None
    return ContextResult(
        kind=c["kind"],
        citation=c["citation"],
        label=c["label"],
        source=c["source"],
        relates_to=tuple(relates or ()),
        measure=c.get("measure", ""),
        estimate=None if est is None else float(est),
        ci_low=None if lo is None else float(lo),
        ci_high=None if hi is None else float(hi),
        ci_level=None if level is None else float(level),
        p=p,
        unit=c.get("unit", ""),
        n_participants=c.get("n_participants"),
        n_trials=c.get("n_trials"),
        note=c.get("note", ""),
    )


def parse_document(raw: Mapping[str, Any], file: str) -> PublishedTrial:
    """Check a decoded document and build the trial (see :func:`~trialkit.reproduce.published.parse_published`)."""
    out = ProblemCollector(file)
    top = check_block(dict(raw), "top", "", out)
    tr = check_block(top.get("trial", {}), "trial", "trial", out)
    trial_id = tr.get("id", "")
    if trial_id and not SLUG.match(trial_id):
        out.add(
            Rule.INVALID_VALUE,
            "trial.id",
            f"`trial.id` must be a slug (letters, digits, _ or -); got {trial_id!r}.",
            trial_id,
        )
    citation = _parse_citation(top["citation"], out) if "citation" in top else None
    design = _parse_design(top["design"], out) if "design" in top else None
    arms_raw = top.get("arms", {})
    arms = _parse_arms(arms_raw, design, out) if "arms" in top else ()
    ctx = Context(design, arms, tuple(arms_raw) if isinstance(arms_raw, dict) else ())

    outcomes: list[PublishedOutcome] = []
    raw_outcomes = top.get("outcomes", [])
    if "outcomes" in top and not raw_outcomes:
        out.add(Rule.INVALID_VALUE, "outcomes", "`outcomes` must hold at least one [[outcomes]] table.")
    for i, body in enumerate(raw_outcomes):
        outcome = _parse_outcome(body, i, ctx, out)
        if outcome is not None:
            outcomes.append(outcome)
    raw_ids: list[str] = [b["id"] for b in raw_outcomes if isinstance(b, dict) and isinstance(b.get("id"), str)]
    for dup in sorted({i for i in raw_ids if raw_ids.count(i) > 1}):
        out.add(Rule.INVALID_VALUE, "outcomes", f"outcome id {dup!r} is declared twice.", dup)
    for i, oid in enumerate(raw_ids):
        if not SLUG.match(oid):
            out.add(
                Rule.INVALID_VALUE,
                f"outcomes[{i}].id",
                f"`outcomes[{i}].id` must be a slug (letters, digits, _ or -); got {oid!r}.",
                oid,
            )

    context = []
    for i, body in enumerate(top.get("context", [])):
        item = _parse_context(body, i, tuple(raw_ids), out)
        if item is not None:
            context.append(item)

    out.raise_if_any()
    assert citation is not None and design is not None  # guaranteed: no problem was found
    return PublishedTrial(
        id=trial_id,
        title=tr.get("title", trial_id),
        citation=citation,
        design=design,
        arms=arms,
        outcomes=tuple(outcomes),
        context=tuple(context),
        note=tr.get("note", ""),
        file=file,
    )
