"""The simulated router's HTTP routes, one blueprint per resource; each is thin and calls its resource module."""
