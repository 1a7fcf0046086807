"""Reconcile the project's computed share of 80+ using home services with SSB's published one (12209).

Both are on the borders of the code the figure was reported under (structure `as_reported`). SSB
publishes one decimal, so agreement means |computed − published| ≤ 0.1 percentage point (0.05 from
rounding plus slack). Every kommune where one side is missing is listed with the reason.
"""

from __future__ import annotations

import polars as pl

from helpers.sources.schema import AS_REPORTED, FLAG_LABELS
from helpers.table.flags import has_flag

PUBLISHED = "ssb_share_80plus_home_services"
COMPUTED = "home_service_users_80plus_per_100_80plus"
TOLERANCE = 0.1


def reconcile_share_80plus(table: pl.DataFrame, years: tuple[int, ...] = (2019, 2023)) -> pl.DataFrame:
    """One row per kommune and year where SSB published a figure: published, computed, difference,
    `agrees`, and `reason` when they cannot be compared or disagree."""
    reported = table.filter(pl.col("structure") == AS_REPORTED, pl.col("year").is_in(years))
    published = reported.filter(pl.col("indicator") == PUBLISHED, pl.col("value").is_not_null()).select(
        "kommunenr", "kommune", "year", pl.col("value").alias("published")
    )
    computed = reported.filter(pl.col("indicator") == COMPUTED).select(
        "kommunenr", "year", pl.col("value").alias("computed"), pl.col("status").alias("computed_status"),
        pl.col("flag").alias("computed_flag"),
    )
    joined = published.join(computed, on=["kommunenr", "year"], how="left").with_columns(
        (pl.col("computed") - pl.col("published")).alias("difference")
    )
    first_flag = pl.col("computed_flag").fill_null("").str.split(";").list.first()
    reason = (
        pl.when(pl.col("computed").is_null() & has_flag("no_population", "computed_flag"))
        .then(pl.lit("ingen befolkning på kodens grenser i øyeblikksbildet (kommunen ble slått sammen)"))
        .when(pl.col("computed").is_null() & has_flag("population_gap", "computed_flag"))
        .then(pl.lit(FLAG_LABELS["population_gap"]))
        .when(pl.col("computed").is_null() & pl.col("computed_status").is_null())
        .then(pl.lit("koden finnes ikke i panelet dette året (utelatt av den som satte sammen filen)"))
        .when(pl.col("computed").is_null())
        .then(pl.lit("teller mangler i panelet (status ") + pl.col("computed_status") + pl.lit(")"))
        .when((pl.col("difference").abs() > TOLERANCE) & (pl.col("year") == 2019))
        .then(pl.lit("avvik over 0,1 prosentpoeng; sannsynlig årsak: nevneren er befolkningen 1.1.2020 på "
                     "2020-grensene, og grensejusteringer ved reformen 2020 uten kodeendring (f.eks. del av "
                     "Sauherad til Notodden) flyttet innbyggere"))
        .when(pl.col("difference").abs() > TOLERANCE)
        .then(pl.lit("avvik over 0,1 prosentpoeng") + pl.when(first_flag != "").then(
            pl.lit(" (flagg: ") + pl.col("computed_flag") + pl.lit(")")).otherwise(pl.lit("")))
    )
    return joined.with_columns(
        (pl.col("difference").abs() <= TOLERANCE).fill_null(False).alias("agrees"),
        reason.alias("reason"),
    ).sort("year", "kommunenr")
