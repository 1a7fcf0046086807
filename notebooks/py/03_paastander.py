# %% [markdown]
# # Holder påstandene? Årsrapporten 2015 for helse og omsorg i Asker mot SSB-tallene
#
# Asker kommune (gamle Asker, 0220) la i årsrapporten for 2015 fram flere tallfestede forbedringer i helse- og
# omsorgstjenestene: kortere køer til heldøgnsbolig og sykehjem, kortere ventetid, færre liggedøgn for
# utskrivningsklare pasienter og nye omsorgsboliger. Her er hver påstand lagt inn som data
# (`data/raw/claims/arsrapport_2015.yml`, omskrevet med egne ord, tallene som i rapporten) og holdt opp mot
# statistikken fra SSB, på gamle Askers egne grenser.
#
# Hver påstand får svar på to spørsmål hver for seg: kan offentlig statistikk måle den, og holder den? Bare et
# direkte mål kan gi en dom. Tall som bare henger sammen med påstanden (indirekte mål) gir en linje om sammenheng,
# målt mot hvordan sammenlignbare kommuner beveget seg de samme årene, men aldri en dom. Tall fra aviser og
# kommunens nettsider vises for seg, merket som sekundærkilder, og blandes aldri med SSB-tallene.

# %% tags=["parameters"]
# Parametre (papermill overstyrer denne cellen)
kommune = "0220"  # kommunen påstandene gjelder (gamle Asker, tall slik de ble rapportert)
claims_file = "data/raw/claims/arsrapport_2015.yml"  # påstandsfilen, fra prosjektroten
comparison = "matched"  # sammenlignbare kommuner: matched, similar_size, all eller en liste med kommunenummer
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
from helpers.table.processed import load_indicators
from helpers.table.reforms import load_reforms

table = load_indicators()
reforms = load_reforms()
document = claims.load_claims(paths.ROOT / claims_file)
audit = claims.audit_claims(document, table, reforms=reforms, kommune=kommune, comparison=comparison,
                            exclude_flagged=exclude_flagged)
secondary = claims.load_secondary()
titles = {a.claim.id: text.claim_title(a.claim) for a in audit.assessments}
title = document.document.get("title", document.path.name)
display(markdown("**Dokument:** {title}. **Kommune:** {kommune}, tall på grensene de ble rapportert på "
                 "({structure}). **Påstander vurdert:** {n}.", title=title, kommune=audit.kommune,
                 structure=code(document.structure), n=len(audit.assessments)))

# %% [markdown]
# ## Oppsummering

# %%
summary = audit.summary()
lines = [f"- **{verdict}:** {summary.filter(pl.col('verdict') == verdict).height}" for verdict in claims.VERDICTS]
lines.append("- kan måles med " + ", ".join(
    f"{claims.MEASURABILITY[kind]}: {summary.filter(pl.col('measurability') == kind).height}"
    for kind in ("direct", "indirect")) + f"; {claims.MEASURABILITY['unmeasurable']}: "
    f"{summary.filter(pl.col('measurability') == 'unmeasurable').height}")
display(Markdown("\n".join(lines)))
display_table(summary.select(
    pl.col("paraphrase").alias("Påstand (omskrevet)"),
    pl.col("measurability").replace_strict(claims.MEASURABILITY).alias("Kan måles"),
    pl.col("verdict").alias("Vurdering"),
    pl.col("context").replace_strict(claims.CONTEXT_LABELS, default="–").alias("Sammenheng (indirekte mål)")))

# %% [markdown]
# ## Slik er påstandene vurdert

# %%
display(Markdown(text.rules_markdown()))

# %% [markdown]
# ### Sammenlignbare kommuner

# %%
if audit.group is not None:
    description = text.group_description(audit.group)
    display(markdown("{0}. {1}", description[0].upper() + description[1:], text.left_out_line(audit.group)))

# %% [markdown]
# ## Påstått og målt endring
#
# Hver påstand med sin påståtte endring og endringen i SSB-tallene de samme årene, for kommunen og som median i
# de sammenlignbare kommunene. Et indirekte mål kan gå motsatt vei av påstanden og likevel peke i påstandens
# retning: en kortere kø (ned) henger sammen med flere beboere (opp).

# %%
charts.change_bars(text.claim_chart_rows(audit.assessments), title="Påstått og målt endring",
                   subtitle=[f"{title}; SSB-tall for {audit.kommune} slik de ble rapportert.",
                             "Indirekte mål er sammenheng, ikke belegg."])

# %% [markdown]
# ## Påstand for påstand

# %%
for assessment in audit.assessments:
    claim = assessment.claim
    linked = claims.secondary_for(claim.secondary_evidence, secondary)
    source = claim.source
    where = f"{source.get('file')}, «{source.get('section')}»" + (f", punkt {source['item']}" if "item" in source else "")
    lines = [format_markdown("### {0}", claim.paraphrase), "",
             format_markdown("**{verdict}** ({measure}). {reasoning}", verdict=assessment.verdict.capitalize(),
                             measure=claims.MEASURABILITY[assessment.measurability],
                             reasoning=text.claim_reasoning(assessment, titles, linked.to_dicts())), "",
             format_markdown("*Id:* {id} · *Tema:* {topic} · *Kilde:* {where}", id=code(claim.id), topic=claim.topic,
                             where=where)]
    notes = [format_markdown("{0}: {1}", code(spec.indicator), spec.note) for spec in claim.evidence if spec.note]
    if notes:
        lines += ["", format_markdown("*Om indikatorene:* {0}", join_markdown(notes, " "))]
    display(Markdown(join_markdown(lines)))
    if linked.height:
        display(Markdown("**Sekundærkilder (ikke SSB)** – oppgitt av aviser og kommunens nettsider, ikke kontrollert "
                         "mot statistikk:"))
        display(display_table(linked.select("year", "indicator", "value", "unit", "note", "source_title",
                                            "source_url"), decimals={"value": 1},
                              rename={"year": "År", "indicator": "Størrelse", "value": "Verdi", "unit": "Enhet",
                                      "note": "Merknad", "source_title": "Kilde", "source_url": "Adresse"}))

# %% [markdown]
# ## Indikatorene år for år
#
# SSB-indikatorene påstandene er holdt opp mot, for kommunen slik tallene ble rapportert, med medianen og den
# midterste halvdelen i de sammenlignbare kommunene. Verdier med kvalitetsflagg er utelatt.

# %%
ids = sorted({item.measurement.indicator for a in audit.assessments for item in a.evidence})
years = [y for a in audit.assessments for window in a.claim.windows() for y in window]
panel = table.filter(pl.col("structure") == document.structure)
codes = audit.group.codes if audit.group is not None else ()
for indicator in ids:
    series = analysis.series_frame(panel, audit.kommune, codes, indicator, start=min(years) - 3, end=max(years) + 2,
                                   exclude_flagged=exclude_flagged)
    display(charts.time_series_chart(series))

# %% [markdown]
# ## Punkter som ikke er vurdert

# %%
display_table(pl.DataFrame(list(document.not_included)).select("paraphrase", "reason"),
              rename={"paraphrase": "Punkt (omskrevet)", "reason": "Hvorfor ikke vurdert"})

# %% [markdown]
# ## Kilder og forbehold
#
# - **Påstandene:** Asker kommune, årsrapport 2015, kapittelet om helse og omsorg. Teksten er omskrevet; tallene
#   er som i rapporten. Påstandsfilen: `data/raw/claims/arsrapport_2015.yml`.
# - **Statistikk:** Statistisk sentralbyrå (SSB), tabell 04686, 12292, 11645, 11924, 14534 og 07459 (via
#   prosjektets indikatortabell). Lisens CC BY 4.0. Tallene er bearbeidet av omsorgskapasitet.
# - **Sekundærkilder:** tall fra aviser og kommunens nettsider (`data/raw/secondary/asker_secondary_facts.csv`,
#   med adresser). De vises bare som sekundærkilder og inngår ikke i vurderingene.
# - **Forbehold:** SSB-tallene for 0220 er per 31.12. og gjelder alle brukergrupper; ventelister, ventetid og
#   liggedøgn for utskrivningsklare pasienter finnes ikke i offentlig statistikk per kommune. Innbyggertallene for
#   gamle Asker er SSBs tall for koden 0220 per 1. januar. «Kan ikke etterprøves» betyr at statistikken ikke kan
#   avgjøre påstanden – ikke at den er feil. En sammenheng med et indirekte mål sier ingenting om årsak.

# %%
years = [y for a in audit.assessments for window in a.claim.windows() for y in window]
ids = sorted({item.measurement.indicator for a in audit.assessments for item in a.evidence})
entries = caveats.applicable(min(years), max(years), audit.kommune, ids)
display(Markdown("**Fra forbeholdsregisteret**, for disse årene og indikatorene:\n\n"
                 + bullets(text.register_lines(entries))))
