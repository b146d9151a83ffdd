"""Kill Bill's PaymentPluginApi over HTTP: ``POST /plugin/v1/<operation>``."""
