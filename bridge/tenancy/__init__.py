"""Tenancy: Kill Bill tenants mapped to Hyperswitch merchants and profiles, and their secrets."""
