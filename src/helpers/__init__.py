"""omsorgskapasitet: care capacity in Norwegian kommuner from SSB statistics.

Data flows one way: raw snapshot -> readers -> tidy table -> harmonise -> indicators -> compare -> charts
-> notebooks -> runner. See README.md.
"""

__version__ = "0.1.0"

import sys as _sys

# jsonschema (used by Altair and nbformat) imports `rfc3987_syntax` eagerly, which compiles some 35 Lark
# grammars at import time (~1.4 s here, in every kernel and worker; python-jsonschema/jsonschema#1428).
# Only the `iri`/`iri-reference` format checks use it and nothing in this project validates those, so the
# import is declined, as if the optional package were absent. OMSORGSKAPASITET_KEEP_RFC3987=1 keeps it.
# (Report workers decline one more optional import, only while importing papermill: see
# helpers.reports.worker.PAPERMILL_UNUSED.)
if "rfc3987_syntax" not in _sys.modules and not __import__("os").environ.get("OMSORGSKAPASITET_KEEP_RFC3987"):
    _sys.modules["rfc3987_syntax"] = None  # type: ignore[assignment]
