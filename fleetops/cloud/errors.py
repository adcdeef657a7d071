"""Errors a provider raises; the CLI turns them into one line and an exit code."""

from __future__ import annotations

from fleetops.errors import EnvironmentProblem, FleetopsError, InputError


class CloudError(FleetopsError):
    """The provider refused or failed a call (exit 1): the message names the call and the reason."""

    exit_code = 1


class TransientCloudError(CloudError):
    """A call whose outcome is unknown (timeout, connection reset): it may or may not have been
    done, so a create is looked up by its tags before it is ever sent again."""


class NotOffered(InputError):
    """A region, zone, type or image the provider does not offer (exit 2, nothing created)."""


class ProviderMissing(EnvironmentProblem):
    """The provider's SDK is not installed."""


__all__ = ["CloudError", "TransientCloudError", "NotOffered", "ProviderMissing"]
