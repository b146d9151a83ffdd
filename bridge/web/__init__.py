"""HTTP edges that are not the plugin contract: health, metrics, admin API, payor pages."""
