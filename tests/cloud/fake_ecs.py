"""A FAKE Alibaba Cloud ECS endpoint, written for fleetops' tests: no ECS emulator exists.

It is stateful (instances, security groups, tags, client tokens) and strict about what it can
check: every request must carry a valid ACS3-HMAC-SHA256 signature for the test key (a wrong
secret gets 401 ``SignatureDoesNotMatch``), the version must be 2014-05-26, and each action
takes the parameters ECS documents. Instances become Running on the first describe after they
were created or started. What it cannot tell us: Alibaba's real behaviour (quotas, stock,
eventual consistency, boot). Serves on 127.0.0.1 only.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, quote, urlsplit

KEY_ID, SECRET = "LTAIfleetopsTEST", "fleetops-test-secret"
REGIONS = {"cn-hangzhou": ["cn-hangzhou-h", "cn-hangzhou-j"], "cn-shanghai": ["cn-shanghai-l"]}
TYPES = {"cn-hangzhou-h": ["ecs.e-c1m1.large", "ecs.g7.large"], "cn-hangzhou-j": ["ecs.e-c1m1.large"]}
TYPES["cn-shanghai-l"] = ["ecs.g7.large"]
IMAGES = [
    {"ImageId": "debian_12_5_x64_20G_alibase_20240819.vhd", "OSType": "linux", "CreationTime": "2024-08-19T00:00Z"},
    {"ImageId": "debian_12_8_x64_20G_alibase_20250117.vhd", "OSType": "linux", "CreationTime": "2025-01-17T00:00Z"},
    {
        "ImageId": "win2022_21H2_x64_dtc_zh-cn_40G_alibase_20250115.vhd",
        "OSType": "windows",
        "CreationTime": "2025-01-15T00:00Z",
    },
]


class Fault(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _encode(text: str) -> str:
    return quote(text, safe="-_.~")


def expected_signature(method: str, path: str, query: list[tuple[str, str]], headers: dict[str, str], secret: str):
    """ACS3-HMAC-SHA256 as Alibaba documents it (canonical request -> string to sign -> HMAC)."""
    auth = headers.get("authorization", "")
    if not auth.startswith("ACS3-HMAC-SHA256 "):
        raise Fault(401, "InvalidAuthorization", "not an ACS3-HMAC-SHA256 request")
    fields = dict(part.split("=", 1) for part in auth[len("ACS3-HMAC-SHA256 ") :].split(","))
    signed = fields["SignedHeaders"].split(";")
    canonical_query = "&".join(f"{_encode(k)}={_encode(v)}" for k, v in sorted(query))
    canonical_headers = "".join(f"{name}:{headers.get(name, '').strip()}\n" for name in signed)
    canonical = "\n".join(
        [method, path or "/", canonical_query, canonical_headers, ";".join(signed), headers["x-acs-content-sha256"]]
    )
    to_sign = "ACS3-HMAC-SHA256\n" + hashlib.sha256(canonical.encode()).hexdigest()
    return fields, hmac.new(secret.encode(), to_sign.encode(), hashlib.sha256).hexdigest()


class FakeEcs:
    """State plus the actions; ``lose`` makes the next N answers of an action arrive late."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.instances: dict[str, dict] = {}
        self.groups: dict[str, dict] = {}
        self.tokens: dict[str, str] = {}
        self.calls: list[str] = []
        self.late: dict[str, list[float]] = {}

    def reset(self) -> None:
        with self.lock:
            self.instances.clear(), self.groups.clear(), self.tokens.clear(), self.calls.clear(), self.late.clear()

    def lose(self, action: str, delay: float, count: int = 1) -> None:
        self.late[action] = [delay] * count

    # ----- dispatch ------------------------------------------------------------------------
    def handle(self, action: str, params: dict[str, str]) -> dict:
        with self.lock:
            self.calls.append(action)
            region = params.get("RegionId")
            if action != "DescribeRegions" and region not in REGIONS:
                raise Fault(404, "InvalidRegionId.NotFound", f"The specified RegionId {region} does not exist.")
            method = getattr(self, f"_{action}", None)
            if method is None:
                raise Fault(400, "InvalidAction.NotFound", f"Specified api {action} is not found.")
            return method(params)

    @staticmethod
    def _listed(params: dict[str, str], prefix: str) -> list[str]:
        out, n = [], 1
        while f"{prefix}.{n}" in params:
            out.append(params[f"{prefix}.{n}"])
            n += 1
        return out

    @staticmethod
    def _tags(params: dict[str, str]) -> dict[str, str]:
        tags, n = {}, 1
        while f"Tag.{n}.Key" in params:
            tags[params[f"Tag.{n}.Key"]] = params.get(f"Tag.{n}.Value", "")
            n += 1
        return tags

    def _DescribeRegions(self, params):
        return {"Regions": {"Region": [{"RegionId": r, "LocalName": r} for r in REGIONS]}}

    def _DescribeZones(self, params):
        zones = [
            {"ZoneId": z, "AvailableInstanceTypes": {"InstanceTypes": TYPES[z]}} for z in REGIONS[params["RegionId"]]
        ]
        return {"Zones": {"Zone": zones}}

    def _DescribeImages(self, params):
        images = IMAGES
        if "ImageId" in params:
            images = [i for i in images if i["ImageId"] == params["ImageId"]]
        if "OSType" in params:
            images = [i for i in images if i["OSType"] == params["OSType"]]
        return {"Images": {"Image": images}, "TotalCount": len(images)}

    def _DescribeSecurityGroups(self, params):
        found = [
            {"SecurityGroupId": gid, "SecurityGroupName": g["name"]}
            for gid, g in self.groups.items()
            if g["region"] == params["RegionId"]
            and g["vpc"] == params.get("VpcId")
            and g["name"] == params.get("SecurityGroupName", g["name"])
        ]
        return {"SecurityGroups": {"SecurityGroup": found}}

    def _CreateSecurityGroup(self, params):
        if not params.get("VpcId"):
            raise Fault(400, "MissingParameter", "VpcId is mandatory for this action.")
        gid = "sg-" + secrets.token_hex(8)
        self.groups[gid] = {
            "region": params["RegionId"],
            "vpc": params["VpcId"],
            "name": params.get("SecurityGroupName", ""),
            "rules": set(),
            "tags": self._tags(params),
        }
        return {"SecurityGroupId": gid}

    def _group(self, params) -> dict:
        group = self.groups.get(params.get("SecurityGroupId", ""))
        if group is None:
            raise Fault(404, "InvalidSecurityGroupId.NotFound", "The specified security group does not exist.")
        return group

    def _permissions(self, params) -> set[tuple[str, str, str]]:
        rules, n = set(), 1
        while f"Permissions.{n}.IpProtocol" in params:
            rules.add(
                (
                    params[f"Permissions.{n}.IpProtocol"],
                    params[f"Permissions.{n}.PortRange"],
                    params[f"Permissions.{n}.SourceCidrIp"],
                )
            )
            n += 1
        return rules

    def _DescribeSecurityGroupAttribute(self, params):
        rules = sorted(self._group(params)["rules"])
        return {
            "Permissions": {
                "Permission": [
                    {"IpProtocol": p, "PortRange": r, "SourceCidrIp": c, "Direction": "ingress"} for p, r, c in rules
                ]
            }
        }

    def _AuthorizeSecurityGroup(self, params):
        self._group(params)["rules"] |= self._permissions(params)
        return {}

    def _RevokeSecurityGroup(self, params):
        self._group(params)["rules"] -= self._permissions(params)
        return {}

    def _RunInstances(self, params):
        token = params.get("ClientToken")
        if token and token in self.tokens:  # ECS's idempotency: the same token, the same instance
            return {"InstanceIdSets": {"InstanceIdSet": [self.tokens[token]]}}
        for required in ("ImageId", "InstanceType", "SecurityGroupId", "VSwitchId", "ZoneId"):
            if not params.get(required):
                raise Fault(400, "MissingParameter", f"{required} is mandatory for this action.")
        zone = params["ZoneId"]
        if zone not in REGIONS[params["RegionId"]]:
            raise Fault(400, "InvalidZoneId.NotFound", f"The specified zone {zone} does not exist.")
        if params["InstanceType"] not in TYPES[zone]:
            raise Fault(
                400, "InvalidInstanceType.ValueNotSupported", f"{params['InstanceType']} is not sold in {zone}."
            )
        image = next((i for i in IMAGES if i["ImageId"] == params["ImageId"]), None)
        if image is None:
            raise Fault(404, "InvalidImageId.NotFound", "The specified image does not exist.")
        if image["OSType"] == "windows" and not params.get("Password"):
            raise Fault(400, "MissingParameter", "Password is needed to log on to a Windows instance.")
        self._group(params)
        iid = "i-" + secrets.token_hex(10)
        n = len(self.instances) + 2
        self.instances[iid] = {
            "InstanceId": iid,
            "InstanceName": params.get("InstanceName", iid),
            "RegionId": params["RegionId"],
            "ZoneId": zone,
            "InstanceType": params["InstanceType"],
            "ImageId": params["ImageId"],
            "OSType": image["OSType"],
            "Status": "Pending",
            "PublicIpAddress": {"IpAddress": [f"198.51.100.{n}"]},
            "VpcAttributes": {"PrivateIpAddress": {"IpAddress": [f"172.16.0.{n}"]}, "VSwitchId": params["VSwitchId"]},
            "Tags": {"Tag": [{"TagKey": k, "TagValue": v} for k, v in self._tags(params).items()]},
            "UserData": params.get("UserData"),
            "HasPassword": bool(params.get("Password")),
        }
        if token:
            self.tokens[token] = iid
        return {"InstanceIdSets": {"InstanceIdSet": [iid]}}

    def _DescribeInstances(self, params):
        found = [i for i in self.instances.values() if i["RegionId"] == params["RegionId"]]
        if "InstanceIds" in params:
            wanted = set(json.loads(params["InstanceIds"]))
            found = [i for i in found if i["InstanceId"] in wanted]
        for key, value in self._tags(params).items():
            found = [i for i in found if {"TagKey": key, "TagValue": value} in i["Tags"]["Tag"]]
        out = []
        for instance in found:
            out.append({k: v for k, v in instance.items() if k not in ("UserData", "HasPassword")})
            if instance["Status"] in ("Pending", "Starting"):
                instance["Status"] = "Running"  # running from the next describe on
            elif instance["Status"] == "Stopping":
                instance["Status"] = "Stopped"
        return {"Instances": {"Instance": out}, "TotalCount": len(out), "PageNumber": 1, "PageSize": 100}

    def _each(self, params) -> list[dict]:
        ids = self._listed(params, "InstanceId")
        missing = [i for i in ids if i not in self.instances]
        if not ids or missing:
            raise Fault(404, "InvalidInstanceId.NotFound", f"The specified instance does not exist: {missing}")
        return [self.instances[i] for i in ids]

    def _StopInstances(self, params):
        for instance in self._each(params):
            instance["Status"] = "Stopping"
        return {}

    def _StartInstances(self, params):
        for instance in self._each(params):
            instance["Status"] = "Starting"
        return {}

    def _DeleteInstances(self, params):
        for instance in self._each(params):
            if instance["Status"] != "Stopped" and params.get("Force", "").lower() != "true":
                raise Fault(
                    403,
                    "IncorrectInstanceStatus",
                    "The current status of the instance does not support this operation.",
                )
            del self.instances[instance["InstanceId"]]
        return {}


def serve(fake: FakeEcs):
    """Start the fake on 127.0.0.1 (a free port); returns the server (``server_port``, ``shutdown()``)."""

    class Handler(BaseHTTPRequestHandler):
        def _answer(self, status: int, data: dict) -> None:
            body = json.dumps({"RequestId": secrets.token_hex(8), **data}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            url = urlsplit(self.path)
            query = parse_qsl(url.query, keep_blank_values=True)
            headers = {k.lower(): v for k, v in self.headers.items()}
            action = headers.get("x-acs-action", "")
            try:
                fields, signature = expected_signature(self.command, url.path, query, headers, SECRET)
                if fields.get("Credential") != KEY_ID or not hmac.compare_digest(
                    signature, fields.get("Signature", "")
                ):
                    raise Fault(
                        401, "SignatureDoesNotMatch", "The request signature does not conform to Aliyun standards."
                    )
                if headers.get("x-acs-version") != "2014-05-26":
                    raise Fault(400, "InvalidVersion", "Specified parameter Version is not valid.")
                data = fake.handle(action, dict(query))
                status = 200
            except Fault as fault:
                data, status = {"Code": fault.code, "Message": fault.message}, fault.status
            delays = fake.late.get(action)
            if delays:
                time.sleep(delays.pop(0))
            self._answer(status, data)

        do_GET = do_POST

        def log_message(self, *_args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
