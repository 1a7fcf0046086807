"""Layer 1, sources: what is read from data/raw and from SSB, and how it is named.

Readers of the snapshot's formats (`panel`, `jsonstat`, `kart`), the manifest check (`manifest`), the live
client for PxWebApi v2 and KLASS (`ssb`, `ssb_query`, `ssb_http`, `live`), the indicator catalogue
(`indicators`), the tidy schema (`schema`) and the Norwegian description of every raw file (`descriptions`).
Imports only from the base modules (helpers.errors, paths, atomic, processes, yamlfile).
"""
