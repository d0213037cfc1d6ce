"""Notebook context: one team's (or the company's) slice of the prepared data, read from the run's workspace."""
