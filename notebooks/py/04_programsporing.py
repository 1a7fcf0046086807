# %% [markdown]
# # Programsporing: løftene om helse og omsorg i Asker, fulgt i SSB-tallene
#
# Asker Arbeiderparti lover i sitt program for helse og omsorg blant annet mer grunnbemanning i eldreomsorgen,
# ingen kø for sykehjemsplass eller omsorgsbolig, og nok boliger for personer med funksjonsnedsettelser. Her er de
# målbare løftene lagt inn som data (`data/raw/claims/ap_program.yml`, omskrevet med egne ord) og knyttet til
# indikatorene som kan følge dem. For hvert løfte vises hvordan kommunen har beveget seg siden basisåret, og om den
# ligger foran, på linje med eller bak sammenlignbare kommuner de samme årene.
#
# Ingen av indikatorene måler et løfte fullt ut: de er indirekte mål, og det står ved hver av dem hva som ville
# målt løftet direkte. Løfter uten noen offentlig statistikk er listet til slutt med begrunnelse.

# %% tags=["parameters"]
# Parametre (papermill overstyrer denne cellen)
kommune = "3203"  # kommunen som følges (Asker, 2024-struktur)
baseline_year = 2019  # basisåret: nivået er snittet av basisåret og året før
programme_file = "data/raw/claims/ap_program.yml"  # løftefilen, fra prosjektroten
comparison = "matched"  # sammenligningsgruppe: matched, similar_size, all, naboer eller en liste med kommunenummer
n_comparison = 20  # antall kommuner i gruppen ved matched og similar_size
exclude_flagged = True  # utelat verdier med kvalitetsflagg (anbefalt)

# %%
import polars as pl
from IPython.display import Markdown, display

from helpers import analysis, paths
from helpers.analysis import claims
from helpers.present import charts, text
from helpers.present.safe_text import bullets, code, format_markdown, join_markdown, markdown
from helpers.present.tables import display_table
from helpers.table import caveats
from helpers.table.breaks import reform_breaks
from helpers.table.processed import load_indicators
from helpers.table.reforms import load_reforms

table = load_indicators()
reforms = load_reforms()
programme = claims.load_programme(paths.ROOT / programme_file)
tracking = claims.track_promises(programme, table, baseline_year=int(baseline_year), reforms=reforms,
                                 kommune=kommune, comparison=comparison, n=int(n_comparison),
                                 exclude_flagged=exclude_flagged)
panel = table.filter(pl.col("structure") == programme.structure)
name = tracking.group.name if tracking.group is not None else tracking.kommune
display(markdown("**Kommune:** {name} ({kommune}), tall harmonisert til {structure}-grensene. **Basisår:** {year}.",
                 name=name, kommune=tracking.kommune, structure=programme.structure, year=tracking.baseline_year))
if tracking.group is not None:
    display(markdown("**Sammenligningsgruppe:** {0}. {1}", text.group_description(tracking.group),
                     text.left_out_line(tracking.group)))

# %% [markdown]
# ## Oppsummering

# %%
measured = [r for r in tracking.results if r.item is not None]
lines = [f"- **{text.STATUS_LABELS[status]}:** {sum(r.status == status for r in measured)} indikatorer"
         for status in claims.PROMISE_STATUSES if status != "unmeasurable" and any(r.status == status for r in measured)]
unmeasurable = [r.promise for r in tracking.results if r.item is None]
lines.append(f"- **{text.STATUS_LABELS['unmeasurable']}:** {len(unmeasurable)} løfter uten offentlig statistikk")
display(Markdown("\n".join(lines)))
display_table(text.promise_table(tracking))

# %% [markdown]
# ## Endring siden basisåret, sammenlignet med gruppen
#
# Kommunens endring i prosent fra basisåret til de siste årene med tall, og medianen av endringene i de
# sammenlignbare kommunene over de samme årene. Status sier om kommunen ligger foran (mer enn tre av fire i
# gruppen), på linje med eller bak de sammenlignbare i den retningen løftet vil.

# %%
charts.change_bars(text.promise_chart_rows(tracking), title=f"{name}: endring siden {tracking.baseline_year}",
                   subtitle=["Indikatorene som følger løftene; alle er indirekte mål."])

# %% [markdown]
# ## Løfte for løfte

# %%
secondary = claims.load_secondary()
for promise in programme.promises:
    rows = [r for r in tracking.results if r.promise.id == promise.id and r.item is not None]
    if not rows:
        continue
    lines = [format_markdown("### {0}", promise.paraphrase), ""]
    lines += [format_markdown("- **{status}:** {sentence}", status=text.STATUS_LABELS[r.status].capitalize(),
                              sentence=text.promise_sentence(r)) for r in rows]
    wanted = {"up": "opp", "down": "ned", "zero": "til null"}[promise.direction]
    lines += ["", format_markdown("*Id:* {id} · *Løftet vil ha det det gjelder:* {wanted}", id=code(promise.id),
                                  wanted=wanted)]
    notes = [format_markdown("{0}: {1}", code(i.indicator), i.note) for i in promise.indicators if i.note]
    if notes:
        lines += ["", format_markdown("*Om indikatorene:* {0}", join_markdown(notes, " "))]
    if promise.why_unmeasurable:
        lines += ["", format_markdown("*Hva som ville målt løftet direkte:* {0}", promise.why_unmeasurable)]
    display(Markdown(join_markdown(lines)))
    for r in rows:
        if r.measurement is None or not r.measurement.has_data:
            continue
        codes = tracking.group.codes if tracking.group is not None else ()
        series = analysis.series_frame(panel, tracking.kommune, codes, r.item.indicator,
                                       start=tracking.baseline_year - 5, exclude_flagged=exclude_flagged)
        first, last = int(series["year"].min()), int(series["year"].max())
        breaks = reform_breaks(reforms, tracking.kommune, int(programme.structure), first, last)
        display(charts.time_series_chart(series, breaks=breaks, before=r.measurement.before_window,
                                         after=r.measurement.after_window))
    linked = claims.secondary_for(promise.secondary_evidence, secondary)
    if linked.height:
        display(Markdown("**Sekundærkilder (ikke SSB)** – tall oppgitt i aviser og av kommunen, ikke kontrollert "
                         "mot statistikk:"))
        display(display_table(linked.select("year", "kommunenummer", "indicator", "value", "unit", "note",
                                            "source_title", "source_url"), decimals={"value": 1},
                              rename={"year": "År", "kommunenummer": "Kommunenr.", "indicator": "Størrelse",
                                      "value": "Verdi", "unit": "Enhet", "note": "Merknad",
                                      "source_title": "Kilde", "source_url": "Adresse"}))

# %% [markdown]
# ## Løfter som ikke kan måles med offentlig statistikk

# %%
display_table(pl.DataFrame({"Løfte (omskrevet)": [p.paraphrase for p in unmeasurable],
                            "Hvorfor det ikke kan måles": [p.why_unmeasurable for p in unmeasurable]}))

# %%
display(Markdown("**Ikke tatt med** (utenfor prosjektets tema – eldreomsorg, hjemmetjenester, institusjoner, "
                 "bemanning og boliger):"))
display_table(pl.DataFrame(list(programme.not_included)).select("paraphrase", "reason"),
              rename={"paraphrase": "Løfte (omskrevet)", "reason": "Hvorfor ikke tatt med"})

# %% [markdown]
# ## Kilder og forbehold
#
# - **Løftene:** Asker Arbeiderpartis program for helse og omsorg, omskrevet med egne ord
#   (`data/raw/claims/ap_program.yml`). Programmet oppgir ikke tall; sporingen viser bare retningen.
# - **Statistikk:** Statistisk sentralbyrå (SSB), tabell 04686, 12292, 11645, 11924, 14534 og 07459 (via
#   prosjektets indikatortabell). Lisens CC BY 4.0. Tallene er bearbeidet av omsorgskapasitet.
# - **Sekundærkilder:** tall fra aviser og kommunens nettsider (`data/raw/secondary/asker_secondary_facts.csv`),
#   vist for seg og ikke brukt i vurderingene.
# - **Forbehold:** Asker ble slått sammen med Røyken og Hurum i 2020; årene før er summen av de tre kommunene på
#   dagens grenser, og sammenlignbare kommuner som selv ble slått sammen eller delt i årene som brukes, er holdt
#   utenfor. Sykepleierårsverk finnes bare fra 2015, og rater per innbygger 80+ mangler der befolkningstallet er
#   ufullstendig. Mangler et år eller er verdien flagget, bygger nivået på de andre årene i perioden, og det står i
#   tabellen. At en indikator går i ønsket retning betyr ikke at løftet er innfridd, og omvendt: indikatorene
#   påvirkes av mye annet enn politikk, for eksempel flere eldre.

# %%
measured = [r.measurement for r in tracking.results if r.measurement is not None]
if measured:
    first = min(m.before_window[0] for m in measured)
    last = max(m.after_window[1] for m in measured)
    entries = caveats.applicable(first, last, tracking.kommune, sorted({m.indicator for m in measured}))
    display(Markdown("**Fra forbeholdsregisteret**, for disse årene og indikatorene:\n\n"
                     + bullets(text.register_lines(entries))))
