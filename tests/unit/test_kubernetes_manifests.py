"""config/kubernetes/*.yaml against the Kubernetes OpenAPI schemas bundled in the
kubernetes-validate package (no cluster, no network), plus the properties the deployment
relies on: non-root, read-only root, probes on the health endpoints, config and key wiring."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from agent import config as cfg
from tests.conftest import REPO

MANIFESTS = sorted((REPO / "config" / "kubernetes").glob("*.yaml"))
# The oldest version we claim (gRPC probes are GA since 1.27) and the newest the package knows.
VERSIONS = ["1.30.0", kubernetes_validate.latest_version()]


def _docs(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def _by_kind(path: Path, kind: str) -> dict[str, Any]:
    return next(d for d in _docs(path) if d["kind"] == kind)


def test_there_are_manifests_for_the_sidecar_and_the_collector() -> None:
    assert [p.name for p in MANIFESTS] == ["agent-sidecar.yaml", "collector.yaml"]


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("path", MANIFESTS, ids=lambda p: p.name)
def test_manifest_is_valid_against_the_kubernetes_schema(path: Path, version: str) -> None:
    """Strict: an unknown or misspelt field is an error, not silently dropped."""
    for doc in _docs(path):
        kubernetes_validate.validate(doc, version, strict=True)


def test_the_validator_rejects_a_misspelt_field() -> None:
    """The check above has teeth."""
    doc = _by_kind(MANIFESTS[0], "Deployment")
    doc["spec"]["template"]["spec"]["containers"][1]["securityContext"] = {
        "readOnlyRootFilesytem": True}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(doc, VERSIONS[-1], strict=True)


def _pod(path: Path, kind: str) -> dict[str, Any]:
    return _by_kind(path, kind)["spec"]["template"]["spec"]  # type: ignore[no-any-return]


@pytest.mark.parametrize(("name", "kind"), [("agent-sidecar.yaml", "Deployment"),
                                            ("collector.yaml", "StatefulSet")])
def test_every_container_is_non_root_with_a_read_only_root(name: str, kind: str) -> None:
    pod = _pod(REPO / "config" / "kubernetes" / name, kind)
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] != 0
    for c in pod.get("initContainers", []) + pod["containers"]:
        sc = c["securityContext"]
        assert sc["readOnlyRootFilesystem"] is True, c["name"]
        assert sc["allowPrivilegeEscalation"] is False, c["name"]
        assert sc["capabilities"]["drop"] == ["ALL"], c["name"]
        assert "requests" in c["resources"] and "limits" in c["resources"], c["name"]


def test_sidecar_shares_the_log_volume_read_only_and_probes_the_agent() -> None:
    """Logs in a shared emptyDir, key from a Secret, config from a ConfigMap, probes on
    /livez and /healthz of ops.http_listen."""
    path = REPO / "config" / "kubernetes" / "agent-sidecar.yaml"
    pod = _pod(path, "Deployment")
    app, agent = pod["containers"]
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert "emptyDir" in volumes["app-logs"]
    assert {"name": "app-logs", "mountPath": "/var/log/app"} in app["volumeMounts"]
    assert {"name": "app-logs", "mountPath": "/var/log/app", "readOnly": True} in \
        agent["volumeMounts"]
    assert volumes["agent-key-secret"]["secret"]["secretName"] == "sealtail-agent-key"
    assert volumes["agent-config"]["configMap"]["name"] == "sealtail-agent-config"
    assert agent["livenessProbe"]["httpGet"]["path"] == "/livez"
    assert agent["readinessProbe"]["httpGet"]["path"] == "/healthz"
    # the config in the ConfigMap is a valid agent config whose paths match the mounts
    text = _by_kind(path, "ConfigMap")["data"]["agent.toml"]
    conf = cfg.build(cfg.AgentConfig, tomllib.loads(text), file="agent.toml").check()
    assert conf.ops.http_listen.endswith(":9300")
    assert conf.tail.paths == ["/var/log/app/*.log"]
    assert conf.agent.key.startswith("/run/sealtail/key/")
    # one key, one writer
    deployment = _by_kind(path, "Deployment")
    assert deployment["spec"]["replicas"] == 1
    assert deployment["spec"]["strategy"]["type"] == "Recreate"


def test_collector_is_a_statefulset_with_a_service_and_grpc_health_probes() -> None:
    path = REPO / "config" / "kubernetes" / "collector.yaml"
    pod = _pod(path, "StatefulSet")
    (c,) = pod["containers"]
    assert c["readinessProbe"]["grpc"]["port"] == 7600
    service = _by_kind(path, "Service")
    assert {p["port"] for p in service["spec"]["ports"]} == {7600, 9301}
    text = next(d for d in _docs(path) if d["kind"] == "ConfigMap"
                and "collector.toml" in d["data"])["data"]["collector.toml"]
    conf = cfg.build(cfg.CollectorConfig, tomllib.loads(text), file="collector.toml").check()
    assert conf.collector.listen == "0.0.0.0:7600"


def test_containerfile_runs_as_the_uid_the_manifests_use() -> None:
    text = (REPO / "Containerfile").read_text()
    assert "USER 10001:10001" in text
    assert 'ENTRYPOINT ["sealtail"]' in text
