"""Where the bridge meets the outside: pacing and circuit breakers toward Hyperswitch, the token
buckets behind them and behind the inbound rate limits, and the policy on the URLs tenants may name.

``guards.Edges`` holds the process's instances, built once from settings by the runtime. This package
imports nothing itself, so that settings can use its light modules (``buckets``, ``urls``) before
metrics exist (gunicorn's multiprocess metrics need their directory first).
"""
