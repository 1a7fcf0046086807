# %% [markdown]
# # Utforsk kommuner og indikatorer
#
# Her kan du se utviklingen i hjemmesykepleie og sykehjem for én eller flere kommuner, og hvor kommunene ligger i landsfordelingen hvert år. Endre kommunene og indikatorene i cellen **Parametre** under og kjør notatboken på nytt (*Kjør → Kjør alle celler*).
#
# - `kommuner`: kommunenummer på den valgte kommunestrukturen (finn numre med `atlas.find_kommune` lenger ned);
# - `indicators`: id-er fra katalogen (listen vises under);
# - `structure`: `"2024"` (tallene harmonisert til kommunegrensene i 2024) eller `"as_reported"` (slik kommunene rapporterte det året).
#
# Verdier med kvalitetsflagg er holdt utenfor, både for kommunene og for landsfordelingen. Logikken ligger i `src/helpers/reports/atlas/`; denne notatboken bare kaller den.

# %% tags=["parameters"]
# Parametre (papermill overstyrer denne cellen)
kommuner = ["3203", "3201"]  # Asker og Bærum
indicators = ["home_service_users_80plus_per_100_80plus", "long_term_users_80plus_per_100_80plus"]
structure = "2024"  # kommunestrukturen tallene er harmonisert til, eller "as_reported"

# %%
from helpers.reports import atlas

kommuner, indicators, structure = atlas.check_parameters(kommuner, indicators, structure)

# %%
from IPython.display import Markdown, display

from helpers.table.processed import load_indicators

tabell = load_indicators()  # data/processed/indicators.parquet (bygges fra øyeblikksbildet om den mangler)
display(Markdown(f"Tabellen har {tabell.height:,} rader.".replace(",", "\u00a0")))

# %% [markdown]
# ## Velg indicators og kommuner
#
# Katalogen over indikatorene. Bruk verdien i kolonnen `id` i parameteren `indicators`.

# %%
atlas.indicator_overview()

# %% [markdown]
# Finn et kommunenummer ved å søke på en del av navnet:

# %%
atlas.find_kommune(tabell, "bær", structure)

# %% [markdown]
# ## Seriene i landsfordelingen
#
# Linjene er kommunene. Lys grå: 10–90 % av kommunene; mørkere grå: den midterste halvdelen (25–75 %); stiplet: medianen. Hold musepekeren over et punkt for tallene og kommunens plassering (persentil: andelen kommuner med lavere verdi). Klikk på en kommune i forklaringen for å fremheve den (skift-klikk for flere), dra eller rull i et diagram for å zoome i tid, og dobbeltklikk for å nullstille.

# %%
serier = atlas.kommune_series(tabell, kommuner, indicators, structure)
fordeling = atlas.national_distribution(tabell, indicators, structure)
atlas.explore_chart(serier, fordeling)

# %% [markdown]
# ## Tabell til kopiering
#
# Ett år per rad og én kolonne per kommune og indikator, med norsk tallformat (desimalkomma, mellomrom som tusenskille). Marker tabellen og kopier den inn i et regneark eller et dokument. «–» betyr at tallet mangler eller er holdt utenfor.

# %%
atlas.copy_table(serier)

# %% [markdown]
# Plasseringen i landsfordelingen (persentil, 0–100) hvert år:

# %%
atlas.copy_table(serier, what="percentile")

# %% [markdown]
# Som tabulatordelt tekst, for å lime rett inn i et regneark:

# %%
print(atlas.copy_table(serier).frame.write_csv(separator="\t"))

# %% [markdown]
# ## Landsfordelingen som tall
#
# Persentilene for alle kommuner med tall, per indikator og år (Kommuner = antall kommuner med tall).

# %%
atlas.distribution_table(fordeling)

# %% [markdown]
# ## Alle kommuner uten Python
#
# `python -m helpers atlas` skriver `reports/utforsk.html`: én selvstendig side (virker uten nett) med et kart over alle kommuner (nivå ett år eller endring mellom to år) der leseren klikker på en kommune, eller velger den i en nedtrekksliste, og ser indikatorene for hjemmesykepleie og sykehjem mot medianen og den midterste halvdelen av kommunene.
#
# *Kilde: Statistisk sentralbyrå (SSB), CC BY 4.0; bearbeidet av omsorgskapasitet.*
