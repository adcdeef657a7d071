"""The platform receiver: the server application edge gateways report heartbeats and events to."""
