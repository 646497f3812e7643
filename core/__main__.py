"""`python -m core <command>`: the command line of EcoMapper Studio."""

import sys

from core.cli import main

sys.exit(main())
