"""`python -m webapp.team`: see `webapp.team.cli`."""

import sys

from webapp.team.cli import main

sys.exit(main())
