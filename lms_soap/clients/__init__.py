"""Outbound adapters: the Core Banking System (zeep) and the scoring engine (requests)."""
