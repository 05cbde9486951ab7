"""`python -m head_hospital` runs the `head-hospital` command line."""

import sys

from head_hospital.cli import main

sys.exit(main())
