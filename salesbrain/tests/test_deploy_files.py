"""deploy/: the alert rules and the dashboard ask only for metrics Salesbrain exports."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml
from prometheus_client import Counter, Histogram

from salesbrain import metrics

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
NAME = re.compile(r"\bsalesbrain_[a-z_]+")


def exported_names() -> set[str]:
    names = {
        value
        for key, value in vars(metrics).items()
        if key.isupper() and isinstance(value, str) and value.startswith("salesbrain_")
    }
    for value in vars(metrics).values():
        if isinstance(value, Counter):
            names.add(value._name + "_total")
        elif isinstance(value, Histogram):
            names.update(value._name + suffix for suffix in ("_bucket", "_sum", "_count"))
    return names


def test_alert_rules_use_exported_metrics_and_cover_the_issues_cases():
    rules = yaml.safe_load((DEPLOY / "prometheus" / "alerts.yml").read_text())
    alerts = {rule["alert"]: rule["expr"] for group in rules["groups"] for rule in group["rules"]}
    used = {name for expr in alerts.values() for name in NAME.findall(expr)}
    assert used <= exported_names(), used - exported_names()
    for needed in (
        "WebhookProcessingLag",
        "WebhookEventsFailing",
        "InstantlyRateLimited",
        "InstantlySyncFailing",
        "WebhookSubscriptionDisabled",
    ):
        assert needed in alerts


def test_the_dashboard_uses_exported_metrics():
    dashboard = json.loads((DEPLOY / "grafana" / "dashboards" / "salesbrain.json").read_text())
    exprs = [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]
    used = {name for expr in exprs for name in NAME.findall(expr)}
    assert used <= exported_names(), used - exported_names()
    assert len(used) >= 15


def test_prometheus_scrapes_web_and_worker_with_the_token():
    config = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert set(jobs) == {"salesbrain-web", "salesbrain-worker"}
    for job in jobs.values():
        assert job["authorization"]["credentials_file"]
