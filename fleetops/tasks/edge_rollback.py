"""`fleetops edge rollback`: each selected gateway back to its previous app release."""

from fleetops.roles.edge import edge_rollback

edge_rollback()
