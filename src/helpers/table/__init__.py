"""Layer 2, table: from raw rows to the validated, reform-harmonised indicator table.

Kommune reforms (`reforms`, `breaks`, `neighbours`), harmonisation (`harmonise`), population denominators
(`population`), derived rates (`rates`), quality flags and symbols (`flags`, `outliers`), validation
(`validate`), the build (`build`) and reading its result (`processed`), data-quality summaries (`quality`,
`reconcile`) and the caveats register (`caveats`, `caveats.yml`). Imports only from sources and the base modules.
"""
