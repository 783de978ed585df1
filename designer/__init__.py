"""Authoring use cases and their HTTP API: flows, versions, validate, deploy, runs, mapping preview."""
