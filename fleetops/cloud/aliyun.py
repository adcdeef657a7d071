"""The ``aliyun`` provider: ECS through Alibaba Cloud's official SDK (``alibabacloud_ecs20140526``).

No ECS emulator exists anywhere; the tests run it against a stateful fake ECS endpoint written
for them (tests/cloud/fake_ecs.py), which checks the SDK's ACS3-HMAC-SHA256 signatures and the
request shapes. What Alibaba's service really does (quotas, stock, boot, cloud-init) is not
tested here. The login key goes in the instance's user data (cloud-init), so no key pair is
imported; Windows instances get a generated administrator password at creation (``Password``),
kept 0600 in the fleet's state and shown only by ``fleetops cloud password``.
"""

from __future__ import annotations

import base64
import json
import os
import time
from collections.abc import Iterable
from typing import Any

from fleetops.cloud.errors import CloudError, NotOffered, ProviderMissing, TransientCloudError
from fleetops.cloud.instance import TAG_EXPIRES, TAG_FLEET, TAG_NAME, TAG_OS, Instance, by_region, snake_case
from fleetops.cloud.provider import FleetKeys, Launch, Prepared, Provider
from fleetops.cloud.spec import CloudSpec, FirewallRule
from fleetops.secrets import register

# image alias -> (OS type, image name prefix of Alibaba's public images); the newest wins
IMAGES: dict[str, tuple[str, str]] = {
    "debian-12": ("linux", "debian_12_"),
    "ubuntu-22.04": ("linux", "ubuntu_22_04_"),
    "alinux-3": ("linux", "aliyun_3_"),
    "windows-2022": ("windows", "win2022_"),
    "windows-2019": ("windows", "win2019_"),
}
STATES = {
    "Pending": "pending",
    "Starting": "pending",
    "Running": "running",
    "Stopping": "stopping",
    "Stopped": "stopped",
}
CREDENTIAL_ENV = ("ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET")
PUBLIC_BANDWIDTH_MBPS = 5  # > 0 gives the instance a public address


class AliyunProvider(Provider):
    name = "aliyun"
    honesty = "ECS API through Alibaba's official SDK"

    def __init__(self, spec: CloudSpec, read_timeout: float = 30.0) -> None:
        super().__init__(spec)
        try:
            from alibabacloud_ecs20140526 import models
            from alibabacloud_ecs20140526.client import Client
            from alibabacloud_tea_openapi.models import Config
            from alibabacloud_tea_util.models import RuntimeOptions
        except ImportError:
            raise ProviderMissing(
                "the aliyun provider needs alibabacloud_ecs20140526: pip install 'fleetops[cloud]'"
            ) from None
        key_id, secret = (os.environ.get(name) for name in CREDENTIAL_ENV)
        if not key_id or not secret:
            raise CloudError(f"aliyun: no credentials (set {' and '.join(CREDENTIAL_ENV)})")
        register(secret)
        self.models = models
        self._Client, self._Config = Client, Config
        self._key = (key_id, secret)
        self._clients: dict[str, Any] = {}
        self._zone_cache: dict[str, list[dict]] = {}
        ms = int(read_timeout * 1000)
        # one attempt per call: a create whose answer is lost is looked up by its tags instead
        self._runtime = RuntimeOptions(autoretry=False, read_timeout=ms, connect_timeout=10000)
        if spec.emulated:
            self.honesty = f"ECS API faked at {spec.endpoint} (a fleetops test fake): addresses are never contacted"

    def _client(self, region: str):
        if region not in self._clients:
            config = self._Config(access_key_id=self._key[0], access_key_secret=self._key[1], region_id=region)
            if self.spec.endpoint:
                scheme, _, host = self.spec.endpoint.rstrip("/").partition("://")
                config.endpoint, config.protocol = host, scheme
            else:
                config.endpoint = f"ecs.{region}.aliyuncs.com"
            self._clients[region] = self._Client(config)
        return self._clients[region]

    def _call(self, region: str, action: str, **params) -> dict:
        """One API call (``action`` in CamelCase); SDK errors become one-line CloudErrors."""
        from Tea.exceptions import TeaException, UnretryableException

        snake = snake_case(action)
        model = getattr(self.models, f"{action}Request")
        if action != "DescribeRegions":  # the one call that is not about a region
            params["region_id"] = region
        request = model(**params)
        try:
            response = getattr(self._client(region), f"{snake}_with_options")(request, self._runtime)
        except TeaException as error:
            data = error.data if isinstance(error.data, dict) else {}
            if error.code is None:  # the SDK's wrapper for a transport failure: no answer came
                reason = str(data.get("message") or _first_line(error))[:200]
                raise TransientCloudError(f"aliyun {action} in {region}: no answer ({reason})") from None
            message = data.get("Message") or _first_line(error)
            raise CloudError(f"aliyun {action} in {region}: {error.code}: {message}") from None
        except UnretryableException as error:
            raise TransientCloudError(f"aliyun {action} in {region}: no answer ({_first_line(error)})") from None
        return response.body.to_map()

    # ----- offers ----------------------------------------------------------------------------
    def regions(self) -> list[str]:
        home = self.spec.defaults.region or "cn-hangzhou"
        return [r["RegionId"] for r in self._call(home, "DescribeRegions")["Regions"]["Region"]]

    def _zones(self, region: str) -> list[dict]:
        if region not in self._zone_cache:
            self._zone_cache[region] = self._call(region, "DescribeZones", verbose=False)["Zones"]["Zone"]
        return self._zone_cache[region]

    def zones(self, region: str) -> list[str]:
        return [zone["ZoneId"] for zone in self._zones(region)]

    def instance_types(self, region: str, zone: str | None = None) -> list[str]:
        types: set[str] = set()
        for found in self._zones(region):
            if zone is None or found["ZoneId"] == zone:
                types.update(found.get("AvailableInstanceTypes", {}).get("InstanceTypes", []))
        return sorted(types)

    def resolve_image(self, region: str, alias: str, os: str) -> str:
        if alias in IMAGES:
            kind, prefix = IMAGES[alias]
            if kind != os:
                raise NotOffered(f"image {alias!r} is a {kind} image, the instance says {os}")
            reply = self._call(region, "DescribeImages", image_owner_alias="system", ostype=os, page_size=100)
            images = [i for i in reply["Images"]["Image"] if i["ImageId"].startswith(prefix)]
        else:
            images = self._call(region, "DescribeImages", image_id=alias)["Images"]["Image"]
            if images and images[0].get("OSType", "linux") != os:
                raise NotOffered(f"image {alias!r} is a {images[0]['OSType']} image, the instance says {os}")
        if not images:
            raise NotOffered(f"image {alias!r}: no match in {region} (aliases: {', '.join(sorted(IMAGES))})")
        return max(images, key=lambda image: image.get("CreationTime", ""))["ImageId"]

    # ----- fleet -----------------------------------------------------------------------------
    def live(self, regions: Iterable[str] = ()) -> list[Instance]:
        found: list[Instance] = []
        tag = [self.models.DescribeInstancesRequestTag(key=TAG_FLEET, value=self.spec.fleet)]
        for region in sorted(set(regions) or {self.spec.defaults.region or "cn-hangzhou"}):
            page = 1
            while True:
                reply = self._call(region, "DescribeInstances", tag=tag, page_size=100, page_number=page)
                batch = reply.get("Instances", {}).get("Instance", [])
                found.extend(_instance(raw, region) for raw in batch if raw.get("Status") in STATES)
                if page * 100 >= int(reply.get("TotalCount", 0)) or not batch:
                    break
                page += 1
        return sorted(found, key=lambda instance: (instance.name, instance.id))

    def prepare(self, region: str, keys: FleetKeys, firewall: list[FirewallRule]) -> Prepared:
        name = f"fleetops-{self.spec.fleet}"
        vpc = self.spec.vpc
        groups = self._call(region, "DescribeSecurityGroups", vpc_id=vpc, security_group_name=name)
        found = groups.get("SecurityGroups", {}).get("SecurityGroup", [])
        if found:
            group_id = found[0]["SecurityGroupId"]
        else:
            tag = [self.models.CreateSecurityGroupRequestTag(key=TAG_FLEET, value=self.spec.fleet)]
            group_id = self._call(
                region,
                "CreateSecurityGroup",
                vpc_id=vpc,
                security_group_name=name,
                description=f"fleetops fleet {self.spec.fleet}",
                tag=tag,
            )["SecurityGroupId"]
        current = self._call(region, "DescribeSecurityGroupAttribute", security_group_id=group_id, direction="ingress")
        have = {
            (p["IpProtocol"].lower(), p["PortRange"], p["SourceCidrIp"])
            for p in current.get("Permissions", {}).get("Permission", [])
        }
        want = {(rule.protocol, "{}/{}".format(*rule.ports), str(rule.cidr)) for rule in firewall}
        for action, rules, model in (
            ("AuthorizeSecurityGroup", want - have, self.models.AuthorizeSecurityGroupRequestPermissions),
            ("RevokeSecurityGroup", have - want, self.models.RevokeSecurityGroupRequestPermissions),
        ):
            if rules:
                permissions = [
                    model(ip_protocol=proto.upper(), port_range=ports, source_cidr_ip=cidr)
                    for proto, ports, cidr in sorted(rules)
                ]
                self._call(region, action, security_group_id=group_id, permissions=permissions)
        return Prepared(security_group=group_id)

    def create(self, launch: Launch, prepared: Prepared) -> str:
        want = launch.wanted
        tags = [self.models.RunInstancesRequestTag(key=k, value=v) for k, v in launch.tags.items()]
        params: dict[str, Any] = {
            "zone_id": want.zone,
            "image_id": launch.image_id,
            "instance_type": want.instance_type,
            "instance_name": want.name,
            "security_group_id": prepared.security_group,
            "v_switch_id": self.spec.vswitches[want.zone],
            "client_token": launch.token,
            "tag": tags,
            "amount": 1,
            "internet_max_bandwidth_out": PUBLIC_BANDWIDTH_MBPS,
        }
        if launch.user_data:
            params["user_data"] = base64.b64encode(launch.user_data.encode()).decode()
        if launch.password:
            params["password"] = launch.password
        reply = self._call(want.region, "RunInstances", **params)
        return reply["InstanceIdSets"]["InstanceIdSet"][0]

    def wait(self, instances: list[Instance], state: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        delay = 0.2 if self.spec.emulated else 5.0
        for region, ids in by_region(instances).items():
            while True:
                reply = self._call(region, "DescribeInstances", instance_ids=json.dumps(ids), page_size=100)
                states = {
                    raw["InstanceId"]: STATES.get(raw["Status"], raw["Status"])
                    for raw in reply["Instances"]["Instance"]
                }
                if state == "terminated" and not states:
                    break
                if state != "terminated" and len(states) == len(ids) and set(states.values()) == {state}:
                    break
                if time.monotonic() > deadline:
                    raise CloudError(f"aliyun: {', '.join(ids)} did not become {state} within {timeout:.0f}s: {states}")
                time.sleep(delay)

    def stop(self, instances: list[Instance]) -> None:
        for region, ids in by_region(instances).items():
            self._call(region, "StopInstances", instance_id=ids)

    def start(self, instances: list[Instance]) -> None:
        for region, ids in by_region(instances).items():
            self._call(region, "StartInstances", instance_id=ids)

    def destroy(self, instances: list[Instance]) -> None:
        for region, ids in by_region(instances).items():
            self._call(region, "DeleteInstances", instance_id=ids, force=True)


def _first_line(error: Exception) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0][:200]


def _instance(raw: dict, region: str) -> Instance:
    tags = {tag["TagKey"]: tag["TagValue"] for tag in raw.get("Tags", {}).get("Tag", [])}
    public = raw.get("PublicIpAddress", {}).get("IpAddress", []) or raw.get("EipAddress", {}).get("IpAddress", "")
    private = raw.get("VpcAttributes", {}).get("PrivateIpAddress", {}).get("IpAddress", [])
    return Instance(
        name=tags.get(TAG_NAME, raw.get("InstanceName", raw["InstanceId"])),
        id=raw["InstanceId"],
        state=STATES[raw["Status"]],
        os=tags.get(TAG_OS) or raw.get("OSType", "linux"),
        image=raw.get("ImageId", ""),
        region=region,
        zone=raw.get("ZoneId", ""),
        instance_type=raw.get("InstanceType", ""),
        public_ip=(public[0] if isinstance(public, list) else public) or None,
        private_ip=private[0] if private else None,
        expires=tags.get(TAG_EXPIRES),
        tags=tags,
    )
