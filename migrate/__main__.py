"""Entry point: `python -m migrate --help`."""

import sys

from migrate.cli import main

sys.exit(main())
