"""`python -m bridge_catalog serve|migrate`."""

import sys

from bridge_catalog.entrypoints.cli import main

sys.exit(main())
