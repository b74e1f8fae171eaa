"""deploy/k8s (kustomize base + production overlay) is valid Kubernetes of a pinned version and
runs what the code serves: the probes, ports, commands and settings the services really have."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from core.settings import SECRETS_DIR_ENV, Settings
from pipelines.cli import app as cli

K8S = Path(__file__).resolve().parents[2] / "deploy" / "k8s"
KUBERNETES_VERSION = "1.31.0"


def render(path: Path) -> list[dict[str, Any]]:
    """``kubectl kustomize`` where kubectl exists, else the base's files as they are."""
    kubectl = shutil.which("kubectl")
    if kubectl is not None:
        out = subprocess.run(
            [kubectl, "kustomize", str(path)], capture_output=True, text=True, check=True
        ).stdout
        return [doc for doc in yaml.safe_load_all(out) if doc]
    if path.name != "base":
        pytest.fail(f"rendering {path} needs kubectl (kustomize); the base is checked file by file")
    kustomization = yaml.safe_load((path / "kustomization.yaml").read_text())
    return [
        doc
        for name in kustomization["resources"]
        for doc in yaml.safe_load_all((path / name).read_text())
        if doc
    ]


def by_kind(docs: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


@pytest.mark.parametrize("variant", ["base", "overlays/production"])
def test_every_manifest_is_valid_kubernetes(variant: str) -> None:
    if variant != "base" and shutil.which("kubectl") is None:
        pytest.skip("kubectl (kustomize) is not installed; the base is validated file by file")
    docs = render(K8S / variant)
    assert docs
    for doc in docs:
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def containers(deployment: dict[str, Any]) -> list[dict[str, Any]]:
    return deployment["spec"]["template"]["spec"]["containers"]


def test_the_topology_probes_and_limits() -> None:
    docs = render(K8S / "base")
    deployments = by_kind(docs, "Deployment")
    assert set(deployments) == {"api", "app", "prefect-server", "worker", "live-worker"}
    probes = {
        "api": ("/healthz", "/readyz"),
        "app": ("/_stcore/health", "/_stcore/health"),
        "prefect-server": ("/api/health", "/api/ready"),
        "live-worker": ("/healthz", "/healthz"),  # pipelines.live.health_app
    }
    for name, (live, ready) in probes.items():
        (container,) = containers(deployments[name])
        assert container["livenessProbe"]["httpGet"]["path"] == live
        assert container["readinessProbe"]["httpGet"]["path"] == ready
    for deployment in deployments.values():
        for container in containers(deployment):
            assert {"requests", "limits"} <= set(container["resources"]), container["name"]
    hpas = by_kind(docs, "HorizontalPodAutoscaler")
    assert {h["spec"]["scaleTargetRef"]["name"] for h in hpas.values()} == {"api", "worker"}
    assert set(by_kind(docs, "Job")) == {"migrate", "deploy-flows"}
    (ingress,) = by_kind(docs, "Ingress").values()
    assert ingress["spec"]["tls"]
    routes = {
        p["path"]: p["backend"]["service"]["name"]
        for rule in ingress["spec"]["rules"]
        for p in rule["http"]["paths"]
    }
    assert routes == {"/": "app", "/api/": "api", "/webhooks/": "api"}


def test_commands_and_settings_exist_in_the_code() -> None:
    docs = render(K8S / "base")
    commands = {c.name or c.callback.__name__.replace("_", "-") for c in cli.registered_commands}
    commands |= {g.name for g in cli.registered_groups if g.name}
    for deployment in [*by_kind(docs, "Deployment").values(), *by_kind(docs, "Job").values()]:
        for container in containers(deployment):
            command = container["command"]
            if command[0] == "faceit-ai":
                assert command[1] in commands, command
    config = by_kind(docs, "ConfigMap")["faceit-ai-config"]["data"]
    ours = {name.upper() for name in Settings.model_fields} | {SECRETS_DIR_ENV}
    for name in config:
        assert name in ours or name.startswith(("PREFECT_", "API_")), name
    # the secrets are files under SECRETS_DIR, named like the settings they fill
    assert config["SECRETS_DIR"] == "/run/secrets/faceit-ai"
    # the live worker serves its probes where its settings say, on the port they name
    (live,) = containers(by_kind(docs, "Deployment")["live-worker"])
    assert live["command"] == ["faceit-ai", "live-worker"]
    env = {e["name"]: e["value"] for e in live["env"]}
    ports = {p["name"]: p["containerPort"] for p in live["ports"]}
    assert env["LIVE_METRICS_HOST"] == "0.0.0.0"  # noqa: S104 (a pod's port, probed from outside)
    assert int(env["LIVE_METRICS_PORT"]) == ports["metrics"]
    assert live["livenessProbe"]["httpGet"]["port"] == "metrics"
    (api,) = containers(by_kind(docs, "Deployment")["api"])
    assert {"mountPath": "/run/secrets/faceit-ai", "name": "secrets", "readOnly": True} in api[
        "volumeMounts"
    ]


def test_production_overlay_scales_and_names_its_host() -> None:
    if shutil.which("kubectl") is None:
        pytest.skip("kubectl (kustomize) is not installed")
    docs = render(K8S / "overlays" / "production")
    assert {d["metadata"].get("namespace") for d in docs if d["kind"] != "Namespace"} == {
        "faceit-ai"
    }
    assert by_kind(docs, "HorizontalPodAutoscaler")["api"]["spec"]["minReplicas"] == 3
    assert by_kind(docs, "Deployment")["live-worker"]["spec"]["replicas"] == 2
    (ingress,) = by_kind(docs, "Ingress").values()
    assert ingress["spec"]["rules"][0]["host"] == "app.faceit-ai.example.com"
    images = {c["image"] for d in by_kind(docs, "Deployment").values() for c in containers(d)}
    assert images == {"ghcr.io/faceit-ai/faceit-ai:0.1.0"}
