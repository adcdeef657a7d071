"""AI edge gateways: the inference app fleetops ships (``app.py``) and its offline bundle."""
