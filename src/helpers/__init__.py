"""omsorgskapasitet: care capacity in Norwegian kommuner from SSB statistics.

Data flows one way: raw snapshot -> readers -> tidy table -> harmonise -> indicators -> compare -> charts
-> notebooks -> runner. See README.md.
"""

__version__ = "0.1.0"
