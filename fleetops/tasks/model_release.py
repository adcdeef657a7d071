"""`fleetops model deploy`, step 1 on each gateway: release the model (see fleetops/edge/model_deploy.py)."""

from fleetops.roles.edge import model_release

model_release()
