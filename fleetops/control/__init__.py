"""A control node: fleetops installed on a host of the inventory (offline bundle), with its own
SSH key and inventory, so schedules run there when the controller has no systemd."""
