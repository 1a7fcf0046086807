"""Layer 4, present: turning results into what a reader sees, without computing anything.

Altair charts with one theme (`charts`), display tables (`tables`), every Norwegian sentence (`text`),
Norwegian number formatting (`formatting`) and untrusted text made safe for Markdown (`safe_text`).
Imports from analysis, table, sources and the base modules.
"""
