"""The system of record: the results store, closed periods, restatements, adjustments,
disputes and sign-offs (README, "Period life cycle")."""
