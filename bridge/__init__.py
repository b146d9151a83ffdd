"""Kill Bill ⇄ Hyperswitch bridge: a payment plugin sidecar for Kill Bill that collects through Hyperswitch."""

__version__ = "0.1.0"
