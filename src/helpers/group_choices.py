"""The names of the comparison groups a report can ask for (helpers.analysis selects them). A module of its
own so that the command line checks `--comparison` without importing the analysis (and Polars)."""

GROUP_CHOICES: tuple[str, ...] = ("matched", "similar_size", "all", "naboer", "kostragruppe")
