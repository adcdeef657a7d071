"""The ping check from iputils output captured on lab hosts (a peer on the lab bridge, a
blackholed peer, an unreachable network). The kernel here has no sch_netem, so injected delay and
partial loss are judged from a constructed answer in the same format."""

from __future__ import annotations

from pathlib import Path

from fleetops.checks.netperf import parse_ping
from fleetops.checks.result import Status
from fleetops.checks.suite import parse_suite

DATA = Path(__file__).parent / "data"


def ping(**declaration):
    return parse_suite({"checks": [{"kind": "ping", "target": "10.77.0.12", **declaration}]}, "test").checks[0]


def test_a_lab_peer_answers_in_under_a_millisecond_without_loss():
    text = (DATA / "ping-lab-peer.txt").read_text()
    found = parse_ping(text)
    assert found["sent"] == 10 and found["received"] == 10 and found["loss"] == 0 and len(found["times"]) == 10
    outcome = ping().verdict({"output": text, "exit": 0})
    assert outcome.status == Status.OK and outcome.value < 1.0 and "loss 0% of 10" in outcome.message


def test_no_reply_is_critical():
    for name in ("ping-blackhole.txt", "ping-no-reply.txt"):
        outcome = ping().verdict({"output": (DATA / name).read_text(), "exit": 1})
        assert outcome.status == Status.CRITICAL and "no reply (100% loss" in outcome.message, name


def test_delay_and_partial_loss_hit_their_own_limits():
    lines = "".join(f"64 bytes from 10.77.0.12: icmp_seq={i} ttl=64 time={20.0 + i * 0.1:.1f} ms\n" for i in range(14))
    text = (
        lines
        + "\n--- 10.77.0.12 ping statistics ---\n20 packets transmitted, 14 received, 30% packet loss, time 3875ms\n"
    )
    outcome = ping(warn=10, crit=100).verdict({"output": text, "exit": 0})
    assert outcome.status == Status.CRITICAL and "loss 30% of 20" in outcome.message  # loss_crit 10 %
    delayed = ping(warn=10, crit=100, loss_crit=50).verdict({"output": text, "exit": 0})
    assert delayed.status == Status.WARNING and "p95 21.200ms" in delayed.message


def test_a_host_without_ping_is_unknown():
    assert ping().verdict({"missing": True}).status == Status.UNKNOWN


def throughput(**declaration):
    return parse_suite({"checks": [{"kind": "throughput", "server": "lab2", **declaration}]}, "test").checks[0]


def test_throughput_from_iperf3_json_captured_between_lab_hosts():
    import json

    data = json.loads((DATA / "iperf3-lab.json").read_text())
    outcome = throughput().verdict({"iperf3": data})
    assert outcome.status == Status.OK and outcome.value > 1000 and "throughput to lab2" in outcome.message
    slow = throughput(warn=10**6, crit=10**5).verdict({"iperf3": data})  # lower is worse
    assert slow.status in (Status.WARNING, Status.CRITICAL)
    assert throughput().verdict({"iperf3": {"error": "unable to connect to server"}}).status == Status.CRITICAL


def test_throughput_without_iperf3_or_a_peer_is_unknown():
    from fleetops.checks.base import Target

    c = throughput()
    assert c.verdict(c.collect(Target("lab1", "10.0.0.1", ssh={}), timeout=5)).status == Status.UNKNOWN
    assert c.verdict({"error": "iperf3 is not installed on lab2"}).status == Status.UNKNOWN
