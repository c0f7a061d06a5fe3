"""The deploy files say what the bot needs, and no more (least-privilege scopes, probes, non-root).

Uses PyYAML when it is installed; the Slack manifests are also checked without it (a minimal,
line-based reading that is itself cross-checked against PyYAML when both are available), so a
scope drift fails everywhere.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from bot.slack.listeners.shortcuts.check_privately import CALLBACK_ID as CHECK_PRIVATELY
from bot.slack.listeners.shortcuts.diagnose_message import CALLBACK_ID

yaml: Any
try:
    import yaml  # type: ignore[import-untyped,no-redef,unused-ignore]
except ImportError:  # pragma: no cover - depends on the environment
    yaml = None

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
HTTP_MANIFEST = DEPLOY / "slack-app-manifest.yaml"
SOCKET_MANIFEST = DEPLOY / "slack-app-manifest.socket-mode.yaml"
MINIMAL_MANIFEST = DEPLOY / "slack-app-manifest.minimal.yaml"
MANIFESTS = [HTTP_MANIFEST, SOCKET_MANIFEST]
ALL_MANIFESTS = [*MANIFESTS, MINIMAL_MANIFEST]

# Every bot event and the one scope it needs (None: none); the bot needs nothing else but these two.
EVENT_SCOPES: dict[str, str | None] = {
    "app_mention": "app_mentions:read",
    "message.channels": "channels:history",
    "message.groups": "groups:history",
    "message.im": "im:history",
    "app_home_opened": None,
}
BASE_SCOPES = {"commands", "chat:write"}  # /jwtcheck, the shortcuts and the modal; posting/updating replies
EXPECTED_SCOPES = BASE_SCOPES | {scope for scope in EVENT_SCOPES.values() if scope}
EXPECTED_EVENTS = set(EVENT_SCOPES)
MINIMAL_EVENTS = {"app_mention", "app_home_opened"}  # no *:history: no channel's messages
USAGE_HINT = "<token or error text> [aud=… iss=… alg=… leeway=… service=…] [private]"
REQUEST_URL = "https://YOUR-HOST/slack/events"

needs_yaml = pytest.mark.skipif(yaml is None, reason="PyYAML is not installed")


def text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def block_list(source: str, key: str) -> list[str]:
    """The items of the block list under the first ``key:`` line (``- item  # comment`` lines)."""
    lines = source.splitlines()
    for i, line in enumerate(lines):
        if re.fullmatch(rf"\s*{re.escape(key)}:\s*(#.*)?", line):
            indent = len(line) - len(line.lstrip())
            items = []
            for item in lines[i + 1 :]:
                if not item.strip() or item.lstrip().startswith("#"):
                    continue
                if len(item) - len(item.lstrip()) <= indent and not item.lstrip().startswith("- "):
                    break
                match = re.fullmatch(r"\s*-\s+([^\s#]+)\s*(#.*)?", item)
                assert match, f"unexpected line in {key}: {item!r}"
                items.append(match.group(1))
            return items
    raise AssertionError(f"no {key}: block")


def scalar(source: str, key: str) -> list[str]:
    """Every value of ``key: value`` lines (quotes stripped, comments dropped)."""
    values = []
    for match in re.finditer(rf"^\s*(?:-\s+)?{re.escape(key)}:\s*(.+?)\s*$", source, re.MULTILINE):
        value = match.group(1)
        quoted = value.startswith('"')
        values.append(value[1 : value.index('"', 1)] if quoted else value.split(" #", 1)[0].strip())
    return values


def load(path: Path) -> Any:
    assert yaml is not None
    return yaml.safe_load(text(path))


def load_all(path: Path) -> list[Any]:
    assert yaml is not None
    return [doc for doc in yaml.safe_load_all(text(path)) if doc is not None]


# --- Slack app manifests (checked with or without PyYAML) ------------------------------------------


@pytest.mark.parametrize("path", MANIFESTS, ids=lambda p: p.name)
def test_manifest_scopes_are_exactly_the_least_privilege_set(path: Path) -> None:
    scopes = block_list(text(path), "bot")
    assert len(scopes) == len(set(scopes)), "duplicate scope"
    assert set(scopes) == EXPECTED_SCOPES


@pytest.mark.parametrize("path", MANIFESTS, ids=lambda p: p.name)
def test_manifest_events_match_the_scopes(path: Path) -> None:
    source = text(path)
    events = block_list(source, "bot_events")
    scopes = set(block_list(source, "bot"))
    assert set(events) == EXPECTED_EVENTS
    needed = {EVENT_SCOPES[e] for e in events} - {None}
    assert needed | BASE_SCOPES == scopes, "a scope without a use, or a use without a scope"


@pytest.mark.parametrize("path", MANIFESTS, ids=lambda p: p.name)
def test_manifest_slash_command(path: Path) -> None:
    source = text(path)
    assert scalar(source, "command") == ["/jwtcheck"]
    assert scalar(source, "usage_hint") == [USAGE_HINT]
    assert scalar(source, "should_escape") == ["false"]
    assert scalar(source, "is_enabled") == ["true"]  # interactivity, for the card's buttons


SHORTCUTS = [
    {"name": "Diagnose with jwtcheck", "type": "message", "callback_id": CALLBACK_ID},
    {"name": "Check a token privately", "type": "global", "callback_id": CHECK_PRIVATELY},
]


@pytest.mark.parametrize("path", ALL_MANIFESTS, ids=lambda p: p.name)
def test_manifest_shortcuts(path: Path) -> None:
    source = text(path)
    assert scalar(source, "callback_id") == [s["callback_id"] for s in SHORTCUTS]  # the listeners' own ids
    assert scalar(source, "type") == [s["type"] for s in SHORTCUTS]
    assert all(s["name"] in scalar(source, "name") for s in SHORTCUTS)
    assert scalar(source, "is_enabled") == ["true"]  # shortcuts and the modal arrive as interactivity
    assert scalar(source, "home_tab_enabled") == ["true"]


def test_the_minimal_manifest_reads_no_history() -> None:
    source = text(MINIMAL_MANIFEST)
    scopes = set(block_list(source, "bot"))
    assert not any(scope.endswith(":history") for scope in scopes)
    assert set(block_list(source, "bot_events")) == MINIMAL_EVENTS
    assert scopes == BASE_SCOPES | ({EVENT_SCOPES[e] for e in MINIMAL_EVENTS} - {None})
    assert scalar(source, "messages_tab_enabled") == ["false"]  # it could not read direct messages


@needs_yaml
def test_the_minimal_manifest_is_the_full_one_without_history() -> None:
    full, minimal = load(HTTP_MANIFEST), load(MINIMAL_MANIFEST)
    history = {e for e, scope in EVENT_SCOPES.items() if scope and scope.endswith(":history")}
    scopes = full["oauth_config"]["scopes"]["bot"]
    full["oauth_config"]["scopes"]["bot"] = [s for s in scopes if not s.endswith(":history")]
    events = full["settings"]["event_subscriptions"]["bot_events"]
    full["settings"]["event_subscriptions"]["bot_events"] = [e for e in events if e not in history]
    full["features"]["app_home"]["messages_tab_enabled"] = False
    assert full == minimal


def test_http_manifest_urls_and_mode() -> None:
    source = text(HTTP_MANIFEST)
    assert scalar(source, "socket_mode_enabled") == ["false"]
    assert scalar(source, "url") == [REQUEST_URL]
    assert scalar(source, "request_url") == [REQUEST_URL, REQUEST_URL]


def test_socket_mode_manifest_has_no_urls() -> None:
    source = text(SOCKET_MANIFEST)
    assert scalar(source, "socket_mode_enabled") == ["true"]
    assert scalar(source, "url") == []
    assert scalar(source, "request_url") == []
    assert "https://" not in source


@needs_yaml
@pytest.mark.parametrize("path", MANIFESTS, ids=lambda p: p.name)
def test_manifest_structure_with_yaml(path: Path) -> None:
    doc = load(path)
    assert doc["_metadata"] == {"major_version": 1, "minor_version": 1}
    assert doc["oauth_config"]["scopes"]["bot"] == block_list(text(path), "bot")  # the fallback reads right
    assert set(doc["oauth_config"]["scopes"]) == {"bot"}  # no user scopes
    settings = doc["settings"]
    assert settings["event_subscriptions"]["bot_events"] == block_list(text(path), "bot_events")
    assert settings["interactivity"]["is_enabled"] is True
    assert settings["org_deploy_enabled"] is False
    assert settings["token_rotation_enabled"] is False
    [command] = doc["features"]["slash_commands"]
    assert command["command"] == "/jwtcheck"
    assert command["usage_hint"] == USAGE_HINT
    assert command["should_escape"] is False
    assert len(doc["display_information"]["description"]) <= 140
    shortcuts = doc["features"]["shortcuts"]
    assert [{k: shortcut[k] for k in SHORTCUTS[0]} for shortcut in shortcuts] == SHORTCUTS
    for shortcut in shortcuts:
        assert 0 < len(shortcut["description"]) <= 150 and len(shortcut["name"]) <= 24  # Slack's limits
    assert doc["features"]["app_home"]["home_tab_enabled"] is True
    socket_mode = settings["socket_mode_enabled"]
    assert socket_mode is (path == SOCKET_MANIFEST)
    if socket_mode:
        assert "url" not in command
        assert "request_url" not in settings["event_subscriptions"]
        assert "request_url" not in settings["interactivity"]
    else:
        assert command["url"] == REQUEST_URL
        assert settings["event_subscriptions"]["request_url"] == REQUEST_URL
        assert settings["interactivity"]["request_url"] == REQUEST_URL


@needs_yaml
def test_the_two_manifests_differ_only_in_transport() -> None:
    http, socket = load(HTTP_MANIFEST), load(SOCKET_MANIFEST)
    for doc in (http, socket):
        doc["features"]["slash_commands"][0].pop("url", None)
        doc["settings"]["event_subscriptions"].pop("request_url", None)
        doc["settings"]["interactivity"].pop("request_url", None)
        doc["settings"].pop("socket_mode_enabled")
    assert http == socket


# --- Procfile, Dockerfile, compose ---------------------------------------------------------------


def test_procfile() -> None:
    assert text(ROOT / "Procfile") == "web: python -m bot serve\n"


def test_dockerfile() -> None:
    source = text(DEPLOY / "Dockerfile")
    instructions = [line for line in source.splitlines() if line and not line.startswith(("#", " "))]
    froms = [line for line in instructions if line.startswith("FROM ")]
    assert len(froms) >= 2 and all(line.startswith("FROM python:3.11-slim") for line in froms)
    assert re.search(r"^RUN pip install \.$", source, re.MULTILINE)
    assert re.search(r"^COPY --from=build ", source, re.MULTILINE)
    users = [line.split()[1] for line in instructions if line.startswith("USER ")]
    assert users and users[-1].split(":")[0] not in {"root", "0"}
    assert "PYTHONUNBUFFERED=1" in source
    assert "EXPOSE 3000" in instructions
    healthcheck = source[source.index("HEALTHCHECK") :].split("\nCMD", 1)[0]
    assert "urllib.request" in healthcheck
    assert "http://127.0.0.1:${PORT:-3000}/healthz" in healthcheck
    assert "curl" not in healthcheck
    assert instructions[-1] == 'CMD ["python", "-m", "bot", "serve"]'
    assert not re.search(r"xox[bpa]-|SLACK_SIGNING_SECRET=", source), "no secrets in the image"


@needs_yaml
def test_compose_structure() -> None:
    doc = load(DEPLOY / "docker-compose.yml")
    bot, redis = doc["services"]["bot"], doc["services"]["redis"]
    assert bot["build"] == {"context": "..", "dockerfile": "deploy/Dockerfile"}
    assert bot["env_file"] == ["../.env"]
    assert bot["environment"]["REDIS_URL"] == "redis://redis:6379/0"
    assert bot["ports"] == ["3000:3000"]
    assert "redis" in bot["depends_on"]
    assert redis["image"] == "redis:7-alpine"
    assert "ports" not in redis  # Redis is not published on the host
    for secret in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN"):
        assert secret not in bot.get("environment", {})  # they come from .env only


# --- Kubernetes ----------------------------------------------------------------------------------

K8S = DEPLOY / "k8s"
BOT_LABELS = {"app.kubernetes.io/name": "jwtcheck", "app.kubernetes.io/component": "bot"}


def test_k8s_files_exist_and_key_lines_are_there() -> None:
    deployment = text(K8S / "deployment.yaml")
    for line in (
        "kind: Deployment",
        "terminationGracePeriodSeconds: 30",
        "runAsNonRoot: true",
        "readOnlyRootFilesystem: true",
        "name: jwtcheck-slack",
        "path: /healthz",
        "livenessProbe:",
        "readinessProbe:",
    ):
        assert line in deployment, line
    assert re.search(r"^\s+replicas: ([2-9]|\d\d+)\s*$", deployment, re.MULTILINE)
    assert "minAvailable: 1" in text(K8S / "pdb.yaml")
    assert "kind: Service" in text(K8S / "service.yaml")
    assert "name: jwtcheck-slack" in text(K8S / "secret.example.yaml")


@pytest.fixture
def deployment() -> dict[str, Any]:
    if yaml is None:
        pytest.skip("PyYAML is not installed")
    doc: dict[str, Any] = load(K8S / "deployment.yaml")
    return doc


@needs_yaml
def test_deployment(deployment: dict[str, Any]) -> None:
    spec = deployment["spec"]
    assert spec["replicas"] >= 2
    assert spec["selector"]["matchLabels"] == BOT_LABELS
    pod = spec["template"]["spec"]
    assert spec["template"]["metadata"]["labels"] == BOT_LABELS
    assert pod["terminationGracePeriodSeconds"] == 30
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] != 0
    [container] = pod["containers"]
    for probe in ("livenessProbe", "readinessProbe"):
        assert container[probe]["httpGet"]["path"] == "/healthz", probe
        assert container[probe]["httpGet"]["port"] in ("http", 3000)
    assert container["ports"] == [{"name": "http", "containerPort": 3000}]
    assert set(container["resources"]) == {"requests", "limits"}
    assert container["resources"]["limits"]["memory"]
    security = container["securityContext"]
    assert security["readOnlyRootFilesystem"] is True
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"]["drop"] == ["ALL"]
    assert {"secretRef": {"name": "jwtcheck-slack"}} in container["envFrom"]
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["PORT"] == "3000"
    assert not any(name.startswith("SLACK_") for name in env), "Slack secrets only via the Secret"
    mounts = {m["mountPath"] for m in container["volumeMounts"]}
    assert "/tmp" in mounts  # writable scratch space on a read-only root fs


@needs_yaml
def test_service_and_pdb_select_the_bot_pods(deployment: dict[str, Any]) -> None:
    service = load(K8S / "service.yaml")
    assert service["kind"] == "Service"
    assert service["spec"]["selector"] == BOT_LABELS
    [port] = service["spec"]["ports"]
    assert port["targetPort"] == "http"
    pdb = load(K8S / "pdb.yaml")
    assert (pdb["apiVersion"], pdb["kind"]) == ("policy/v1", "PodDisruptionBudget")
    assert pdb["spec"]["minAvailable"] == 1
    assert pdb["spec"]["selector"]["matchLabels"] == BOT_LABELS
    assert pdb["spec"]["minAvailable"] < deployment["spec"]["replicas"]  # a drain can still proceed


@needs_yaml
def test_redis_matches_the_bots_redis_url(deployment: dict[str, Any]) -> None:
    docs = {doc["kind"]: doc for doc in load_all(K8S / "redis.yaml")}
    assert set(docs) == {"Deployment", "Service"}
    service = docs["Service"]
    pod_labels = docs["Deployment"]["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"] == pod_labels
    assert pod_labels != BOT_LABELS  # the bot's Service must not route to Redis, nor the reverse
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    redis_url = next(e["value"] for e in container["env"] if e["name"] == "REDIS_URL")
    assert redis_url == f"redis://{service['metadata']['name']}:{service['spec']['ports'][0]['port']}/0"


@needs_yaml
def test_secret_example_has_placeholders_only() -> None:
    secret = load(K8S / "secret.example.yaml")
    assert (secret["kind"], secret["metadata"]["name"]) == ("Secret", "jwtcheck-slack")
    data = secret["stringData"]
    assert set(data) == {"SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET"}
    assert all("REPLACE-ME" in value for value in data.values())
