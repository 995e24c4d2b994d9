"""The operations files in ops/: Prometheus' rules and config pass promtool (and the rules'
own unit tests), and the dashboard and the alerts only use series the product exports."""

import json
import re
import shutil
import subprocess

import pytest
from prometheus_client.parser import text_string_to_metric_families

from jtchat import middleware  # noqa: F401 (loading it registers the HTTP metrics)
from jtchat.prometheus import exposition
from jtchat.testing import BASE_DIR, skip_or_fail

OPS = BASE_DIR / "ops"
PROMETHEUS = OPS / "prometheus"
DASHBOARD = OPS / "grafana" / "jtchat.json"
SERIES = re.compile(r"\bjtchat_[a-z_]+")
SUFFIXES = ("_bucket", "_count", "_sum", "_total")


def promtool(*args: str) -> subprocess.CompletedProcess:
    if not shutil.which("promtool"):
        skip_or_fail("promtool not installed (Debian package prometheus)")
    return subprocess.run(["promtool", *args], cwd=PROMETHEUS, capture_output=True, text=True, timeout=120)


def test_alert_rules_pass_promtool_check():
    result = promtool("check", "rules", "alerts.yml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_alert_rules_fire_when_they_should_and_only_then():
    result = promtool("test", "rules", "alerts.test.yml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_example_prometheus_config_is_valid():
    result = promtool("check", "config", "--syntax-only", "prometheus.yml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_dashboard_is_grafana_json_with_a_query_in_every_panel():
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["uid"] and dashboard["title"] == "JT Chat"
    graphs = [panel for panel in dashboard["panels"] if panel["type"] != "row"]
    titles = " ".join(panel["title"].lower() for panel in graphs)
    for topic in ("waiting", "wait", "agents online", "delivery lag", "5xx", "latency"):
        assert topic in titles, topic
    for panel in graphs:
        assert panel["targets"] and all(target["expr"].strip() for target in panel["targets"]), panel["title"]
        assert panel["datasource"]["uid"] == "${datasource}"


def exported_names() -> set[str]:
    text = exposition(include_shared=True).decode()
    return {family.name for family in text_string_to_metric_families(text)}


def referenced_names(text: str) -> set[str]:
    names = set()
    for name in SERIES.findall(text):
        for suffix in SUFFIXES:
            if name.endswith(suffix):
                name = name[: -len(suffix)]
                break
        names.add(name)
    return names


@pytest.mark.django_db
def test_the_dashboard_and_the_alerts_only_use_series_the_product_exports():
    exported = exported_names()
    for path in (DASHBOARD, PROMETHEUS / "alerts.yml"):
        missing = referenced_names(path.read_text()) - exported
        assert not missing, f"{path.name} uses series nobody exports: {sorted(missing)}"
