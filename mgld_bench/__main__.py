"""`python -m mgld_bench` = `mgld-bench`."""

import sys

from mgld_bench.cli import main

sys.exit(main())
