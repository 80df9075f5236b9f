"""``python -m synthmarks`` (also what torchrun launches) runs the command line."""

import sys

from synthmarks.cli import main

sys.exit(main())
