"""Norwegian text around the before/after report: title, caveats, methods, sources, and the ITS and synthetic
control tables. Every number comes from `helpers.analysis` results; here they are only put into words."""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from helpers.analysis import POOR_FIT_PCT, Comparison, ItsResult, SyntheticControl, period_label
from helpers.present.formatting import format_number
from helpers.present.text._compare import change_text, difference_text, group_description, indicator_rows, unit_word
from helpers.present.text._inference import ITS_NO_P, ITS_REFUSED, PRETREND_LABELS, format_p
from helpers.sources.indicators import BY_ID
from helpers.sources.schema import AS_REPORTED, FLAG_LABELS
from helpers.table.caveats import Caveat, applicable

METHODS = """
**Før og etter.** Nivået i en periode er gjennomsnittet av årene i perioden der kommunen har tall. Endringen er
etter minus før. År uten tall fylles aldri inn; de står i forbeholdene.

**Sammenligning på tvers av størrelse.** Tellinger (personer, timer) sammenlignes som prosentvis endring, rater
og gjennomsnitt som endring i egen enhet (prosentpoeng for andeler). Antall personer sammenlignes aldri direkte
mellom kommuner av ulik størrelse.

**Sammenligningsgruppen** viser hva som skjedde andre steder i de samme årene. Standard er de 20 kommunene som
lignet mest på kommunen før endringen: nivå og trend i andelen eldre med hjemmetjenester og i heldøgns omsorg
per 100 innbyggere 80+, og antall innbyggere 80+. Kommuner som selv ble slått sammen eller delt i årene
analysen bruker, holdes utenfor: de gikk gjennom samme slags endring. En historisk kode (for eksempel 0220
Asker) sammenlignes med kommunene slik de var da. Tabellen «Hvor mye avhenger resultatet av gruppen?» viser
det samme resultatet med andre grupper.

**Forskjell i endring (DiD)** er kommunens endring minus medianendringen i gruppen. Med bare én kommune som har
gjennomgått endringen, gir vanlige standardfeil ikke mening. Vi bruker derfor en placebotest: den samme
beregningen gjøres for hver kommune i gruppen, mot medianen av de andre. Rangen og p-verdien kommer fra det
samme tallet: p er andelen kommuner (kommunen selv medregnet) med minst like stort avvik. Den minste mulige
p-verdien er 1 delt på antall kommuner; når den nås, står det «minste mulige».

**Mange indikatorer.** Når mange indikatorer testes, vil noen få gi lav p-verdi ved ren tilfeldighet.
Sammendraget sier hvor mange det ventes, og tabellen viser Holm-justert p ved siden av den vanlige.

**Utvikling før.** DiD forutsetter at kommunen og gruppen ville fulgt hverandre uten endringen. Vi sammenligner
stigningstallet i førperioden (prosent per år for tellinger) med gruppens, med den samme placebotesten.
«Avvikende utvikling før» betyr p ≤ 0,10. «Ikke påvist avvik» betyr bare at testen ikke fant et avvik; med få
år og få kommuner er det ikke bevis for at utviklingen var parallell.

**Avbrutt tidsserie (ITS)** bruker bare kommunens egen serie: en segmentert regresjon med nivåskift og endret
stigningstall fra første år i etterperioden. Årene mellom periodene (et mellomår, selve reformåret) regnes
verken som før eller etter. Regresjonens egne p-verdier forkaster langt oftere enn 5 % i kommuner der ingenting
skjedde (kortere serier med trend og autokorrelasjon; se `benchmarks/inference_size.py`). p-verdien kalibreres
derfor mot den samme modellen i sammenligningskommunene. Med færre enn tre år etter bruddet vises estimatet
uten p-verdi.

**Syntetisk kontroll** (Abadie 2021) er en vektet blanding av kommunene i gruppen som følger kommunen best før
endringen. Tellinger gjøres først om til indeks (førperioden = 100). Vektene, tilpasningen før og feilen i
forhold til nivået vises; tilpasningen er dårlig når feilen før er over {poor_fit} % av nivået.

**Hva designet ikke kan utelukke.** Ingen av metodene viser årsak. En forskjell kan like gjerne komme av andre
ting som skjedde i kommunen samtidig (andre omlegginger, nye bygg, endret registrering som IPLOS 2019), av at
kommunen ble valgt nettopp fordi den skilte seg ut (tall som svinger tilbake mot det vanlige), av endringer i
befolkningens behov, eller av at sammenligningskommunene selv endret seg. KOSTRA-tallene er kommunenes egne
rapporteringer; usannsynlige verdier flagges og holdes utenfor. Tall på sammenslåtte kommuners grenser er
summer av forgjengerne; rater er regnet på nytt fra summerte tellere og nevnere. Små tall skjules av SSB (`:`)
og telles som manglende, aldri som null.

**Referanser.**
Abadie, A. (2021). Using Synthetic Controls: Feasibility, Data Requirements, and Methodological Aspects.
*Journal of Economic Literature*, 59(2), 391–425.
Holm, S. (1979). A Simple Sequentially Rejective Multiple Test Procedure. *Scandinavian Journal of
Statistics*, 6(2), 65–70.
Lopez Bernal, J., Cummins, S. & Gasparrini, A. (2017). Interrupted time series regression for the
evaluation of public health interventions: a tutorial. *International Journal of Epidemiology*, 46(1), 348–355.
""".replace("{poor_fit}", format_number(POOR_FIT_PCT, 0))

SOURCES = """
**Kilde:** Statistisk sentralbyrå (SSB), KOSTRA/IPLOS-tabeller 04686, 12292, 11645, 11924, 14534, 11643 og
12209, befolkning 07459, og KLASS 131 (kommuneinndeling). Lisens CC BY 4.0; tallene er bearbeidet av
omsorgskapasitet (summert over sammenslåtte kommuner, rater regnet på nytt, usannsynlige verdier flagget).
"""

REFORM_CAVEATS: dict[str, str] = {
    "Kommunesammenslåing": "{kommune} ble slått sammen med andre kommuner i {year}: tallene før {year} er summer av "
                           "forgjengerkommunene, og rater er regnet på nytt fra summene (se omleggingsnøkkelen i "
                           "rensenotatboken).",
    "Kommunedeling": "Området ble delt i {year}: tall fra før delingen kan ikke fordeles og mangler.",
    "Nytt kommunenummer": "Kommunen fikk nytt kommunenummer i {year} (samme grenser).",
}
SYNTHETIC_WARNINGS: dict[str, str] = {
    "more_donors_than_years": "flere kommuner i gruppen enn år før, så vektene er ikke entydig bestemt",
    "poor_fit": f"dårlig tilpasning før (feil over {format_number(POOR_FIT_PCT, 0)} % av nivået)",
    "outside_donor_range": "kommunens nivå før ligger utenfor alle kommunene i gruppen",
}
SYNTHETIC_REFUSED = {
    "too_few_points": "for få år med tall (minst 3 før og 1 etter)",
    "too_few_donors": "for få kommuner i gruppen med tall alle årene (minst 2)",
    "zero_base": "kommunen hadde 0 i årene før, så endringen kan ikke regnes i prosent",
}


def title(comparison: Comparison, structure: str) -> tuple[str, str]:
    """The report's heading and the line under it (plain text: the notebook escapes it into Markdown)."""
    borders = "slik tallene ble rapportert" if structure == AS_REPORTED else f"på {structure}-grenser"
    heading = (f"{comparison.kommune} ({comparison.kommunenr}): kapasitet før {period_label(comparison.before)} "
               f"og etter {period_label(comparison.after)}")
    return heading, (f"Hjemmesykepleie og sykehjem, {borders}. Sammenlignet med: "
                     f"{group_description(comparison.group)}.")


def caveats(comparison: Comparison, panel: pl.DataFrame, reform_breaks: Mapping[int, str],
            missing_indicators: list[str], requested: str, structure: str) -> list[str]:
    """Every caveat that applies to this run, in Norwegian."""
    out = []
    if requested != comparison.kommunenr:
        out.append(f"Kommunenummer {requested} er analysert som {comparison.kommunenr} på {structure}-grenser.")
    first, last = comparison.pre[0], comparison.after[1]
    out += register_lines(applicable(first, last, comparison.kommunenr, comparison.indicators, ("break", "caveat")))
    for year, kind in reform_breaks.items():
        if year > first:
            out.append(REFORM_CAVEATS[kind].format(kommune=comparison.kommune, year=year))
    pre_years = comparison.before[1] - comparison.before[0] + 1
    if pre_years < 3:
        out.append(f"Kort førperiode ({pre_years} år): nivået før bygger på få år, og enkeltår veier tungt.")
    ba = comparison.before_after
    excluded, suppressed = int(ba["n_excluded"].sum()), int(ba["n_suppressed"].sum())
    if excluded:
        out.append(f"{excluded} flaggede verdier for kommunen er utelatt (usannsynlige verdier, delte koder e.l.).")
    if suppressed:
        out.append(f"{suppressed} tall er skjult av SSB (små tall, «:») og regnet som manglende.")
    window = (comparison.before[0], last)
    flagged_group = panel.filter(pl.col("kommunenr").is_in(list(comparison.group.codes)),
                                 pl.col("flag").is_not_null(), pl.col("value").is_not_null(),
                                 pl.col("year").is_between(*window), pl.col("indicator").is_in(comparison.indicators))
    if flagged_group.height:
        out.append(f"I sammenligningsgruppen er {format_number(flagged_group.height, 0)} flaggede verdier utelatt.")
    own = panel.filter(pl.col("kommunenr") == comparison.kommunenr, pl.col("year").is_between(*window))
    for indicator_id in missing_indicators:
        spec = BY_ID[indicator_id]
        flags = own.filter(pl.col("indicator") == indicator_id, pl.col("flag").is_not_null())["flag"]
        reason = ""
        if not spec.in_snapshot:
            reason = " Tabellen finnes ikke i øyeblikksbildet; hentes med «fetch»."
        elif flags.len():
            first_flag = flags.str.split(";").list.first().mode().sort()[0]
            reason = f" Årsak: {FLAG_LABELS.get(first_flag, first_flag).lower()}."
        out.append(f"«{spec.label}» mangler for kommunen i disse årene og er ikke med.{reason}")
    n_before = comparison.before[1] - comparison.before[0] + 1
    n_after = comparison.after[1] - comparison.after[0] + 1
    short = ba.filter(pl.col("before").is_not_null(), pl.col("after").is_not_null(),
                      (pl.col("n_before") < n_before) | (pl.col("n_after") < n_after))
    for row in short.iter_rows(named=True):
        out.append(f"«{row['label']}»: tall for {row['n_before']} av årene før og {row['n_after']} av årene etter.")
    return out


def register_lines(entries: list[Caveat]) -> list[str]:
    """Entries of the caveats register as lines: "Brudd 2019 (IPLOS 2019): …", "Skjulte små tall: …"."""
    return [f"Brudd {c.year} ({c.title}): {c.text}" if c.kind == "break" else f"{c.title}: {c.text}"
            for c in entries]


def its_table(results: Mapping[str, ItsResult]) -> pl.DataFrame:
    """One row per indicator: years before and after, the years left out, level and trend change, p, notes."""
    rows = []
    for indicator, result in results.items():
        note = ITS_REFUSED if not result.ok else ITS_NO_P.get(result.no_p_reason or "", "")
        rows.append({
            "Indikator": BY_ID[indicator].display, "År før": result.n_pre, "År etter": result.n_post,
            "Utelatt (mellom periodene)": ", ".join(str(y) for y in result.gap_years) or "–",
            "Nivåskift": result.level_change, "Endret trend per år": result.slope_change,
            "p (kalibrert)": format_p(result.p_value, result.rank, result.n_units, result.rank == 1),
            "Merknad": note,
        })
    return pl.DataFrame(rows, schema={"Indikator": pl.String, "År før": pl.Int64, "År etter": pl.Int64,
                                      "Utelatt (mellom periodene)": pl.String, "Nivåskift": pl.Float64,
                                      "Endret trend per år": pl.Float64, "p (kalibrert)": pl.String,
                                      "Merknad": pl.String})


def synthetic_table(results: Mapping[str, SyntheticControl]) -> pl.DataFrame:
    """One row per indicator: fit error before (absolute and in % of the level), mean gap after, p, warnings."""
    rows = []
    for indicator, sc in results.items():
        rows.append({
            "Indikator": BY_ID[indicator].display + (" (indeks)" if sc.indexed else ""),
            "Givere": sc.n_donors, "År før": sc.n_pre, "Feil før (RMSPE)": sc.pre_rmspe,
            "Feil før i % av nivå": sc.fit_error_pct, "Gjennomsnittlig gap etter": sc.mean_gap_after,
            "p": format_p(sc.p_value, sc.rank, sc.n_units, sc.rank == 1),
            "Advarsel": SYNTHETIC_REFUSED[sc.reason] if sc.reason else "; ".join(
                SYNTHETIC_WARNINGS[w] for w in sc.warnings),
        })
    return pl.DataFrame(rows, schema={"Indikator": pl.String, "Givere": pl.Int64, "År før": pl.Int64,
                                      "Feil før (RMSPE)": pl.Float64, "Feil før i % av nivå": pl.Float64,
                                      "Gjennomsnittlig gap etter": pl.Float64, "p": pl.String,
                                      "Advarsel": pl.String})


def indicator_table(comparison: Comparison) -> pl.DataFrame:
    """The main results table: levels, changes, the group's median change, the difference and its p."""
    rows = []
    summary = {r["indicator"]: r for r in comparison.group_summary.iter_rows(named=True)}
    for row in indicator_rows(comparison).iter_rows(named=True):
        unit, decimals, scale = row["unit"], row["decimals"], row["scale"]
        median = summary.get(row["indicator"], {}).get("median_stat")
        rows.append({
            "Indikator": row["label"], f"Før {row['period_before']}": row["before"],
            f"Etter {row['period_after']}": row["after"], "Endring": row["change"], "Endring %": row["pct_change"],
            "Sammenlignet som": "prosentvis endring" if scale == "pct" else f"endring i {unit_word(unit)}",
            "Kommunen": change_text(row["stat"], scale, unit, decimals) if row["stat"] is not None else "–",
            "Gruppens median": change_text(median, scale, unit, decimals) if median is not None else "–",
            "Forskjell": difference_text(row["difference"], scale, unit, decimals)
            if row["difference"] is not None else "–",
            "Placebo-p": format_p(row["p_value"], row["rank"], row["n_units"], row["at_floor"]),
            "Holm-p": format_p(row["p_holm"]),
        })
    return pl.DataFrame(rows)


def pretrend_table(comparison: Comparison) -> pl.DataFrame:
    """Pre-period slopes of the kommune and the group, the placebo p and the verdict."""
    labels = comparison.before_after.select("indicator", "label", "unit", "decimals")
    rows = []
    for row in comparison.pre_trend.join(labels, on="indicator", how="left").iter_rows(named=True):
        per_year = "%/år" if row["scale"] == "pct" else f"{unit_word(row['unit'])}/år"
        rows.append({
            "Indikator": row["label"], "Fra": row["pre_start"], "Til": row["pre_end"], "Enhet": per_year,
            "Kommunens trend": row["kommune_slope"], "Gruppens median": row["group_median_slope"],
            "Forskjell": row["slope_difference"],
            "Placebo-p": format_p(row["p_value"], row["rank"], row["n_units"], row["rank"] == 1),
            "Vurdering": PRETREND_LABELS[row["verdict"]],
        })
    return pl.DataFrame(rows, schema_overrides={"Fra": pl.Int64, "Til": pl.Int64})


def weights_table(sc: SyntheticControl, min_weight: float = 0.005) -> pl.DataFrame:
    """The donors with a weight of at least `min_weight`, largest first."""
    return sc.weights.filter(pl.col("weight") >= min_weight).select(
        Kommune="kommune", Vekt=pl.col("weight") * 100).rename({"Vekt": "Vekt (%)"})
