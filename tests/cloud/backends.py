"""The two API emulators behind one test interface, so aws (moto) and aliyun (the fake ECS) pass
the very same lifecycle tests."""

from __future__ import annotations

import boto3

from fleetops.cloud.instance import TAG_FLEET

AWS_REGION, AWS_ZONE = "us-east-1", "us-east-1a"
ALI_REGION, ALI_ZONE = "cn-hangzhou", "cn-hangzhou-h"


class AwsBackend:
    name = "aws"
    linux_image, windows_image = "al2023", "windows-2016"

    def __init__(self, moto) -> None:
        self.moto, self.endpoint = moto, moto.endpoint

    def spec(self, **changes) -> dict:
        data = {
            "fleet": "exam-2026",
            "provider": "aws",
            "endpoint": self.endpoint,
            "defaults": {"region": AWS_REGION, "zone": AWS_ZONE, "instance_type": "t3.micro", "ttl": "8h"},
            "firewall": [{"port": 22, "cidr": "203.0.113.0/24"}, {"port": 3389, "cidr": "203.0.113.0/24"}],
            "instances": [
                {"name": "lin1", "image": self.linux_image, "groups": ["web"]},
                {"name": "win1", "os": "windows", "image": self.windows_image, "instance_type": "t3.large"},
            ],
        }
        data.update(changes)
        return data

    def client(self):
        return boto3.client(
            "ec2", region_name=AWS_REGION, endpoint_url=self.endpoint, aws_access_key_id="x", aws_secret_access_key="x"
        )

    def live_ids(self, fleet: str = "exam-2026") -> list[str]:
        reply = self.client().describe_instances(
            Filters=[
                {"Name": f"tag:{TAG_FLEET}", "Values": [fleet]},
                {"Name": "instance-state-name", "Values": ["pending", "running", "stopping", "stopped"]},
            ]
        )
        return sorted(i["InstanceId"] for r in reply["Reservations"] for i in r["Instances"])

    def lose_create_answer(self, delay: float) -> None:
        self.moto.faults.arm("RunInstances", delay)

    def create_calls(self) -> int:
        return self.moto.faults.seen.count("RunInstances")

    def resize(self, instance_id: str, instance_type: str) -> None:
        client = self.client()
        client.stop_instances(InstanceIds=[instance_id])
        client.modify_instance_attribute(InstanceId=instance_id, InstanceType={"Value": instance_type})
        client.start_instances(InstanceIds=[instance_id])

    def other_type(self) -> str:
        return "t3.medium"

    def foreign_instance(self, image_id: str) -> str:
        """An instance nobody tagged for the fleet (its Name is even the same as a fleet one's)."""
        return self.client().run_instances(
            ImageId=image_id,
            InstanceType="t3.micro",
            MinCount=1,
            MaxCount=1,
            TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": "lin1"}]}],
        )["Instances"][0]["InstanceId"]

    def state_of(self, instance_id: str) -> str:
        reply = self.client().describe_instances(InstanceIds=[instance_id])
        return reply["Reservations"][0]["Instances"][0]["State"]["Name"]


class AliyunBackend:
    name = "aliyun"
    linux_image, windows_image = "debian-12", "windows-2022"

    def __init__(self, fake) -> None:
        self.fake, self.endpoint = fake, fake.endpoint

    def spec(self, **changes) -> dict:
        data = {
            "fleet": "exam-2026",
            "provider": "aliyun",
            "endpoint": self.endpoint,
            "vpc": "vpc-exam",
            "vswitches": {ALI_ZONE: "vsw-exam-h", "cn-hangzhou-j": "vsw-exam-j"},
            "defaults": {"region": ALI_REGION, "zone": ALI_ZONE, "instance_type": "ecs.e-c1m1.large", "ttl": "8h"},
            "firewall": [{"port": 22, "cidr": "203.0.113.0/24"}, {"port": 3389, "cidr": "203.0.113.0/24"}],
            "instances": [
                {"name": "lin1", "image": self.linux_image, "groups": ["web"]},
                {"name": "win1", "os": "windows", "image": self.windows_image, "instance_type": "ecs.g7.large"},
            ],
        }
        data.update(changes)
        return data

    def live_ids(self, fleet: str = "exam-2026") -> list[str]:
        tag = {"TagKey": TAG_FLEET, "TagValue": fleet}
        return sorted(i["InstanceId"] for i in self.fake.instances.values() if tag in i["Tags"]["Tag"])

    def lose_create_answer(self, delay: float) -> None:
        self.fake.lose("RunInstances", delay)

    def create_calls(self) -> int:
        return self.fake.calls.count("RunInstances")

    def resize(self, instance_id: str, instance_type: str) -> None:
        self.fake.instances[instance_id]["InstanceType"] = instance_type

    def other_type(self) -> str:
        return "ecs.g7.large"

    def foreign_instance(self, image_id: str) -> str:
        self.fake.instances["i-foreign"] = {
            "InstanceId": "i-foreign",
            "InstanceName": "lin1",
            "RegionId": ALI_REGION,
            "ZoneId": ALI_ZONE,
            "InstanceType": "ecs.e-c1m1.large",
            "ImageId": image_id,
            "OSType": "linux",
            "Status": "Running",
            "Tags": {"Tag": []},
        }
        return "i-foreign"

    def state_of(self, instance_id: str) -> str:
        return self.fake.instances[instance_id]["Status"].lower()
