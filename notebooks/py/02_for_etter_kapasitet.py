# ---
# jupyter:
#   omsorgskapasitet:
#     engine: inprocess
# ---

# %% [markdown]
# # Før og etter: kapasitet i hjemmesykepleie og sykehjem
#
# Rapporten sammenligner en kommunes kapasitet i hjemmetjenester og sykehjem i to perioder med utviklingen i
# en sammenligningsgruppe av kommuner som lignet på den før endringen, og spør om forskjellen er større enn det
# som er vanlig blant kommunene i gruppen. Alle tall er fra SSB; se metode, begrensninger og kilder nederst.

# %% tags=["parameters"]
# Parametre (papermill overstyrer denne cellen)
kommune = "0220"  # kommunenummer som tekst; nåværende eller historisk (f.eks. "0220" for gamle Asker)
structure = "as_reported"  # "as_reported" (grensene tallet ble rapportert på) eller et strukturår, f.eks. "2024"
before = [2012, 2013]  # førperiode (første og siste år)
after = [2015, 2016]  # etterperiode
# indicators: "default" = hjemmesykepleie-, sykehjems- og bemanningsindikatorene, eller en liste med id-er
indicators = "default"
# comparison: "matched" (de 20 mest like før endringen), "similar_size", "all", "naboer", "kostragruppe"
# eller en liste med kommunenummer
comparison = "matched"
# detailed: False gir en kortversjon (uten diagram per indikator, ITS og syntetisk kontroll) for alle kommuner
detailed = True

# %%
from helpers.reports.parameters import check_report_parameters, check_structure
from helpers.table.processed import table_for_structure
from helpers.table.reforms import load_reforms

reforms = load_reforms()
table = table_for_structure(check_structure(structure, reforms))
params = check_report_parameters(table, kommune, structure, before, after, indicators, comparison, reforms,
                                 detailed)

# %%
import polars as pl
from IPython.display import Markdown, display

from helpers import analysis
from helpers.present import charts, text
from helpers.present.safe_text import bullets, markdown
from helpers.present.tables import display_table
from helpers.reports.report_data import prepare_report
from helpers.table import caveats

data = prepare_report(params, table, reforms, detailed=params.detailed)
result = data.comparison
display(markdown("## {0}\n\n{1}", *text.title(result, params.structure)))

# %% [markdown]
# ## Sammendrag

# %%
display(Markdown(bullets(text.summary_sentences(result))))
did = result.did.estimates.filter(pl.col("p_value").is_not_null())
display(markdown("{0}", text.chance_line(did.height, did.filter(pl.col("p_value") <= analysis.ALPHA).height,
                                         did.filter(pl.col("p_holm") <= analysis.ALPHA).height, analysis.ALPHA)))

# %% [markdown]
# ### Forbehold

# %%
notes = text.caveats(result, data.panel, data.reform_breaks, data.missing_indicators, params.requested,
                     params.structure)
display(Markdown(bullets(notes) or "Ingen særlige forbehold."))

# %% [markdown]
# ## Sammenligningsgruppen

# %%
description = text.group_description(result.group)
display(markdown("{0}. {1}", description[0].upper() + description[1:], text.left_out_line(result.group)))
display_table(pl.DataFrame({"Kommuner i gruppen": sorted(result.group.names.values())}))

# %% [markdown]
# ## Oversikt
#
# Kommunen (linje) mot medianen (stiplet) og den midterste halvdelen (grått bånd) i sammenligningsgruppen.
# Hjemmesykepleie til venstre, sykehjem og heldøgns omsorg til høyre. Skraverte felt er før- og etterperioden.

# %%
charts.overview_chart(result.series, before=params.before, after=params.after, breaks=data.reform_breaks)

# %% [markdown]
# ## Før og etter for alle indikatorer
#
# Tellinger sammenlignes som prosentvis endring, rater som endring i egen enhet. «Forskjell» er kommunens endring
# minus medianendringen i gruppen; placebo-p og Holm-p (justert for at mange indikatorer testes) kommer fra den
# samme placebotesten.

# %%
charts.slope_chart(result)

# %%
display_table(text.indicator_table(result), decimals={"Endring %": 1})

# %% [markdown]
# ## Hvor mye avhenger resultatet av gruppen?
#
# Den samme forskjellen fra gruppens medianendring, med placebo-p i parentes, for andre sammenligningsgrupper
# (antall kommuner i parentes i overskriften). Holder et resultat bare for én gruppe, er det et resultat om den
# gruppen.

# %%
labels = {r["indicator"]: r["short_label"] for r in result.before_after.iter_rows(named=True)}
units = {r["indicator"]: (r["unit"], r["decimals"]) for r in result.before_after.iter_rows(named=True)}
display_table(text.sensitivity_table(data.sensitivity, labels, units))

# %% [markdown]
# ## Hver indikator over tid
#
# Loddrette linjer markerer år der kommunens grenser eller nummer endret seg: før dem er tallene summer av
# forgjengerkommunene. Prikkdiagrammet viser placebofordelingen: hver kommunes avvik fra medianen av de andre,
# med kommunen markert.

# %%
if not params.detailed:
    display(Markdown("*Kortversjon: diagram per indikator, avbrutt tidsserie og syntetisk kontroll er utelatt. "
                     "Kjør rapporten med `detailed = True` for dem.*"))
for row in (text.indicator_rows(result).iter_rows(named=True) if params.detailed else []):
    display(markdown("### {0}", row["label"]))
    display(charts.time_series_chart(result.series.filter(pl.col("indicator") == row["indicator"]),
                                     before=params.before, after=params.after, breaks=data.reform_breaks,
                                     title=row["label"]))
    placebo = result.did.placebo.filter(pl.col("indicator") == row["indicator"])
    if row["p_value"] is not None:
        display(charts.placebo_chart(placebo, axis_title=text.deviation_axis(row["scale"], row["unit"]),
                                     title="Placebofordeling", subtitle=(
            f"{text.rank_phrase(row['rank'], row['n_units']).capitalize()}; placebo-p = "
            f"{text.format_p(row['p_value'], row['rank'], row['n_units'], row['at_floor'])}")))

# %% [markdown]
# ## Utvikling før endringen

# %%
display(Markdown(
    f"Stigningstallet i førperioden, for tellinger i prosent per år. «Avvikende utvikling før» betyr placebo-p ≤ "
    f"{analysis.PRETREND_ALPHA:.2f}".replace(".", ",") + "; «ikke påvist avvik» betyr at testen ikke fant noe, ikke "
    f"at utviklingen var parallell. Med færre enn {analysis.PRETREND_MIN_UNITS} kommuner med tall gis ingen vurdering."))
display_table(text.pretrend_table(result), decimals=2)

# %% [markdown]
# ## Avbrutt tidsserie (kommunens egen serie)
#
# Nivåskift og endret stigningstall fra første år i etterperioden, fra en segmentert regresjon på kommunens egne
# tall. Årene mellom før- og etterperioden er ikke med. p-verdien er kalibrert mot den samme modellen i
# sammenligningskommunene.

# %%
if params.detailed:
    display(display_table(text.its_table(data.its), decimals=2))

# %% [markdown]
# ## Syntetisk kontroll (tilleggsanalyse)
#
# En vektet blanding av kommunene i gruppen som følger kommunen best før endringen (Abadie 2021). Vektene er
# ikke-negative og summerer til 100 %. Tellinger er gjort om til indeks (førperioden = 100). Les gapet etter bare
# der tilpasningen før er god.

# %%
if params.detailed:
    display(display_table(text.synthetic_table(data.synthetic), decimals=2))
for indicator, sc in (data.synthetic.items() if params.detailed else []):
    if sc.ok:
        label = result.before_after.filter(pl.col("indicator") == indicator)["label"][0]
        unit = "indeks (førperioden = 100)" if sc.indexed else result.before_after.filter(
            pl.col("indicator") == indicator)["unit"][0]
        display(Markdown(f"#### {label}"))
        display(charts.synthetic_chart(sc, kommune=result.kommune, title=label, unit=unit))
        display(display_table(text.weights_table(sc)))

# %% [markdown]
# ## Metode og begrensninger

# %%
display(Markdown(text.METHODS))
definitions = caveats.applicable(result.pre[0], result.after[1], result.kommunenr, result.indicators, ("definition",))
display(Markdown("**Definisjoner** (fra forbeholdsregisteret)\n\n" + bullets(text.register_lines(definitions))))

# %% [markdown]
# ## Kilder

# %%
display(Markdown(text.SOURCES))
