"""The ``aws`` provider: EC2 through boto3.

Tested against moto running in-process on 127.0.0.1 (the spec's ``endpoint``); the same calls go
to AWS when no endpoint is given. Retry safety does not rest on ``ClientToken`` alone (moto
ignores it, and AWS rejects a token reused with other parameters): the create client makes one
attempt only, and a create whose outcome is unknown is looked up by its tags before it is sent
again (``fleetops.cloud.apply``).
"""

from __future__ import annotations

import base64
import os
from collections.abc import Iterable
from typing import Any

from fleetops.cloud.errors import CloudError, NotOffered, ProviderMissing, TransientCloudError
from fleetops.cloud.instance import TAG_EXPIRES, TAG_FLEET, TAG_NAME, TAG_OS, Instance, by_region, snake_case
from fleetops.cloud.provider import FleetKeys, Launch, Prepared, Provider
from fleetops.cloud.spec import CloudSpec, FirewallRule
from fleetops.secrets import register

# image alias -> (owner account, name pattern); the newest match wins. "ami-..." is taken as is.
IMAGES: dict[str, tuple[str, str]] = {
    "debian-12": ("136693071363", "debian-12-amd64-*"),
    "ubuntu-22.04": ("099720109477", "ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-*"),
    "ubuntu-16.04": ("099720109477", "ubuntu/images/hvm-ssd/ubuntu-xenial-16.04-amd64-server-*"),
    "al2023": ("137112412989", "al2023-ami-2023.*-x86_64"),
    "windows-2016": ("801119661308", "Windows_Server-2016-English-Full-Base-*"),
    "windows-2022": ("801119661308", "Windows_Server-2022-English-Full-Base-*"),
}
LIVE = ["pending", "running", "stopping", "stopped"]
WAITERS = {"running": "instance_running", "stopped": "instance_stopped", "terminated": "instance_terminated"}
EMULATOR_CREDENTIALS = ("fleetops-emulator", "fleetops-emulator")


class AwsProvider(Provider):
    name = "aws"
    honesty = "EC2 API through boto3"

    def __init__(self, spec: CloudSpec, read_timeout: float = 30.0) -> None:
        super().__init__(spec)
        try:
            import boto3
            from botocore.config import Config
        except ImportError:
            raise ProviderMissing("the aws provider needs boto3: pip install 'fleetops[cloud]'") from None
        self._boto3 = boto3
        self._config = Config(
            signature_version="v4", retries={"mode": "standard", "total_max_attempts": 4}, read_timeout=read_timeout
        )
        # one attempt: a create that timed out is looked up by its tags, never re-sent blindly
        self._create_config = self._config.merge(Config(retries={"total_max_attempts": 1}))
        self._clients: dict[tuple[str, bool], Any] = {}
        if spec.emulated:
            self.honesty = f"EC2 API emulated at {spec.endpoint}: addresses it returns are never contacted"

    # ----- clients ---------------------------------------------------------------------------
    def _client(self, region: str, create: bool = False):
        key = (region, create)
        if key not in self._clients:
            kwargs: dict[str, Any] = {"region_name": region, "config": self._create_config if create else self._config}
            if self.spec.endpoint:
                kwargs["endpoint_url"] = self.spec.endpoint
                if self.spec.emulated and not os.environ.get("AWS_ACCESS_KEY_ID"):
                    kwargs["aws_access_key_id"], kwargs["aws_secret_access_key"] = EMULATOR_CREDENTIALS
            self._clients[key] = self._boto3.session.Session().client("ec2", **kwargs)
        return self._clients[key]

    def _call(self, region: str, operation: str, create: bool = False, **params):
        """One API call; SDK errors become one-line CloudErrors naming the call."""
        from botocore.exceptions import (
            ClientError,
            ConnectionClosedError,
            EndpointConnectionError,
            NoCredentialsError,
            ReadTimeoutError,
        )

        method = getattr(self._client(region, create), snake_case(operation))
        try:
            return method(**params)
        except ClientError as error:
            info = error.response.get("Error", {})
            raise CloudError(f"aws {operation} in {region}: {info.get('Code')}: {info.get('Message')}") from None
        except (ReadTimeoutError, ConnectionClosedError) as error:
            raise TransientCloudError(f"aws {operation} in {region}: no answer ({type(error).__name__})") from None
        except EndpointConnectionError:
            raise CloudError(f"aws {operation}: cannot reach the endpoint for {region}") from None
        except NoCredentialsError:
            raise CloudError("aws: no credentials (set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or a profile)") from None

    def _pages(self, region: str, operation: str, key: str, **params) -> Iterable[dict]:
        while True:
            page = self._call(region, operation, **params)
            yield from page.get(key, [])
            token = page.get("NextToken")
            if not token:
                return
            params["NextToken"] = token

    # ----- offers ----------------------------------------------------------------------------
    def _known_regions(self) -> set[str]:
        """Regions botocore has endpoints for, in every partition (offline, no API call)."""
        session = self._boto3.session.Session()
        return {
            region
            for partition in session.get_available_partitions()
            for region in session.get_available_regions("ec2", partition_name=partition)
        }

    def regions(self) -> list[str]:
        known = self._known_regions()
        home = self.spec.defaults.region if self.spec.defaults.region in known else "us-east-1"
        return [r["RegionName"] for r in self._call(home, "DescribeRegions")["Regions"]]

    def zones(self, region: str) -> list[str]:
        return [z["ZoneName"] for z in self._call(region, "DescribeAvailabilityZones")["AvailabilityZones"]]

    def instance_types(self, region: str, zone: str | None = None) -> list[str]:
        params: dict[str, Any] = {"LocationType": "availability-zone" if zone else "region"}
        params["Filters"] = [{"Name": "location", "Values": [zone or region]}]
        offers = self._pages(region, "DescribeInstanceTypeOfferings", "InstanceTypeOfferings", **params)
        return sorted({offer["InstanceType"] for offer in offers})

    def resolve_image(self, region: str, alias: str, os: str) -> str:
        if alias.startswith("ami-"):
            images = self._call(region, "DescribeImages", ImageIds=[alias])["Images"]
        elif alias in IMAGES:
            owner, pattern = IMAGES[alias]
            filters = [{"Name": "name", "Values": [pattern]}, {"Name": "state", "Values": ["available"]}]
            images = self._call(region, "DescribeImages", Owners=[owner], Filters=filters)["Images"]
        else:
            raise NotOffered(f"image {alias!r}: not an AMI id and not one of {', '.join(sorted(IMAGES))}")
        if not images:
            raise NotOffered(f"image {alias!r}: no match in {region}")
        newest = max(images, key=lambda image: image.get("CreationDate", ""))
        platform = "windows" if newest.get("Platform") == "windows" else "linux"
        if platform != os:
            raise NotOffered(f"image {alias!r} ({newest['ImageId']}) is a {platform} image, the instance says {os}")
        return newest["ImageId"]

    # ----- fleet -----------------------------------------------------------------------------
    def live(self, regions: Iterable[str] = ()) -> list[Instance]:
        found: list[Instance] = []
        for region in sorted(set(regions) or {self.spec.defaults.region or "us-east-1"}):
            filters = [
                {"Name": f"tag:{TAG_FLEET}", "Values": [self.spec.fleet]},
                {"Name": "instance-state-name", "Values": LIVE},
            ]
            for reservation in self._pages(region, "DescribeInstances", "Reservations", Filters=filters):
                found.extend(_instance(raw, region) for raw in reservation["Instances"])
        return sorted(found, key=lambda instance: (instance.name, instance.id))

    def prepare(self, region: str, keys: FleetKeys, firewall: list[FirewallRule]) -> Prepared:
        fleet = self.spec.fleet
        key_name = f"fleetops-{fleet}"
        prepared = Prepared(key_name=key_name)
        self._ensure_key(region, key_name, keys.public_key)
        if keys.rsa_public_key:
            prepared.rsa_key_name = f"fleetops-{fleet}-rsa"
            self._ensure_key(region, prepared.rsa_key_name, keys.rsa_public_key)
        vpcs = self._call(region, "DescribeVpcs", Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"]
        if not vpcs:
            raise CloudError(f"aws: {region} has no default VPC to put the fleet in")
        vpc = vpcs[0]["VpcId"]
        prepared.extra["vpc"] = vpc
        prepared.security_group = self._ensure_group(region, vpc, firewall)
        return prepared

    def _ensure_key(self, region: str, name: str, public_key: str) -> None:
        have = self._call(region, "DescribeKeyPairs", Filters=[{"Name": "key-name", "Values": [name]}])["KeyPairs"]
        if not have:
            self._call(region, "ImportKeyPair", KeyName=name, PublicKeyMaterial=public_key.encode())

    def _ensure_group(self, region: str, vpc: str, firewall: list[FirewallRule]) -> str:
        name = f"fleetops-{self.spec.fleet}"
        filters = [{"Name": "group-name", "Values": [name]}, {"Name": "vpc-id", "Values": [vpc]}]
        groups = self._call(region, "DescribeSecurityGroups", Filters=filters)["SecurityGroups"]
        if groups:
            group_id, current = groups[0]["GroupId"], groups[0].get("IpPermissions", [])
        else:
            tags = [{"ResourceType": "security-group", "Tags": [{"Key": TAG_FLEET, "Value": self.spec.fleet}]}]
            group_id = self._call(
                region,
                "CreateSecurityGroup",
                GroupName=name,
                Description=f"fleetops fleet {self.spec.fleet}",
                VpcId=vpc,
                TagSpecifications=tags,
            )["GroupId"]
            current = []
        have = {_rule_key(p, r["CidrIp"]) for p in current for r in p.get("IpRanges", [])}
        want: set[tuple[str, int, int, str]] = {(str(rule.protocol), *rule.ports, str(rule.cidr)) for rule in firewall}
        if want - have:
            self._call(
                region, "AuthorizeSecurityGroupIngress", GroupId=group_id, IpPermissions=_permissions(want - have)
            )
        if have - want:  # the group is the fleet's own: rules not in the spec go
            self._call(region, "RevokeSecurityGroupIngress", GroupId=group_id, IpPermissions=_permissions(have - want))
        return group_id

    def create(self, launch: Launch, prepared: Prepared) -> str:
        want = launch.wanted
        subnets = self._call(
            want.region,
            "DescribeSubnets",
            Filters=[
                {"Name": "availability-zone", "Values": [want.zone]},
                {"Name": "default-for-az", "Values": ["true"]},
            ],
        )["Subnets"]
        params: dict[str, Any] = {
            "ImageId": launch.image_id,
            "InstanceType": want.instance_type,
            "MinCount": 1,
            "MaxCount": 1,
            "Placement": {"AvailabilityZone": want.zone},
            "KeyName": prepared.rsa_key_name if want.os == "windows" else prepared.key_name,
            "ClientToken": launch.token,
            "TagSpecifications": [
                {
                    "ResourceType": "instance",
                    "Tags": [{"Key": k, "Value": v} for k, v in {"Name": want.name, **launch.tags}.items()],
                }
            ],
        }
        if subnets:
            params["SubnetId"] = subnets[0]["SubnetId"]
        if prepared.security_group:
            params["SecurityGroupIds"] = [prepared.security_group]
        if launch.user_data:
            params["UserData"] = launch.user_data
        reply = self._call(want.region, "RunInstances", create=True, **params)
        return reply["Instances"][0]["InstanceId"]

    def wait(self, instances: list[Instance], state: str, timeout: float) -> None:
        from botocore.exceptions import WaiterError

        delay = 1 if self.spec.emulated else 5
        for region, ids in by_region(instances).items():
            waiter = self._client(region).get_waiter(WAITERS[state])
            try:
                waiter.wait(InstanceIds=ids, WaiterConfig={"Delay": delay, "MaxAttempts": max(1, int(timeout / delay))})
            except WaiterError as error:
                raise CloudError(
                    f"aws: {', '.join(ids)} did not become {state} within {timeout:.0f}s: {error}"
                ) from None

    def stop(self, instances: list[Instance]) -> None:
        for region, ids in by_region(instances).items():
            self._call(region, "StopInstances", InstanceIds=ids)

    def start(self, instances: list[Instance]) -> None:
        for region, ids in by_region(instances).items():
            self._call(region, "StartInstances", InstanceIds=ids)

    def destroy(self, instances: list[Instance]) -> None:
        for region, ids in by_region(instances).items():
            self._call(region, "TerminateInstances", InstanceIds=ids)

    def password(self, instance: Instance, keys: FleetKeys) -> str | None:
        """GetPasswordData, decrypted with the fleet's RSA key (AWS encrypts it with the key pair)."""
        from fleetops.cloud.keys import decrypt_password_data

        data = self._call(instance.region, "GetPasswordData", InstanceId=instance.id).get("PasswordData", "").strip()
        if not data:
            return None
        if keys.rsa_private_key_file is None:
            raise CloudError(f"aws: {instance.name}: the fleet has no RSA key to decrypt the password with")
        password = decrypt_password_data(base64.b64decode(data), keys.rsa_private_key_file)
        register(password)
        return password


def _rule_key(permission: dict, cidr: str) -> tuple[str, int, int, str]:
    return (permission.get("IpProtocol", "tcp"), permission.get("FromPort", 0), permission.get("ToPort", 0), cidr)


def _permissions(rules: set[tuple[str, int, int, str]]) -> list[dict]:
    return [
        {"IpProtocol": proto, "FromPort": first, "ToPort": last, "IpRanges": [{"CidrIp": cidr}]}
        for proto, first, last, cidr in sorted(rules)
    ]


def _instance(raw: dict, region: str) -> Instance:
    tags = {tag["Key"]: tag["Value"] for tag in raw.get("Tags", [])}
    return Instance(
        name=tags.get(TAG_NAME, raw["InstanceId"]),
        id=raw["InstanceId"],
        state=raw["State"]["Name"],
        os=tags.get(TAG_OS) or ("windows" if raw.get("Platform") == "windows" else "linux"),
        image=raw["ImageId"],
        region=region,
        zone=raw.get("Placement", {}).get("AvailabilityZone", ""),
        instance_type=raw["InstanceType"],
        public_ip=raw.get("PublicIpAddress"),
        private_ip=raw.get("PrivateIpAddress"),
        expires=tags.get(TAG_EXPIRES),
        tags=tags,
    )
