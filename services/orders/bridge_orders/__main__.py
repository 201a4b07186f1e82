"""`python -m bridge_orders serve|migrate`."""

import sys

from bridge_orders.entrypoints.cli import main

sys.exit(main())
