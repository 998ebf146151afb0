"""`python -m cli ...` runs the `qa` command."""

from cli.main import main

main()
