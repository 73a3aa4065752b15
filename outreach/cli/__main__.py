"""`python -m outreach.cli`: the same as the `outreach` console script."""

from outreach.cli.main import main

main()
