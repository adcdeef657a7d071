"""Performance report pieces: window parsing, regression rules, CSV and HTML output."""

import csv
import io

import pytest

from fleetops.errors import InputError
from fleetops.report import collect, outputs


def host(name, cpu, p95=None, reachable=True):
    data = {
        "host": name,
        "reachable": reachable,
        "error": None,
        "cpu_pct": cpu,
        "mem_pct": 10.0,
        "disk_pct": 20.0,
        "net_rx_bps": 1.0,
        "net_tx_bps": 2.0,
        "gpu": None,
        "window_s": 5,
    }
    if p95 is not None:
        data["inference"] = {
            "present": True,
            "count": 10,
            "p50": p95 / 2,
            "p95": p95,
            "p99": p95 * 1.2,
            "below_threshold_share": 0.1,
            "confidence_histogram": [0] * 9 + [10],
        }
    return data


def report(*hosts):
    return {
        "format": "fleetops.report/v1",
        "started": "2026-11-25T00:00:00+00:00",
        "window_s": 5,
        "hosts": list(hosts),
        "regressions": [],
        "fleet": {
            "hosts": len(hosts),
            "reachable": len(hosts),
            "cpu_pct_mean": 1,
            "cpu_pct_max": 1,
            "mem_pct_mean": 1,
            "mem_pct_max": 1,
            "inferences": 10,
            "latency_p95_max": 1,
        },
    }


def test_parse_window():
    assert collect.parse_window("30s") == 30 and collect.parse_window("2m") == 120
    assert collect.parse_window("5") == 5
    for bad in ("0s", "2h", "soon", "4000s"):
        with pytest.raises(InputError, match="--window"):
            collect.parse_window(bad)


def test_regressions_are_flagged_only_beyond_thresholds():
    before = report(host("a", 10.0, p95=1.0), host("b", 10.0))
    now = report(host("a", 50.0, p95=2.0), host("b", 25.0))
    found = collect.compare(now, before)
    assert {(item["host"], item["metric"]) for item in found} == {("a", "cpu_pct"), ("a", "latency_p95_ms")}


def test_csv_and_html():
    data = report(host("gw1", 12.5, p95=3.0), host("db1", 5.0))
    rows = list(csv.DictReader(io.StringIO(outputs.to_csv(data))))
    assert [row["host"] for row in rows] == ["gw1", "db1"]
    assert rows[0]["latency_p95_ms"] == "3.0" and rows[1]["gpu"] == "no GPU"


def test_html_has_charts(tmp_path):
    path = tmp_path / "r.html"
    outputs.write_html(report(host("gw1", 12.5, p95=3.0)), path)
    page = path.read_text()
    assert page.count('<rect class="cpu"') == 1 and page.count('<rect class="latency"') == 3
    assert "<script" not in page
