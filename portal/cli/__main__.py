"""`python -m portal.cli`."""

from portal.cli import main

raise SystemExit(main())
