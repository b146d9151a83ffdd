"""The soak: thousands of purchases and refunds driven through the Kill Bill simulator's payments API while the
Hyperswitch simulator injects faults, the bridge's processes are killed with SIGKILL and restarted, and Kill Bill
fails some notifyStateChanged calls; then, once everything has settled, an audit that every Kill Bill transaction
agrees with Hyperswitch, that nothing was charged twice and that no webhook or push notification was lost.

``scenario.run`` is the whole run; the test (``test_soak.py``, marked slow) and ``benchmarks/soak.py`` (longer,
bigger) call it with different plans.
"""
