"""`python -m helpers`: see helpers.cli.

The command line is imported only when this runs as the program: report workers (multiprocessing's spawn)
import this module again as `__mp_main__`, and need none of it.
"""

import sys

if __name__ == "__main__":
    from helpers.cli import run

    sys.exit(run())
