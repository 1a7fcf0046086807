# %% [markdown]
# # Rens og kvalitet: indikatortabellen for omsorgskapasitet
#
# Denne notatboken bygger den ryddige indikatortabellen (`data/processed/indicators.parquet`) fra SSB-tallene i
# øyeblikksbildet (eller fra en ny henting fra SSB), harmoniserer den til én kommunestruktur og viser hvor godt
# dataene dekker hver indikator, hva som mangler og hvorfor, hvilke brudd som finnes i seriene, og hvordan vi
# stemmer av mot SSBs egne publiserte tall.

# %% tags=["parameters"]
# Parametre (papermill overstyrer denne cellen)
source = "snapshot"  # "snapshot" (øyeblikksbildet i data/raw) eller "ssb" (siste henting med `fetch`)
structure = "2024"  # kommunestrukturen tallene harmoniseres til (et årstall)
kommune = "3203"  # kommunen som får sin omleggingsnøkkel vist (Asker)

# %%
from helpers.reports.parameters import check_cleaning_parameters

params = check_cleaning_parameters(source=source, structure=structure, kommune=kommune)

# %%
import polars as pl
from IPython.display import Markdown, display

from helpers.paths import RAW
from helpers.present import charts
from helpers.present.safe_text import markdown
from helpers.present.tables import display_table
from helpers.sources import descriptions as sources
from helpers.sources.indicators import BY_ID, DEFAULT_REPORT_SET
from helpers.sources.panel import read_panel
from helpers.table import quality
from helpers.table.build import build_indicators
from helpers.table.caveats import register
from helpers.table.reconcile import reconcile_share_80plus
from helpers.table.reforms import load_reforms

reforms = load_reforms()
table = build_indicators(structure_year=params.structure_year, source=params.source)
structure = str(params.structure_year)
display(Markdown(f"Tabellen har **{table.height:,}** rader: hvert tall slik det ble rapportert (`as_reported`) "
                 f"og harmonisert til kommunestrukturen for **{structure}**.".replace(",", " ")))

# %% [markdown]
# ## Kilder
#
# Alle tall er fra Statistisk sentralbyrå (SSB), lisensiert under CC BY 4.0, og er bearbeidet av prosjektet.
# Kommunegrensene i kartet er fra Kartverket (CC BY 4.0). Filene i `data/raw/` ligger slik de ble mottatt;
# tabellen under oppgir innhold, SSB-tabeller, versjon (de første tegnene i commit-hashen eller datoen) og de
# første tegnene i filens sha256-sjekksum (hele står i `data/raw/MANIFEST.csv`).

# %%
display_table(sources.sources_table(), wrap=True)

# %% [markdown]
# ## Dekning per indikator og år
#
# Andelen kommuner (på harmonisert struktur) som har et tall. Indikatorer som ikke finnes i øyeblikksbildet
# (for eksempel institusjonsplasser fra tabell 11875) står med 0 % til de hentes med `fetch`.

# %%
labels = quality.indicator_labels()
charts.coverage_chart(quality.coverage(table, structure), labels)

# %% [markdown]
# ### Hvorfor tall mangler
#
# For hovedindikatorene: hvor mange kommuner som har et tall hvert år, og hvorfor resten mangler. *Mangler* =
# SSB-symbolet `..` (oppgave mangler; panelfilen tok ikke vare på SSBs symbol), *skjult* = `:` (små tall),
# *delt* = kommunen ble delt mellom flere etterfølgere og tallet kan ikke fordeles uten å gjette, *ikke aktuelt* =
# `.` av andre grunner (serien fantes ikke det året, eller tallet lar seg ikke føre opp på disse grensene).

# %%
main_set = [i for i in DEFAULT_REPORT_SET if BY_ID[i].in_snapshot]
counts = quality.coverage_counts(table, structure, main_set).join(labels.select("indicator", "label"), on="indicator")
display_table(counts.select("label", "year", "kommuner", "with_value", "missing", "suppressed", "split",
                            "not_applicable"),
              rename={"label": "Indikator", "year": "År", "kommuner": "Kommuner", "with_value": "Med tall",
                      "missing": "Mangler (..)", "suppressed": "Skjult (:)", "split": "Delt",
                      "not_applicable": "Ikke aktuelt (.)"}, wrap=True)

# %% [markdown]
# ### Summen over kommuner mot SSBs landstall
#
# Øyeblikksbildet har ett landstall fra SSB: andelen innbyggere 80 år og over som bruker hjemmetjenester
# (tabell 12209, region «Landet», 2019 og 2023). Prosjektets tilsvarende andel er summen av brukere 80+ delt på
# summen av innbyggere 80+ over kommunene som har begge tall, slik de ble rapportert.
# I 2019 mangler nevneren for kommunene som senere ble slått sammen med andre: panelet har befolkning bare for
# 2024-områdene, ikke for de gamle grensene. De er derfor ikke med i summen det året.

# %%
national = quality.national_share_check(table, RAW / "ssb" / "ssb_12209_v2_response.json")
display_table(national, decimals={"ssb": 1, "summed": 2, "difference": 2},
              rename={"year": "År", "ssb": "SSB, landet (%)", "summed": "Sum over kommuner (%)",
                      "difference": "Avvik (prosentpoeng)", "kommuner_used": "Kommuner med begge tall",
                      "kommuner_without": "Kommuner uten"})

# %% [markdown]
# Andelen stemmer med SSBs landstall innenfor avrundingen, fordi en andel bare bruker kommuner som har både
# teller og nevner. En *sum* av antall over kommuner gjør ikke det: den blir for lav når kommuner mangler. Panelfilen
# har ingen rad i det hele tatt for noen kommunenummer som gjaldt i årene før 2020 — kommuner som senere ble delt
# (Halsa, Snillfjord, Tysfjord) og de de ble slått sammen med, og i 2007 også ti andre. Tabellen viser hvilke, og hvor
# stor del av dagens befolkning som bor i kommunene landet deres hører til i dag. En uavhengig avstemming mot SSBs
# landstall (issue 10) fant at summen av brukere av hjemmetjenester ligger opptil 5 % under landstallet i 2007–2012;
# kodene under er den delen av forklaringen som tallene i øyeblikksbildet viser. Øyeblikksbildet har ikke SSBs
# landstall for antall brukere, så resten av avviket kan ikke etterprøves her. Bruk derfor ikke summen over kommuner
# som landstall; bruk andeler, eller SSBs egne tall for landet.

# %%
gaps = quality.panel_gaps(reforms, read_panel()).with_columns(pl.col("population_share_today") * 100)
display_table(gaps, decimals={"population_share_today": 1},
              rename={"year": "År", "codes": "Koder uten rad", "names": "Kommunenummer",
                      "population_share_today": "Dagens befolkning i berørte kommuner (%)"}, wrap=True)

# %% [markdown]
# ## Manglende verdier etter SSBs symbol
#
# `.` = lar seg ikke føre opp (kategorien fantes ikke, tallet kan ikke beregnes på disse grensene, eller serien
# fantes ikke det året: brukere 67–79 år bare til og med 2016, sykepleierårsverk fra 2015, langtidsopphold fra 2009 —
# flaggene `discontinued` og `not_started` sier hvilken), `..` = oppgave mangler, `:` = skjult av personvernhensyn
# (små tall). Panelfilen tok ikke vare på SSBs symbol; tomme felt derfra står som `..` med flagget
# `symbol_not_kept`.

# %%
missing = quality.missing_by_status(table, structure).join(labels.select("indicator", "label"), on="indicator")
display_table(missing.select("label", "status", "meaning", "len"),
              rename={"label": "Indikator", "status": "Symbol", "meaning": "Betydning", "len": "Antall"})

# %% [markdown]
# ## Kvalitetsflagg
#
# Prosjektet flagger verdier i stedet for å endre eller fjerne dem. Analysene utelater flaggede verdier som
# standard og sier fra om det.

# %%
display_table(quality.flag_counts(table, structure), rename={"flag": "Flagg", "len": "Antall", "meaning": "Betydning"})

# %% [markdown]
# ### Usannsynlige verdier (tosidig år-til-år-test)
#
# Regelen (se `helpers.table.outliers`): en verdi flagges når den ligger langt under eller over *både* de to årene før
# og de to årene etter — minst halvert eller doblet mot begge sider, og mer enn seriens egen år-til-år-variasjon
# (men et fall på 60 % eller mer, eller en økning til 2,5 ganger, flagges også i små serier med mye støy). Når
# nivået skifter og blir liggende, flagges ikke det første året på det nye nivået. Antall under 5 regnes som «under
# 5» (SSB publiserer ikke 1–4), og for antall må avviket være større enn tilfeldig variasjon. Første og siste år i
# en serie har bare én side og flagges bare ved minst tre ganger så stort avvik. Et kjent eksempel er Eigersund
# (1101) i 2010, der både antall brukere av hjemmetjenester og timer hjemmesykepleie er en brøkdel av årene rundt;
# tallene står i tabellen under.

# %%
outliers = quality.flagged_values(table, "outlier", "as_reported").join(labels.select("indicator", "label"), on="indicator")
display(Markdown(f"**{outliers.height}** rapporterte verdier er flagget som usannsynlige:"))
display_table(outliers.select("kommunenr", "kommune", "year", "label", "value"), decimals=1,
              rename={"kommunenr": "Nr.", "kommune": "Kommune", "year": "År", "label": "Indikator", "value": "Verdi"})

# %% [markdown]
# ## Forbeholdsregisteret: kjente brudd, forbehold og definisjoner
#
# Alle oppføringene i prosjektets forbeholdsregister (`src/helpers/table/caveats.yml`). Hver rapport viser de som gjelder dens kommune, år og indikatorer.

# %%
entries = pl.DataFrame([(c.kind, c.year, c.title, c.text, c.source) for c in register()],
                       schema=["Type", "År", "Forbehold", "Tekst", "Kilde"], orient="row")
display_table(entries.with_columns(pl.col("Type").replace_strict({"break": "brudd", "caveat": "forbehold",
                                                                  "definition": "definisjon"})))

# %% [markdown]
# ### Befolkningstall som hopper
#
# Panelets befolkningstall gjelder 2024-områder. Der en kode som gjaldt et år ble delt mellom flere
# 2024-områder, la den som satte sammen filen hele koden til ett område (for eksempel 1507 Ålesund 2020–2023, som
# også rommet dagens Haram). Slike tall brukes ikke som nevner; ratene får flagget `population_gap`. Hvert
# rateflagg og kildefeltet (`source`) sier hvilken befolkning raten bygger på.

# %%
display_table(quality.population_jumps(reforms), decimals={"population_total": 0, "change": 3},
              rename={"area": "Område", "kommune": "Kommune", "year_jan1": "1. januar", "population_total": "Innbyggere",
                      "change": "Endring", "explanation": "Forklaring"})

# %% [markdown]
# ## Omleggingsnøkkel for valgt kommune
#
# Hvilke rapporterte kommunenummer som utgjør kommunen på den valgte strukturen, og hvordan (`merged` = slått
# sammen med andre, `renumbered` = nytt nummer, `split` = delt, tallet kan ikke fordeles).

# %%
crosswalk = quality.kommune_crosswalk(reforms, params.kommune_on_structure, params.structure_year, range(2007, 2026))
display(markdown("**{code} {name}** på {structure}-struktur:", code=params.kommune_on_structure,
                 name=reforms.name(params.kommune_on_structure), structure=structure))
display_table(crosswalk, rename={"relation": "Forhold", "code": "Rapportert nr.", "name": "Navn", "fra": "Fra", "til": "Til"})

# %% [markdown]
# ## Avstemming mot SSBs publiserte andel (tabell 12209)
#
# SSB publiserer selv andelen innbyggere 80 år og over som bruker hjemmetjenester. Prosjektet beregner den samme
# andelen fra antall brukere 80+ og innbyggere 80+ per 31.12. (= 1.1. året etter) på grensene til koden tallet
# ble rapportert under. De to skal stemme innenfor 0,1 prosentpoeng.

# %%
reconciled = reconcile_share_80plus(table)
summary = reconciled.group_by("year").agg(
    pl.len().alias("publisert"),
    pl.col("computed").is_not_null().sum().alias("beregnet"),
    pl.col("agrees").sum().alias("stemmer"),
).sort("year")
display_table(summary, rename={"year": "År", "publisert": "Publisert av SSB", "beregnet": "Beregnet av prosjektet",
                               "stemmer": "Avvik ≤ 0,1 prosentpoeng"})

# %%
disagree = reconciled.filter(~pl.col("agrees"))
display(Markdown(f"Kommuner der tallene ikke kan sammenlignes eller avviker ({disagree.height}), med årsak:"))
display_table(disagree.select("kommunenr", "kommune", "year", "published", "computed", "difference", "reason"),
              decimals=2, rename={"kommunenr": "Nr.", "kommune": "Kommune", "year": "År", "published": "SSB",
                                  "computed": "Beregnet", "difference": "Avvik", "reason": "Årsak"})

# %% [markdown]
# ---
# **Kilde:** Statistisk sentralbyrå (SSB), tabell 04686, 12292, 11645, 11924, 14534, 11643, 12209 og 07459, og
# KLASS 131 (kommuneinndeling). Lisens CC BY 4.0. Tallene er bearbeidet av omsorgskapasitet.
