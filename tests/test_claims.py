"""Claims and promises as data: schema validation, verdict rules, evidence extraction, notebooks."""

from __future__ import annotations

import copy
import math
from pathlib import Path

import polars as pl
import pytest
import yaml
from support import outputs_text, run_notebook

from helpers.analysis import claims
from helpers.analysis.claims import (
    NOT_SUPPORTED,
    PARTLY_SUPPORTED,
    SUPPORTED,
    UNVERIFIABLE,
    EvidenceResult,
    EvidenceSpec,
    Measurement,
    PeerChanges,
    assess,
    load_claims,
    load_programme,
    mark_shared,
    parse_period,
)
from helpers.errors import DataError, InputError
from helpers.present import text

ARSRAPPORT = claims.CLAIMS_DIR / "arsrapport_2015.yml"
PROGRAMME = claims.CLAIMS_DIR / "ap_program.yml"


# --------------------------------------------------------------------------------------------------------
# The real files
# --------------------------------------------------------------------------------------------------------


def test_arsrapport_file_is_valid_and_holds_the_quantified_claims():
    document = load_claims(ARSRAPPORT)
    ids = {claim.id for claim in document.claims}
    assert {
        "psykisk_helse_venteliste_heldogn",
        "utviklingshemmede_venteliste_heldogn",
        "sykehjem_venteliste_langtidsplass",
        "sykehjem_effektueringstid",
        "utskrivningsklare_liggetid",
        "hjemmesykepleie_mottak_utskrivningsklare",
        "gullhella_omsorgsboliger",
        "sondre_borgen_akuttplasser",
    } <= ids
    assert document.kommune == "0220" and document.structure == "as_reported"
    liggetid = document.get("utskrivningsklare_liggetid")
    assert liggetid.before is not None and liggetid.before.value is None
    assert liggetid.relative_change_pct == -89 and liggetid.after.value == 1
    assert liggetid.after.period.report_years == (2015,)
    venteliste = document.get("sykehjem_venteliste_langtidsplass")
    assert venteliste.windows() == ((2011, 2011), (2015, 2015))  # January 2012 ≈ 31.12.2011
    assert math.isclose(document.get("psykisk_helse_venteliste_heldogn").relative_change_pct, -9 / 13 * 100)
    assert document.get("gullhella_omsorgsboliger").absolute_change == 60
    assert not document.get("sondre_borgen_akuttplasser").quantified
    for claim in document.claims:
        assert claim.evidence or claim.why_unmeasurable, claim.id
    # the one direct measure: residents in 24-hour-staffed housing for the 60 new staffed dwellings
    direct = [(c.id, s.indicator) for c in document.claims for s in c.evidence if s.measure == "direct"]
    assert direct == [("gullhella_omsorgsboliger", "residents_24h_housing")]


def test_programme_file_is_valid():
    programme = load_programme(PROGRAMME)
    by_id = {promise.id: promise for promise in programme.promises}
    assert programme.kommune == "3203" and programme.structure == "2024"
    staffing = {item.indicator for item in by_id["grunnbemanning_eldreomsorg"].indicators}
    assert staffing == {"nurse_ftes_per_1000_80plus", "nurse_ftes_per_100_users"}
    waiting = by_id["ingen_venteliste_bolig_sykehjem"]
    assert waiting.direction == "zero" and "venteliste" in waiting.why_unmeasurable
    assert by_id["velferdsteknologi"].indicators == ()
    assert all(p.indicators or p.why_unmeasurable for p in programme.promises)


def test_secondary_links_resolve_to_rows_labelled_secondary():
    document = load_claims(ARSRAPPORT)
    secondary = claims.load_secondary()
    rows = claims.secondary_for(document.get("utskrivningsklare_liggetid").secondary_evidence, secondary)
    assert rows.height == 2 and rows["source_kind"].to_list() == ["secondary", "secondary"]
    assert sorted(rows["value"].to_list()) == [291.0, 748.0]


# --------------------------------------------------------------------------------------------------------
# Broken copies
# --------------------------------------------------------------------------------------------------------


def _write(tmp_path: Path, data: dict, name: str = "broken.yml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def _claims_data() -> dict:
    return yaml.safe_load(ARSRAPPORT.read_text(encoding="utf-8"))


def _claim(data: dict, claim_id: str) -> dict:
    return next(record for record in data["claims"] if record["id"] == claim_id)


def _broken(tmp_path: Path, change) -> Path:
    data = _claims_data()
    change(data)
    return _write(tmp_path, data)


def _reverse_periods(data):
    _claim(data, "psykisk_helse_venteliste_heldogn")["before"]["period"] = "2016"


def _unknown_unit(data):
    _claim(data, "sykehjem_effektueringstid")["unit"] = "uker"


def _unknown_indicator(data):
    _claim(data, "gullhella_omsorgsboliger")["evidence"][0]["indicator"] = "omsorgsboliger_i_alt"


def _duplicate_id(data):
    data["claims"].append(copy.deepcopy(_claim(data, "sykehjem_effektueringstid")))


@pytest.mark.parametrize(
    ("change", "record", "needle"),
    [
        (_reverse_periods, "psykisk_helse_venteliste_heldogn", "before.period"),
        (_unknown_unit, "sykehjem_effektueringstid", "'unit'"),
        (_unknown_indicator, "gullhella_omsorgsboliger", "evidence[0].indicator"),
        (_duplicate_id, "sykehjem_effektueringstid", "duplicate"),
    ],
    ids=["reversed_periods", "unknown_unit", "unknown_indicator", "duplicate_id"],
)
def test_broken_claims_files_name_file_record_and_field(tmp_path, change, record, needle):
    path = _broken(tmp_path, change)
    with pytest.raises(DataError) as error:
        load_claims(path)
    message = str(error.value)
    assert str(path) in message and repr(record) in message and needle in message


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        (lambda d: _claim(d, "sykehjem_effektueringstid").update(kommune=220), "kommune"),
        (lambda d: _claim(d, "sykehjem_effektueringstid")["after"].update(period="2015-13"), "after.period"),
        (lambda d: _claim(d, "sykehjem_effektueringstid")["after"].update(period="2013"), "out of order"),
        (lambda d: _claim(d, "sykehjem_effektueringstid").update(direction="up"), "'direction'"),
        (lambda d: _claim(d, "sykehjem_effektueringstid").update(topic="skole"), "'topic'"),
        (lambda d: _claim(d, "sykehjem_effektueringstid").update(extra=1), "'extra'"),
        (
            lambda d: _claim(d, "sykehjem_effektueringstid").update(claimed_change={"kind": "percent", "value": -30}),
            "claimed_change.value",
        ),
        (lambda d: _claim(d, "utskrivningsklare_liggetid").pop("why_unmeasurable"), "why_unmeasurable"),
        (
            lambda d: _claim(d, "utskrivningsklare_liggetid")["secondary_evidence"][0].update(year=2013),
            "secondary_evidence[0]",
        ),
        (
            lambda d: _claim(d, "sykehjem_effektueringstid")["evidence"][0].update(measure="direct"),
            "evidence[0].expected",
        ),
        (lambda d: _claim(d, "sykehjem_effektueringstid")["evidence"][0].pop("measure"), "evidence[0].measure"),
        (lambda d: _claim(d, "sykehjem_effektueringstid")["evidence"][0].update(size="relative"),
         "evidence[0].size"),
        (lambda d: d.update(schema_version=1), "schema_version"),
        (
            lambda d: _claim(d, "hjemmesykepleie_mottak_utskrivningsklare").pop("claimed_change"),
            "claimed_change",
        ),
        (lambda d: _claim(d, "sykehjem_effektueringstid").update(evidence="brukere"), "'evidence': expected a list"),
        (lambda d: _claim(d, "sykehjem_effektueringstid")["evidence"][0].update(weight=2), "'evidence[0]': expected {"),
        (lambda d: _claim(d, "utskrivningsklare_liggetid").update(secondary_evidence={"year": 2014}),
         "'secondary_evidence': expected a list"),
        (lambda d: _claim(d, "utskrivningsklare_liggetid")["secondary_evidence"][0].update(kilde="x"),
         "'secondary_evidence[0]': expected {"),
    ],
    ids=[
        "kommune_not_text",
        "bad_month",
        "same_period",
        "direction_disagrees",
        "unknown_topic",
        "unknown_field",
        "inconsistent_percent",
        "no_why",
        "missing_secondary_row",
        "direct_measure_other_way",
        "no_measure",
        "size_on_indirect",
        "old_schema",
        "no_size",
        "evidence_not_a_list",
        "evidence_unknown_key",
        "secondary_not_a_list",
        "secondary_unknown_key",
    ],
)
def test_more_broken_claims(tmp_path, change, needle):
    path = _broken(tmp_path, change)
    with pytest.raises(DataError, match=None) as error:
        load_claims(path)
    assert needle in str(error.value) and str(path) in str(error.value)


def test_secondary_check_can_be_skipped(tmp_path):
    path = _broken(
        tmp_path, lambda d: _claim(d, "utskrivningsklare_liggetid")["secondary_evidence"][0].update(year=2013)
    )
    assert load_claims(path, secondary_csv=None).get("utskrivningsklare_liggetid")


def test_not_yaml_and_missing_file(tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text("claims: [unclosed", encoding="utf-8")
    with pytest.raises(DataError, match="not valid YAML"):
        load_claims(bad)
    with pytest.raises(DataError, match="not found"):
        load_claims(tmp_path / "nothing.yml")


@pytest.mark.parametrize(
    ("change", "record", "needle"),
    [
        (
            lambda p: p[0]["indicators"][0].update(indicator="grunnbemanning"),
            "grunnbemanning_eldreomsorg",
            "indicators[0].indicator",
        ),
        (lambda p: p.append(copy.deepcopy(p[1])), "heltid_hovedregel", "duplicate"),
        (lambda p: p[0]["indicators"][0].update(wanted="zero"), "grunnbemanning_eldreomsorg", "wanted"),
        (lambda p: p[1].update(direction="sideways"), "heltid_hovedregel", "direction"),
        (lambda p: p[1].pop("why_unmeasurable"), "heltid_hovedregel", "why_unmeasurable"),
        (lambda p: p[0].update(indicators="bemanning"), "grunnbemanning_eldreomsorg", "'indicators': expected a list"),
        (lambda p: p[0]["indicators"][0].update(vekt=1), "grunnbemanning_eldreomsorg", "'indicators[0]': expected {"),
    ],
    ids=["unknown_indicator", "duplicate_id", "bad_wanted", "bad_direction", "no_why", "indicators_not_a_list",
         "indicator_unknown_key"],
)
def test_broken_programme_files(tmp_path, change, record, needle):
    data = yaml.safe_load(PROGRAMME.read_text(encoding="utf-8"))
    change(data["promises"])
    path = _write(tmp_path, data)
    with pytest.raises(DataError) as error:
        load_programme(path)
    message = str(error.value)
    assert str(path) in message and repr(record) in message and needle in message


# --------------------------------------------------------------------------------------------------------
# Periods
# --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "years", "label"),
    [
        ("2014", (2014,), "2014"),
        (2014, (2014,), "2014"),
        ("2012-2014", (2012, 2013, 2014), "2012–2014"),
        ("2012-01", (2011,), "januar 2012"),
        ("2012-06", (2011,), "juni 2012"),
        ("2012-07", (2012,), "juli 2012"),
        ("2015-12", (2015,), "desember 2015"),
    ],
)
def test_periods_map_to_report_years(text, years, label):
    period = parse_period(text)
    assert period.report_years == years and period.label == label


@pytest.mark.parametrize("text", ["2014-2012", "2012-00", "14", "januar 2012", None, True, 2014.5])
def test_bad_periods(text):
    with pytest.raises(ValueError):
        parse_period(text)


# --------------------------------------------------------------------------------------------------------
# The two-question scale on constructed cases
# --------------------------------------------------------------------------------------------------------


def claim(direction: str = "up", before: float | None = 100.0, after: float | None = 160.0,
          change: dict | None = None) -> claims.Claim:
    """A quantified claim 2014 → 2015 (claimed +60 % by default)."""
    return claims.Claim(
        id="c", paraphrase="En påstand", topic="omsorgsboliger", kommune="9999", quantified=True,
        claim_type="change", before=claims.Point(before, parse_period("2014")),
        after=claims.Point(after, parse_period("2015")),
        claimed_change=None if change is None else claims.ClaimedChange(**change), unit="boliger",
        direction=direction, source={"file": "x", "section": "y"})


def result(measure: str, expected: str, before: float | None, after: float | None, *, size: str | None = None,
           indicator: str = "residents_24h_housing", years: tuple = ((2014, 2014), (2015, 2015)),
           peers: PeerChanges | None = None) -> EvidenceResult:
    change = None if before is None or after is None else after - before
    pct = None if change is None or not before else change / before * 100
    m = Measurement(indicator, "9999", "as_reported", *years, before=before, after=after, change=change,
                    pct_change=pct, stat=pct, scale="pct")
    return EvidenceResult(EvidenceSpec(indicator, measure, expected, size if measure == "direct" else None), m, peers)


@pytest.mark.parametrize(("before", "after", "verdict"), [
    (100, 161, SUPPORTED),  # +61 % against a claimed +60 %
    (100, 135, SUPPORTED),  # +35 %: within ±50 % of the claimed size (30–90)
    (100, 125, PARTLY_SUPPORTED),  # the claimed way, but less than half the size
    (100, 101, NOT_SUPPORTED),  # +1 %: unchanged within ±2 %
    (100, 80, NOT_SUPPORTED),  # the opposite way
    (None, 80, UNVERIFIABLE),  # a direct measure without figures
])
def test_direct_measures_give_the_verdict(before, after, verdict):
    assessment = assess(claim(), [result("direct", "up", before, after, size="relative")])
    assert assessment.measurability == "direct" and assessment.verdict == verdict


@pytest.mark.parametrize(("before", "after"), [(100, 300), (100, 100), (100, 20), (None, None)])
def test_an_indirect_measure_never_gives_a_verdict(before, after):
    assessment = assess(claim(), [result("indirect", "up", before, after)])
    assert assessment.measurability == "indirect" and assessment.verdict == UNVERIFIABLE


def test_no_evidence_is_unmeasurable():
    assessment = assess(claim(), [])
    assert (assessment.measurability, assessment.verdict, assessment.context) == ("unmeasurable", UNVERIFIABLE, None)


def test_absolute_size_and_several_direct_measures():
    absolute = claim(before=None, after=None, change={"kind": "absolute", "value": 60})
    assert assess(absolute, [result("direct", "up", 251, 312, size="absolute")]).verdict == SUPPORTED
    assert assess(absolute, [result("direct", "up", 251, 270, size="absolute")]).verdict == PARTLY_SUPPORTED
    mixed = [result("direct", "up", 100, 160, size="relative"), result("direct", "up", 100, 50, size="relative")]
    assert assess(claim(), mixed).verdict == PARTLY_SUPPORTED


def test_indirect_context_is_judged_against_the_peers():
    # a rise of 10 % is "consistent" only if most comparable kommuner rose less
    peers_low, peers_high = PeerChanges(20, 1.0, -2.0, 4.0), PeerChanges(20, 15.0, 12.0, 20.0)
    up_vs_low = assess(claim(), [result("indirect", "up", 100, 110, peers=peers_low)])
    up_vs_high = assess(claim(), [result("indirect", "up", 100, 110, peers=peers_high)])
    assert (up_vs_low.context, up_vs_high.context) == ("consistent", "inconsistent")
    assert up_vs_low.verdict == up_vs_high.verdict == UNVERIFIABLE
    middle = assess(claim(), [result("indirect", "up", 100, 110, peers=PeerChanges(20, 9.0, 5.0, 14.0))])
    assert middle.context == "mixed"
    both = assess(claim(), [result("indirect", "up", 100, 110, peers=peers_low),
                            result("indirect", "up", 100, 110, peers=peers_high)])
    assert both.context == "mixed"


def test_a_change_used_for_two_claims_is_reported_on_both():
    first = assess(claim(), [result("indirect", "up", 251, 312)])
    second = assess(claims.Claim(**{**first.claim.__dict__, "id": "d"}), [result("direct", "up", 251, 312,
                                                                                 size="relative")])
    other_years = assess(claims.Claim(**{**first.claim.__dict__, "id": "e"}),
                         [result("indirect", "up", 247, 312, years=((2012, 2012), (2015, 2015)))])
    marked = mark_shared([first, second, other_years])
    assert [m.evidence[0].shared_with for m in marked] == [("d",), ("c",), ()]
    sentence = text.claim_reasoning(marked[0], {"d": "Gullhella"})
    assert "brukes også for «Gullhella», så den er ikke uavhengig belegg" in sentence


def test_reasoning_keeps_indirect_measures_apart_from_the_verdict():
    peers = PeerChanges(20, 1.0, -2.0, 4.0)
    reasoning = text.claim_reasoning(assess(claim(), [result("indirect", "up", 100, 130, peers=peers)]), {})
    assert "Vurdering: kan ikke etterprøves." in reasoning
    assert "Sammenheng (indirekte mål, teller ikke i vurderingen): forenlig med påstanden." in reasoning
    assert "støttes" not in reasoning
    supported = text.claim_reasoning(assess(claim(), [result("direct", "up", 100, 161, size="relative")]), {})
    assert "Kan måles med offentlig statistikk (direkte mål)" in supported and "Vurdering: støttes." in supported


# --------------------------------------------------------------------------------------------------------
# The real table
# --------------------------------------------------------------------------------------------------------


def test_the_2015_report_on_the_built_table(built_table, reforms):
    audit = claims.audit_claims(load_claims(ARSRAPPORT), built_table, reforms=reforms)
    summary = audit.summary()
    verdicts = dict(zip(summary["id"], summary["verdict"], strict=True))
    measurability = dict(zip(summary["id"], summary["measurability"], strict=True))
    assert len(verdicts) == 8
    # the one claim with a direct measure: 251 → 312 residents (+61) against 60 new staffed dwellings
    assert verdicts["gullhella_omsorgsboliger"] == SUPPORTED
    assert all(v == UNVERIFIABLE for k, v in verdicts.items() if k != "gullhella_omsorgsboliger")
    assert measurability["utskrivningsklare_liggetid"] == measurability["sondre_borgen_akuttplasser"] == "unmeasurable"
    # the nursing-home queue: long-term users fell while peers rose; heldøgns omsorg rose more than most
    queue = summary.filter(pl.col("id") == "sykehjem_venteliste_langtidsplass").row(0, named=True)
    assert queue["context"] == "mixed"
    detail = audit.detail()
    gullhella = detail.filter(pl.col("id") == "gullhella_omsorgsboliger").row(0, named=True)
    assert (gullhella["before"], gullhella["after"], gullhella["grade"]) == (251.0, 312.0, "match")
    assert gullhella["shared_with"] == ["psykisk_helse_venteliste_heldogn"]  # the same 2014 → 2015 rise
    assert audit.group is not None and len(audit.group.codes) == 20


def test_audit_for_another_kommune_is_an_input_error(built_table, reforms):
    with pytest.raises(InputError, match="0220"):
        claims.audit_claims(load_claims(ARSRAPPORT), built_table, reforms=reforms, kommune="0219")


def test_promises_are_tracked_against_comparable_kommuner(built_table, reforms):
    tracking = claims.track_promises(load_programme(PROGRAMME), built_table, baseline_year=2019, reforms=reforms)
    by_key = {(r.promise.id, r.item.indicator if r.item else None): r for r in tracking.results}
    staff = by_key[("grunnbemanning_eldreomsorg", "nurse_ftes_per_100_users")]
    assert staff.measurement.before_window == (2018, 2019) and staff.status in claims.PROMISE_STATUSES
    assert staff.shared_with == ("nok_ansatte_institusjon",)  # the same indicator and years
    assert by_key[("velferdsteknologi", None)].status == "unmeasurable"
    assert all(not reforms.borders_changed(c, 2024, 2014, 2025) for c in tracking.group.codes)


@pytest.mark.parametrize(("own", "status"), [(10.0, "ahead"), (2.0, "in_line"), (-5.0, "behind")])
def test_promise_status_uses_the_peer_quartiles(own, status):
    m = Measurement("nurse_ftes", "9999", "2024", (2018, 2019), (2023, 2024), before=100, after=100 + own,
                    change=own, pct_change=own, stat=own, scale="pct")
    assert claims.promise_status("up", m, PeerChanges(20, 1.0, -1.0, 4.0)) == status
    assert claims.promise_status("up", m, None) == "no_peers"


@pytest.mark.notebook
@pytest.mark.parametrize(("name", "parameters"), [("03_paastander.ipynb", {"kommune": "0220"}),
                                                  ("04_programsporing.ipynb", {"kommune": "3203",
                                                                               "baseline_year": 2019})])
def test_notebook_runs(tmp_path, name, parameters):
    text = outputs_text(run_notebook(name, tmp_path / name, **parameters)).replace("\u00a0", " ")
    assert "Fra forbeholdsregisteret" in text  # the caveats that touch these years and indicators
    if name.startswith("03"):
        assert "Kan måles med offentlig statistikk (direkte mål)" in text and "**støttes:** 1" in text
    else:
        assert "indirekte mål: viser ikke om løftet er innfridd" in text and "bak sammenlignbare" in text
