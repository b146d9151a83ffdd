"""Spec-faithful simulators of Hyperswitch and Kill Bill, for tests, demos and merchants' own integration tests."""
