"""How p-values, ranks, pre-trend verdicts and the multiple-testing caveat are worded (Norwegian)."""

from __future__ import annotations

from helpers.present.formatting import format_number

PRETREND_LABELS: dict[str, str] = {
    "not_detected": "ikke påvist avvik",
    "deviating": "avvikende utvikling før",
    "insufficient": "for lite data til å vurdere",
}
ITS_NO_P: dict[str, str] = {
    "few_after_years": "ingen p-verdi: færre enn 3 år etter bruddet",
    "few_placebos": "ingen p-verdi: for få sammenligningskommuner med tall de samme årene",
}
ITS_REFUSED = "for få år med tall (minst 3 før og 2 etter)"
DID_REASONS: dict[str, str] = {
    "no_kommune_data": "kommunen mangler tall i før- eller etterperioden",
    "zero_base": "nivået før var 0, så endringen kan ikke regnes i prosent og ikke sammenlignes med gruppen",
    "no_group_data": "ingen kommuner i gruppen har tall",
    "too_few_units": "for få kommuner med tall til en placebotest",
}


def format_p(p_value: float | None, rank: int | None = None, n_units: int | None = None,
             at_floor: bool = False) -> str:
    """A permutation p: "0,43"; at its floor "1/21 (minste mulige)"; "–" when there is none."""
    if p_value is None:
        return "–"
    if at_floor and n_units:
        return f"1/{n_units} (minste mulige)"
    return format_number(p_value, 2)


def rank_phrase(rank: int | None, n_units: int | None, what: str = "avvik fra medianen av de andre") -> str:
    """The rank behind p, in words that give the same number: rank − 1 of the n − 1 others reach as far."""
    if rank is None or not n_units:
        return ""
    others = n_units - 1
    if rank == 1:
        return f"ingen av de {others} andre kommunene har like stort {what}"
    return f"like stort eller større {what} har {rank - 1} av de {others} andre kommunene"


def chance_line(n_tests: int, n_significant: int, n_holm: int, alpha: float) -> str:
    """How many results reached α, how many to expect by chance alone, and how many survive Holm."""
    if n_tests == 0:
        return "Ingen indikator har en placebotest."
    expected = format_number(n_tests * alpha, 1)
    level = format_number(alpha, 2)
    return (
        f"{n_significant} av {n_tests} indikatorer med placebotest har p ≤ {level}. Med {n_tests} tester ventes "
        f"omtrent {expected} slike resultater ved ren tilfeldighet; etter Holm-justering for flere tester "
        f"gjenstår {n_holm}."
    )
