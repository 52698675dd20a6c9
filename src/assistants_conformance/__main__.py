import sys

from assistants_conformance.cli import main

sys.exit(main())
