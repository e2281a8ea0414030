"""`python -m mgld_bench.cli` = `mgld-bench`."""

import sys

from mgld_bench.cli import main

sys.exit(main())
