"""Blueprints of the simulated Kill Bill API, one per resource, plus the /__sim controls."""
