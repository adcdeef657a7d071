"""``fleetops report``: performance over a window per host, inference figures, fleet aggregates."""
