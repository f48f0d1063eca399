"""Background jobs (RQ): the scoring steps and the reconciler. Jobs take ids and call lending/."""
