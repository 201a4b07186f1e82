"""`python -m bridge_auth serve|migrate`."""

import sys

from bridge_auth.entrypoints.cli import main

sys.exit(main())
