"""Norwegian text for the before/after report: title, caveats that apply, methods and sources.

Text only — every number comes from `compare` results or the table; nothing is computed here beyond
counting what the caveats refer to.
"""

from __future__ import annotations

import polars as pl

from helpers.breaks import breaks_between
from helpers.compare import Comparison, period_label
from helpers.formatting import format_number
from helpers.indicators import BY_ID
from helpers.schema import AS_REPORTED, FLAG_LABELS

METHODS = """
**Før og etter.** Nivået før og etter er gjennomsnittet av årene i hvert vindu der kommunen har tall.
Endringen er etter minus før, i indikatorens enhet og i prosent.

**Sammenligningsgruppen** viser hva som skjedde andre steder i samme periode: medianen og den midterste
halvdelen (25–75 %) av de samme endringene i gruppens kommuner.

**Forskjell-i-forskjeller (DiD)** er kommunens endring minus gruppens gjennomsnittlige endring. Med bare én
kommune som «behandlet» gir vanlige standardfeil ikke mening. Vi bruker derfor en placebotest
(permutasjonstest): den samme beregningen gjøres med hver kommune i gruppen som om den var den behandlede.
Kommunens rangering blant alle disse gir en permutasjons-p-verdi: andelen kommuner med minst like stor effekt
(i absoluttverdi), kommunen selv medregnet. Med 21 kommuner er den minste mulige p-verdien 1/21 ≈ 0,05.
Tilnærmingen følger syntetisk kontroll-litteraturen (Abadie 2021).

**Parallelle trender før.** DiD forutsetter at kommunen og gruppen ville fulgt hverandre uten endringen.
Vi sammenligner kommunens årlige stigningstall i førperioden med gruppens, og vurderer avviket med den samme
placebotesten.

**Avbrutt tidsserie (ITS)** bruker bare kommunens egen serie: en segmentert regresjon med nivåskift og
endret stigningstall fra første etter-år, med HAC-standardfeil (Newey–West) for autokorrelasjon
(Lopez Bernal mfl. 2017). Med få år er estimatet usikkert, og samtidige hendelser (reformer, nye
registreringsrutiner) kan ikke skilles fra endringen vi ser på.

**Begrensninger.** Ingen av metodene viser årsak alene. KOSTRA-tall er kommunenes egne rapporteringer;
feilrapporteringer flagges (robust år-til-år-test) og utelates som standard. Tall på sammenslåtte
kommuners grenser er summer av forgjengerne; rater er regnet på nytt fra summerte tellere og nevnere.
Små tall skjules av SSB (`:`) og telles som manglende, ikke som null.

**Referanser.**
Abadie, A. (2021). Using Synthetic Controls: Feasibility, Data Requirements, and Methodological Aspects.
*Journal of Economic Literature*, 59(2), 391–425.
Lopez Bernal, J., Cummins, S. & Gasparrini, A. (2017). Interrupted time series regression for the
evaluation of public health interventions: a tutorial. *International Journal of Epidemiology*, 46(1), 348–355.
"""

SOURCES = """
**Kilde:** Statistisk sentralbyrå (SSB), KOSTRA/IPLOS-tabeller 04686, 12292, 11645, 11924, 14534, 11643 og
12209, befolkning 07459, og KLASS 131 (kommuneinndeling). Lisens CC BY 4.0; tallene er bearbeidet av
omsorgskapasitet (summert over sammenslåtte kommuner, rater regnet på nytt, usannsynlige verdier flagget).
"""


def title(comparison: Comparison, structure: str) -> str:
    """The report's heading."""
    borders = "slik tallene ble rapportert" if structure == AS_REPORTED else f"på {structure}-grenser"
    return (f"## {comparison.kommune} ({comparison.kommunenr}): kapasitet før {period_label(comparison.before)} "
            f"og etter {period_label(comparison.after)}\n\nHjemmesykepleie og sykehjem, {borders}. "
            f"Sammenlignet med: {comparison.group.description}.")


def caveats(comparison: Comparison, panel: pl.DataFrame, reform_breaks: dict[int, str],
            missing_indicators: list[str], requested: str, structure: str) -> list[str]:
    """Every caveat that applies to this run, in Norwegian."""
    out = []
    if requested != comparison.kommunenr:
        out.append(f"Kommunenummer {requested} er analysert som {comparison.kommunenr} på {structure}-grenser.")
    first, last = comparison.before[0], comparison.after[1]
    for known in breaks_between(first, last):
        out.append(f"Brudd {known.year} ({known.label}): {known.description}")
    for year, kind in reform_breaks.items():
        if year <= first:
            continue
        if kind == "Kommunesammenslåing":
            out.append(f"{comparison.kommune} ble slått sammen med andre kommuner i {year}: tallene før {year} er "
                       "summer av forgjengerkommunene, og rater er regnet på nytt fra summene (se "
                       "omleggingsnøkkelen i rensenotatboken).")
        elif kind == "Kommunedeling":
            out.append(f"Området ble delt i {year}: tall fra før delingen kan ikke fordeles og mangler.")
        else:
            out.append(f"Kommunen fikk nytt kommunenummer i {year} (samme grenser).")
    pre_years = comparison.before[1] - comparison.before[0] + 1
    if pre_years < 3:
        out.append(f"Kort førperiode ({pre_years} år): nivået før bygger på få år, og enkeltår veier tungt.")
    ba = comparison.before_after
    suppressed = int(ba["n_suppressed"].sum())
    excluded = int(ba["n_excluded"].sum())
    if excluded:
        out.append(f"{excluded} flaggede verdier for kommunen er utelatt (usannsynlige verdier, delte koder e.l.).")
    if suppressed:
        out.append(f"{suppressed} tall er skjult av SSB (små tall, `:`) og regnet som manglende.")
    flagged_group = panel.filter(pl.col("kommunenr").is_in(list(comparison.group.codes)),
                                 pl.col("flag").is_not_null(), pl.col("value").is_not_null(),
                                 pl.col("year").is_between(first, last),
                                 pl.col("indicator").is_in(ba["indicator"].to_list()))
    if flagged_group.height:
        out.append(f"I sammenligningsgruppen er {format_number(flagged_group.height, 0)} flaggede verdier utelatt.")
    own = panel.filter(pl.col("kommunenr") == comparison.kommunenr, pl.col("year").is_between(first, last))
    for indicator_id in missing_indicators:
        spec = BY_ID[indicator_id]
        flags = own.filter(pl.col("indicator") == indicator_id, pl.col("flag").is_not_null())["flag"]
        reason = ""
        if not spec.in_snapshot:
            reason = " Tabellen finnes ikke i øyeblikksbildet; hentes med `fetch`."
        elif flags.len():
            first_flag = flags.str.split(";").list.first().mode().sort()[0]
            reason = f" Årsak: {FLAG_LABELS.get(first_flag, first_flag).lower()}."
        out.append(f"«{spec.label}» mangler for kommunen i disse årene og er ikke med.{reason}")
    short = ba.filter((pl.col("n_before") < (comparison.before[1] - comparison.before[0] + 1))
                      | (pl.col("n_after") < (comparison.after[1] - comparison.after[0] + 1)))
    for row in short.iter_rows(named=True):
        out.append(f"«{row['label']}»: tall for {row['n_before']} av årene før og {row['n_after']} av årene etter.")
    return out
