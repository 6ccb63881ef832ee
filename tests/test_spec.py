"""Study spec: every key checked, every problem reported at once with its key path."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import base_spec, write_spec

import trialkit as tk
from trialkit._spec import (
    MMRM_COVARIANCE_ALIASES,
    MMRM_COVARIANCES,
    MissingDataOptions,
    MMRMOptions,
    Multiplicity,
    PrimaryAnalysis,
    parse_spec,
)


def _problems(raw: dict) -> list[tuple[str, str]]:
    with pytest.raises(tk.ValidationError) as info:
        parse_spec(raw, base=Path("."))
    return [(p.rule.value, p.column) for p in info.value.problems]


def test_valid_spec_parses_to_frozen_dataclasses() -> None:
    spec = parse_spec(base_spec(), base=Path("/data"))
    assert spec.study.id == "small" and spec.study.alpha == 0.05
    assert spec.arms.levels == ("placebo", "active") and spec.arms.control == "placebo"
    assert spec.visits.post_baseline == ("week8",)
    assert spec.primary_endpoint.id == "isi" and spec.primary_endpoint.responder_change == -6
    assert spec.endpoint("sleep_time").range == (0.0, 1440.0)
    assert spec.analysis.multiplicity is Multiplicity.HOLM
    assert spec.data.path == Path("/data/trial.csv")
    with pytest.raises(AttributeError):
        spec.study.id = "other"  # type: ignore[misc]


def test_control_is_listed_first_among_arms() -> None:
    spec = parse_spec(base_spec(arms={"levels": ["active", "placebo"]}), base=Path("."))
    assert spec.arms.levels == ("placebo", "active")


def test_first_endpoint_is_primary_when_none_is_marked() -> None:
    raw = base_spec()
    del raw["endpoints"][0]["primary"]
    assert parse_spec(raw, base=Path(".")).primary_endpoint.id == "isi"


def test_unknown_keys_name_the_closest_valid_key() -> None:
    raw = base_spec(study={"alfa": 0.05}, data={"delimeter": ";"})
    raw["endpoints"][0]["rnage"] = [0, 28]
    raw["visit"] = {}
    with pytest.raises(tk.ValidationError) as info:
        parse_spec(raw, base=Path("."))
    messages = {p.column: p.message for p in info.value.problems}
    assert set(messages) == {"study.alfa", "data.delimeter", "endpoints[0].rnage", "visit"}
    assert "did you mean 'alpha'" in messages["study.alfa"]
    assert "did you mean 'delimiter'" in messages["data.delimeter"]
    assert "did you mean 'range'" in messages["endpoints[0].rnage"]
    assert "did you mean 'visits'" in messages["visit"]


@pytest.mark.parametrize(
    ("section", "key", "value"),
    [
        ("study", "alpha", "0.05"),
        ("study", "id", 3),
        ("visits", "order", "baseline,week8"),
        ("data", "missing", "NA"),
        ("analysis", "covariates", "age"),
    ],
)
def test_wrong_types_are_named(section, key, value) -> None:
    raw = base_spec(**{section: {key: value}})
    assert ("wrong_type", f"{section}.{key}") in _problems(raw)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"study": {"alpha": 1.5}}, ("invalid_value", "study.alpha")),
        ({"study": {"id": "two words"}}, ("invalid_value", "study.id")),
        ({"arms": {"control": "placebos"}}, ("invalid_value", "arms.control")),
        ({"visits": {"primary": "week 8"}}, ("invalid_value", "visits.primary")),
        ({"visits": {"primary": "baseline"}}, ("invalid_value", "visits.primary")),
        ({"visits": {"order": ["week8", "baseline"]}}, ("invalid_value", "visits.baseline")),
        ({"visits": {"order": ["baseline", "week8", "week8"]}}, ("invalid_value", "visits.order")),
        ({"data": {"format": "wid"}}, ("invalid_value", "data.format")),
        ({"data": {"pattern": "{endpoint}"}}, ("invalid_value", "data.pattern")),
        ({"data": {"decimal": ";"}}, ("invalid_value", "data.decimal")),
        ({"analysis": {"multiplicity": "holms"}}, ("invalid_value", "analysis.multiplicity")),
        ({"analysis": {"categorical": ["bmi"]}}, ("invalid_value", "analysis.categorical")),
        ({"analysis": {"mmrm": {"covariance": "ux"}}}, ("invalid_value", "analysis.mmrm.covariance")),
    ],
)
def test_invalid_values_are_named(changes, expected) -> None:
    assert expected in _problems(base_spec(**changes))


def test_endpoint_rules_are_checked() -> None:
    raw = base_spec()
    raw["endpoints"][0].update({"range": [28, 0], "better": "lowr", "responder": {"change": 0}})
    raw["endpoints"][1].update({"scale": "log", "range": [-1, 10], "primary": True})
    raw["endpoints"].append({"id": "isi"})
    found = _problems(raw)
    for expected in [
        ("invalid_value", "endpoints[0].range"),
        ("invalid_value", "endpoints[0].better"),
        ("invalid_value", "endpoints[0].responder.change"),
        ("invalid_value", "endpoints[1].range"),
        ("invalid_value", "endpoints"),
    ]:
        assert expected in found


def test_missing_sections_and_keys_are_all_reported() -> None:
    found = _problems({"study": {}, "data": {"format": "long", "path": "x.csv", "subject": "id"}})
    assert ("missing_key", "study.id") in found
    assert ("missing_key", "arms") in found and ("missing_key", "visits") in found
    assert ("missing_key", "endpoints") in found
    assert ("missing_key", "data.visit") in found and ("missing_key", "data.value") in found


def test_one_file_needs_an_arm_column_and_files_need_two_arms() -> None:
    raw = base_spec()
    del raw["arms"]["column"]
    assert ("missing_key", "arms.column") in _problems(raw)
    raw = base_spec()
    del raw["data"]["path"]
    raw["data"]["files"] = {"placebo": "p.csv"}
    assert ("invalid_value", "data.files") in _problems(raw)


def test_spec_file_errors(tmp_path) -> None:
    with pytest.raises(tk.ValidationError) as info:
        tk.read_spec(tmp_path / "missing.toml")
    assert info.value.problems[0].rule is tk.Rule.FILE_NOT_FOUND
    bad = tmp_path / "bad.toml"
    bad.write_text("[study\nid = 1")
    with pytest.raises(tk.ValidationError) as info:
        tk.read_spec(bad)
    assert info.value.problems[0].rule is tk.Rule.SPEC_UNREADABLE


def test_relative_paths_resolve_against_the_spec_folder(tmp_path) -> None:
    spec = tk.read_spec(write_spec(tmp_path, base_spec()))
    assert spec.data.path == (tmp_path / "trial.csv").resolve()


@pytest.mark.parametrize(
    "pattern",
    [
        "{endpoint}_{visit}_{foo}",
        "{endpoint}_{visit}_{0}",
        "{endpoint}_{visit}{endpoint.__class__}",
        "{endpoint}_{visit:>3}",
        "{endpoint}",
    ],
)
def test_patterns_hold_exactly_the_two_placeholders(pattern) -> None:
    assert ("invalid_value", "data.pattern") in _problems(base_spec(data={"pattern": pattern}))


def test_responder_threshold_must_point_the_way_of_improvement() -> None:
    raw = base_spec()
    raw["endpoints"][0]["responder"] = {"change": 6}  # ISI: lower is better
    assert ("invalid_value", "endpoints[0].responder.change") in _problems(raw)
    raw = base_spec()
    del raw["endpoints"][0]["better"]
    assert ("missing_key", "endpoints[0].better") in _problems(raw)


# --------------------------------------------------------------------------------- [analysis] mmrm


def _analysis(**analysis):
    return parse_spec(base_spec(analysis=analysis), base=Path(".")).analysis


def _messages(**analysis) -> dict[str, str]:
    with pytest.raises(tk.ValidationError) as info:
        parse_spec(base_spec(analysis=analysis), base=Path("."))
    return {p.column: p.message for p in info.value.problems}


@pytest.mark.parametrize(
    ("given", "sas"),
    [
        *((name, name) for name in ("us", "cs", "csh", "ar1", "arh1", "toep", "toeph")),
        ("unstructured", "us"),
        ("compound_symmetry", "cs"),
        ("toeplitz", "toep"),
    ],
)
def test_mmrm_covariance_takes_sas_names_and_the_long_names(given, sas) -> None:
    assert _analysis(mmrm={"covariance": given}).mmrm == MMRMOptions(covariance=sas)


def test_mmrm_defaults_and_every_option() -> None:
    assert _analysis().mmrm is None
    assert _analysis(mmrm={}).mmrm == MMRMOptions("us", "satterthwaite", group_by_arm=False, empirical=False)
    for df in ("satterthwaite", "kenward_roger", "residual", "between_within"):
        assert _analysis(mmrm={"df": df}).mmrm.df == df
    options = _analysis(mmrm={"covariance": "arh1", "group_by_arm": True, "empirical": True, "df": "residual"})
    assert options.mmrm == MMRMOptions("arh1", "residual", group_by_arm=True, empirical=True)


def test_the_spec_knows_the_engines_covariance_types() -> None:
    from trialkit.analysis._mmrm import Covariance
    from trialkit.analysis._mmrm._fit import ALIASES

    assert set(MMRM_COVARIANCES) == {c.value for c in Covariance}
    assert ALIASES is MMRM_COVARIANCE_ALIASES  # one table of aliases, read by the spec and the engine
    assert MMRM_COVARIANCE_ALIASES["un"] == "us"


def test_an_unknown_covariance_type_names_the_value_and_the_allowed_ones() -> None:
    message = _messages(mmrm={"covariance": "toeplitz_h"})["analysis.mmrm.covariance"]
    assert "got 'toeplitz_h'" in message
    for name in ("'us'", "'cs'", "'csh'", "'ar1'", "'arh1'", "'toep'", "'toeph'", "'unstructured'", "'toeplitz'"):
        assert name in message
    assert "did you mean 'toeplitz'" in message


@pytest.mark.parametrize(
    ("mmrm", "key", "words"),
    [
        ({"df": "kr"}, "analysis.mmrm.df", ("got 'kr'", "'kenward_roger'", "'between_within'")),
        ({"covariance": 1}, "analysis.mmrm.covariance", ("must be a string", "got 1")),
        ({"group_by_arm": "yes"}, "analysis.mmrm.group_by_arm", ("true or false", "got 'yes'")),
        (
            {"reml": True},
            "analysis.mmrm.reml",
            ("unknown key", "valid keys: baseline, covariance, df, empirical, group_by_arm"),
        ),
        ({"empirical": True}, "analysis.mmrm.empirical", ("'residual'", "'between_within'", "'satterthwaite'")),
        (
            {"empirical": True, "df": "kenward_roger"},
            "analysis.mmrm.empirical",
            ("sandwich", "got df = 'kenward_roger'"),
        ),
    ],
)
def test_bad_mmrm_options_are_named(mmrm, key, words) -> None:
    message = _messages(mmrm=mmrm)[key]
    for w in words:
        assert w in message, message


def test_the_mmrm_must_be_a_table() -> None:
    assert "must be a table" in _messages(mmrm="us")["analysis.mmrm"]


def test_primary_analysis_is_the_ancova_unless_the_spec_says_mmrm() -> None:
    assert _analysis().primary is PrimaryAnalysis.ANCOVA
    assert _analysis(mmrm={}, primary="mmrm").primary is PrimaryAnalysis.MMRM
    assert _analysis(mmrm={}, primary="ancova").primary is PrimaryAnalysis.ANCOVA
    assert "did you mean 'mmrm'" in _messages(mmrm={}, primary="mrm")["analysis.primary"]
    missing = _messages(primary="mmrm")["analysis.mmrm"]
    assert '`analysis.primary` = "mmrm" needs the model pre-specified in `analysis.mmrm`' in missing


def test_the_bundled_spec_pre_specifies_the_mmrm() -> None:
    spec = tk.read_spec(tk.datasets.study_spec("abbasi2012"))
    assert spec.analysis.mmrm == MMRMOptions("us", "satterthwaite", baseline="response")
    assert spec.analysis.primary is PrimaryAnalysis.ANCOVA


# ------------------------------------------------------------------------- [analysis.missing_data]


def test_missing_data_defaults_and_every_option() -> None:
    assert _analysis().missing_data is None
    assert _analysis(missing_data={}).missing_data == MissingDataOptions(
        methods=("mi_mar", "mi_j2r", "mi_cr", "tipping_point"), imputations=100, seed=20121104, burn_in=200
    )
    given = {
        "methods": ["tipping_point", "mi_j2r"],
        "imputations": 20,
        "seed": 0,
        "burn_in": 50,
        "deltas": [0, 0.5, 2],
        "reference": "active",
    }
    assert _analysis(missing_data=given).missing_data == MissingDataOptions(
        methods=("mi_j2r", "tipping_point"),
        imputations=20,
        seed=0,
        burn_in=50,
        deltas=(0.0, 0.5, 2.0),
        reference="active",
    )


def test_bad_missing_data_options_are_all_named_at_once() -> None:
    messages = _messages(
        missing_data={
            "methods": ["mi_mar", "lvcf"],
            "imputations": 1,
            "seed": -3,
            "burn_in": 0,
            "deltas": [0, "two", True],
            "reference": "sham",
            "imputation": 5,
        }
    )
    key = "analysis.missing_data"
    assert "got 'lvcf'" in messages[f"{key}.methods"] and "'mi_j2r'" in messages[f"{key}.methods"]
    assert messages[f"{key}.imputations"] == f"`{key}.imputations` must be an integer >= 2; got 1."
    assert messages[f"{key}.seed"] == f"`{key}.seed` must be an integer >= 0; got -3."
    assert messages[f"{key}.burn_in"] == f"`{key}.burn_in` must be an integer >= 1; got 0."
    assert "finite numbers" in messages[f"{key}.deltas"] and "'two', True" in messages[f"{key}.deltas"]
    assert messages[f"{key}.reference"] == f"`{key}.reference` must be one of the arms 'placebo', 'active'; got 'sham'."
    assert "(did you mean 'imputations'?)" in messages[f"{key}.imputation"]
    assert len(messages) == 7  # every problem at once


@pytest.mark.parametrize(
    ("given", "key", "words"),
    [
        ({"methods": []}, "methods", "must name at least one of"),
        ({"methods": "mi_mar"}, "methods", "must be an array"),
        ({"imputations": 2.5}, "imputations", "must be an integer"),
        ({"deltas": []}, "deltas", "non-empty array"),
        ({"deltas": [float("nan")]}, "deltas", "finite numbers"),
        ({"methods": ["mi_mar", "mi_j2r", "mi_mar"]}, "methods", "lists 'mi_mar' twice"),
        ({"methods": ["mi_mar", 2]}, "methods", "must be an array of strings; got ['mi_mar', 2]"),
        ({"methods": ["MI_MAR"]}, "methods", "got 'MI_MAR' (did you mean 'mi_mar'"),
        ({"imputations": True}, "imputations", "must be an integer; got True"),
        ({"imputations": 100.0}, "imputations", "must be an integer; got 100.0"),
        ({"imputations": -5}, "imputations", "must be an integer >= 2; got -5"),
        ({"seed": "20121104"}, "seed", "must be an integer; got '20121104'"),
        ({"burn_in": 0.5}, "burn_in", "must be an integer; got 0.5"),
        ({"deltas": [0, float("inf")]}, "deltas", "finite numbers (shifts in the endpoint's unit); got inf"),
        ({"deltas": [0, "1"]}, "deltas", "got '1'"),
        ({"deltas": 0.5}, "deltas", "must be an array or a table; got 0.5"),
        ({"reference": 1}, "reference", "must be a string; got 1"),
        ({"reference": "Placebo"}, "reference", "one of the arms 'placebo', 'active'; got 'Placebo'"),
        ({"seeds": 1}, "seeds", "unknown key `analysis.missing_data.seeds`"),
    ],
)
def test_each_bad_missing_data_value_is_named(given, key, words) -> None:
    message = _messages(missing_data=given)[f"analysis.missing_data.{key}"]
    assert words in message, message


def test_the_bundled_spec_pre_specifies_the_missing_data_analyses() -> None:
    spec = tk.read_spec(tk.datasets.study_spec("abbasi2012"))
    assert spec.analysis.missing_data == MissingDataOptions(imputations=100, seed=20121104)


def test_deltas_without_a_tipping_point_analysis_are_named() -> None:
    message = _messages(missing_data={"methods": ["mi_mar"], "deltas": [0, 1]})["analysis.missing_data.deltas"]
    assert "does not name" in message and "[0.0, 1.0]" in message and "['mi_mar']" in message


def test_deltas_can_be_given_per_endpoint() -> None:
    options = _analysis(missing_data={"deltas": {"isi": [0, 2, 4]}}).missing_data
    assert options.deltas_for("isi") == (0.0, 2.0, 4.0) and options.deltas_for("sleep_time") is None
    both = _analysis(missing_data={"deltas": [0, 1]}).missing_data
    assert both.deltas_for("isi") == both.deltas_for("sleep_time") == (0.0, 1.0)
    messages = _messages(missing_data={"deltas": {"isi": [0, "x"], "pain": [1]}})
    assert (
        "`analysis.missing_data.deltas.isi` must be a non-empty array of finite numbers"
        in messages["analysis.missing_data.deltas.isi"]
    )
    assert "names endpoint 'pain', which the spec does not have" in messages["analysis.missing_data.deltas.pain"]


# ------------------------------------------------------------------ endpoint types, strata, Dunnett


def _with_endpoints(*extra: dict, **sections) -> dict:
    raw = base_spec(**sections)
    raw["endpoints"] += list(extra)
    return raw


def test_endpoint_types_and_their_keys_are_read() -> None:
    spec = parse_spec(
        _with_endpoints(
            {"id": "remission", "type": "binary", "success": "good"},
            {"id": "event", "type": "binary", "success": 2},
            {"id": "flag", "type": "binary"},
            {
                "id": "seizures",
                "type": "count",
                "better": "lower",
                "exposure": {"baseline": 8, "week8": 2},
                "exposure_unit": "weeks",
                "count_baseline": "log1p",
                "responder": {"percent_change": -50},
            },
            {"id": "falls", "type": "count", "exposure_column": "years", "exposure": {"baseline": 1}},
        ),
        base=Path("."),
    )
    isi = spec.endpoint("isi")
    assert (isi.type, isi.success, isi.exposure, isi.count_baseline, isi.responder_percent) == (
        "continuous",
        None,
        (),
        "log",
        None,
    )
    assert spec.endpoint("remission").success == "good" and spec.endpoint("remission").type == "binary"
    assert spec.endpoint("event").success == 2.0 and spec.endpoint("flag").success is None
    seizures = spec.endpoint("seizures")
    assert seizures.exposure == (("baseline", 8.0), ("week8", 2.0)) and seizures.exposure_unit == "weeks"
    assert (seizures.count_baseline, seizures.responder_percent, seizures.responder_change) == ("log1p", -50.0, None)
    assert seizures.integer  # a count is a whole number
    falls = spec.endpoint("falls")
    assert (falls.exposure_column, falls.exposure, falls.count_baseline) == ("years", (("baseline", 1.0),), "log")


def test_a_percent_change_responder_on_a_continuous_endpoint() -> None:
    raw = base_spec()
    raw["endpoints"][0]["responder"] = {"percent_change": -40}
    isi = parse_spec(raw, base=Path(".")).endpoint("isi")
    assert (isi.responder_percent, isi.responder_change) == (-40.0, None)


@pytest.mark.parametrize(
    ("endpoint", "expected"),
    [
        ({"type": "ordinal"}, ("invalid_value", "type")),
        ({"type": 1}, ("wrong_type", "type")),
        ({"type": "binary", "success": True}, ("wrong_type", "success")),
        ({"type": "binary", "success": [1]}, ("wrong_type", "success")),
        ({"type": "binary", "success": float("nan")}, ("invalid_value", "success")),
        ({"type": "binary", "success": " good"}, ("invalid_value", "success")),
        ({"type": "binary", "success": "NA"}, ("invalid_value", "success")),
        ({"type": "binary", "range": [0, 1]}, ("invalid_value", "range")),
        ({"type": "binary", "integer": True}, ("invalid_value", "integer")),
        ({"type": "binary", "scale": "log"}, ("invalid_value", "scale")),
        ({"type": "binary", "better": "higher", "responder": {"change": 1}}, ("invalid_value", "responder")),
        ({"type": "binary", "exposure_column": "years"}, ("invalid_value", "exposure_column")),
        ({"type": "count", "scale": "log"}, ("invalid_value", "scale")),
        ({"type": "count", "integer": False}, ("invalid_value", "integer")),
        ({"type": "count", "success": 1}, ("invalid_value", "success")),
        ({"type": "count", "count_baseline": "sqrt"}, ("invalid_value", "count_baseline")),
        ({"type": "count", "count_baseline": 1}, ("wrong_type", "count_baseline")),
        ({"type": "count", "exposure": {"baseline": 8}}, ("missing_key", "exposure")),
        ({"type": "count", "exposure": {"baseline": 8, "week8": 0}}, ("invalid_value", "exposure.week8")),
        ({"type": "count", "exposure": {"baseline": 8, "week8": -2}}, ("invalid_value", "exposure.week8")),
        ({"type": "count", "exposure": {"baseline": 8, "week8": "2"}}, ("invalid_value", "exposure.week8")),
        ({"type": "count", "exposure": {"baseline": 8, "week8": float("inf")}}, ("invalid_value", "exposure.week8")),
        ({"type": "count", "exposure": {"baseline": 8, "week8": 2, "wk12": 2}}, ("invalid_value", "exposure.wk12")),
        ({"type": "count", "exposure": 8}, ("wrong_type", "exposure")),
        (
            {"type": "count", "exposure_column": "years", "exposure": {"baseline": 8, "week8": 2}},
            ("invalid_value", "exposure.week8"),
        ),
        ({"type": "count", "exposure_column": ""}, ("invalid_value", "exposure_column")),
        ({"type": "count", "exposure_column": "subject_id"}, ("invalid_value", "exposure_column")),
        ({"type": "count", "exposure_column": "sex"}, ("invalid_value", "exposure_column")),
        ({"type": "count", "exposure_unit": "weeks"}, ("invalid_value", "exposure_unit")),
        ({"exposure_unit": "weeks"}, ("invalid_value", "exposure_unit")),
        ({"count_baseline": "log"}, ("invalid_value", "count_baseline")),
        ({"better": "lower", "responder": {"change": -1, "percent_change": -50}}, ("invalid_value", "responder")),
        ({"better": "lower", "responder": {}}, ("missing_key", "responder")),
        ({"better": "lower", "responder": {"percent_change": 50}}, ("invalid_value", "responder.percent_change")),
        ({"better": "lower", "responder": {"percent_change": 0}}, ("invalid_value", "responder.percent_change")),
        ({"better": "lower", "responder": {"percent": -50}}, ("unknown_key", "responder.percent")),
        ({"responder": {"percent_change": -50}}, ("missing_key", "better")),
        ({"sucess": 1}, ("unknown_key", "sucess")),
    ],
)
def test_each_bad_endpoint_key_is_named(endpoint, expected) -> None:
    raw = _with_endpoints({"id": "extra", **endpoint})
    rule, key = expected
    assert (rule, f"endpoints[2].{key}") in _problems(raw)


def test_bad_endpoint_keys_are_reported_at_once_with_the_value_and_a_reason() -> None:
    raw = _with_endpoints(
        {"id": "response", "type": "binary", "range": [0, 1], "scale": "log", "exposure": {"week8": 1}},
        {"id": "seizures", "type": "count", "scale": "log", "success": "yes", "exposure": {"week8": 0}},
        {"id": "other", "type": "cont", "sucess": 1},
    )
    with pytest.raises(tk.ValidationError) as info:
        parse_spec(raw, base=Path("."))
    messages = {p.column: p.message for p in info.value.problems}
    assert "not a range" in messages["endpoints[2].range"]
    assert "proportions and odds" in messages["endpoints[2].scale"]
    assert "applies to count endpoints" in messages["endpoints[2].exposure"]
    assert "log-linear already" in messages["endpoints[3].scale"]
    assert "applies to binary endpoints" in messages["endpoints[3].success"]
    assert "got 0" in messages["endpoints[3].exposure.week8"]
    assert "lacks 'baseline'" in messages["endpoints[3].exposure"]
    assert "did you mean 'count'" in messages["endpoints[4].type"]
    assert "did you mean 'success'" in messages["endpoints[4].sucess"]


def test_a_responder_on_a_binary_endpoint_is_refused_once() -> None:
    raw = _with_endpoints({"id": "response", "type": "binary", "responder": {"change": 1}})
    assert [k for _, k in _problems(raw) if k.startswith("endpoints[2]")] == ["endpoints[2].responder"]


def test_the_design_parser_keeps_responders_on_the_change() -> None:
    from trialkit._schema import ProblemCollector
    from trialkit._spec import endpoint_rules

    out = ProblemCollector("design.toml")
    rules = endpoint_rules({"better": "lower", "responder": {"percent_change": -50}}, "endpoints[0]", out)
    assert (rules.responder_change, rules.responder_percent) == (None, None)
    assert [(p.rule.value, p.column) for p in out.problems] == [
        ("unknown_key", "endpoints[0].responder.percent_change"),
        ("invalid_value", "endpoints[0].responder.change"),
    ]
    out = ProblemCollector("design.toml")
    rules = endpoint_rules({"better": "lower", "responder": {"change": -3}}, "endpoints[0]", out)
    assert (rules.responder_change, rules.responder_percent, out.problems) == (-3.0, None, [])


def test_strata_are_categorical_covariates() -> None:
    options = _analysis(strata=["centre"])
    assert options.strata == ("centre",)
    assert options.covariates == ("age", "sex", "centre") and options.categorical == ("sex", "centre")
    options = _analysis(covariates=["centre", "age"], categorical=[], strata=["centre"])  # listed as numeric
    assert options.covariates == ("centre", "age") and options.categorical == ("centre",)
    assert _analysis().strata == ()


@pytest.mark.parametrize(
    ("strata", "key", "words"),
    [
        ("centre", "analysis.strata", ("must be an array",)),
        (["centre", "centre"], "analysis.strata", ("twice",)),
        ([1], "analysis.strata", ("array of strings",)),
        (["arm"], "analysis.strata", ("the arm column",)),
        (["subject_id"], "analysis.strata", ("the subject id column",)),
    ],
)
def test_bad_strata_are_named(strata, key, words) -> None:
    message = _messages(strata=strata)[key]
    for w in words:
        assert w in message, message


@pytest.mark.parametrize(
    ("given", "multiplicity", "dunnett"),
    [
        ("holm", Multiplicity.HOLM, False),
        ("dunnett", Multiplicity.NONE, True),
        (["dunnett"], Multiplicity.NONE, True),
        (["dunnett", "holm"], Multiplicity.HOLM, True),
        (["hochberg", "dunnett"], Multiplicity.HOCHBERG, True),
        (["bh"], Multiplicity.BH, False),
    ],
)
def test_multiplicity_takes_dunnett_with_one_method_across_endpoints(given, multiplicity, dunnett) -> None:
    options = _analysis(multiplicity=given)
    assert (options.multiplicity, options.dunnett) == (multiplicity, dunnett)


@pytest.mark.parametrize(
    ("given", "words"),
    [
        (["dunnet", "holm"], ("got 'dunnet'", "did you mean 'dunnett'")),
        (["holm", "bh"], ("one method across endpoints", "'holm', 'bh'")),
        (["dunnett", "dunnett"], ("twice",)),
        ([], ("at least one",)),
        ([1], ("array of strings",)),
        (3, ("must be a string or an array",)),
    ],
)
def test_bad_multiplicity_is_named(given, words) -> None:
    message = _messages(multiplicity=given)["analysis.multiplicity"]
    for w in words:
        assert w in message, message


def test_marginal_variance() -> None:
    assert _analysis().marginal_variance == "ye"
    assert _analysis(marginal_variance="ge").marginal_variance == "ge"
    assert "did you mean 'ye'" in _messages(marginal_variance="yee")["analysis.marginal_variance"]


def test_every_new_problem_is_reported_at_once() -> None:
    raw = _with_endpoints(
        {"id": "response", "type": "binary", "success": True},
        {"id": "seizures", "type": "count", "count_baseline": "lg"},
        analysis={"strata": ["arm"], "multiplicity": ["holm", "bh"], "marginal_variance": "robust"},
    )
    found = _problems(raw)
    for expected in [
        ("wrong_type", "endpoints[2].success"),
        ("invalid_value", "endpoints[3].count_baseline"),
        ("invalid_value", "analysis.strata"),
        ("invalid_value", "analysis.multiplicity"),
        ("invalid_value", "analysis.marginal_variance"),
    ]:
        assert expected in found


def test_a_spec_without_a_baseline_visit_parses() -> None:
    raw = base_spec(visits={"order": ["week4", "week8"], "primary": "week8"})
    del raw["visits"]["baseline"]
    spec = parse_spec(raw, base=Path("."))
    assert spec.visits.baseline is None and spec.visits.post_baseline == ("week4", "week8")
