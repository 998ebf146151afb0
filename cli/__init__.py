"""The `qa` command line, on top of every other package (`cli.main`)."""
