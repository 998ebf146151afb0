"""The shared core every stage stands on: typed records, settings, the error tree, the lexicon and text spans.

It imports nothing of the project's other packages (tests/test_architecture.py keeps it so).
"""
