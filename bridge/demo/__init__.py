"""`bridge demo`: the whole product working on one machine, for someone with neither a Kill Bill nor a
Hyperswitch account at hand.

It starts the Hyperswitch and Kill Bill simulators, an SMTP sink and the bridge with its worker (``stack``),
then walks through the story (``scenario``): a tenant mapped, two payors, an invoice paid automatically
through the plugin contract, a declined payment, an asynchronous payment settled by a signed webhook, a
refund, and an invoice paid by link from the email the bridge sent. Each step ends only when the state it
expects is reached, one live line each (``console``); the run ends with a summary table (``run``).
"""

from bridge.demo.run import DemoOptions, DemoResult, run_demo

__all__ = ["DemoOptions", "DemoResult", "run_demo"]
