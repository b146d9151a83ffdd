"""Kill Bill simulator, client and stub-plugin fixtures (see tests/simulators/killbill/fixtures.py)."""

from tests.simulators.killbill.fixtures import (  # noqa: F401
                                                account,
                                                admin,
                                                kb,
                                                kb_server,
                                                kb_state,
                                                push_receiver,
                                                recorder,
                                                stub_plugin,
                                                tenant,
                                                tenant_keys,
)
