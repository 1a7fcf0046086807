"""Layer 5, reports: notebooks, runs and pages.

Checked notebook parameters (`parameters`), what the before/after report computes (`report_data`), parameter
sets (`reportsets`), the batch runner and its workers (`runner`, `worker`), HTML export with a content security
policy (`export`, `csp`), the front page (`front_page`), the atlas page (`atlas/`) and JupyterLab (`lab`).
Imports from every layer below.
"""
