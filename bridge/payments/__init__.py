"""Payments: Kill Bill payment transactions carried out as Hyperswitch payments and refunds."""
