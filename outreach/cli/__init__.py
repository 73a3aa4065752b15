"""The `outreach` command line, one module per command group; `main` is the console script."""
