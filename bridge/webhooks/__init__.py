"""Inbound events: Hyperswitch webhooks and Kill Bill push notifications, stored, then reconciled."""
