"""`fleetops model deploy`, step 3 on the gateways that failed: back to their previous model."""

from fleetops.roles.edge import model_rollback

model_rollback()
