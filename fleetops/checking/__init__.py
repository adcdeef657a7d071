"""The engine behind ``fleetops check``: plan, sweep the fleet, write outputs and history."""
