"""The Docker files, checked with what runs without a Docker engine: the
compose file and Dockerfiles parsed, the image's HEALTHCHECK command and
config run here, and the makechat-web nginx configuration served by a real
nginx (when one is installed) in front of a real `makechat serve`, including
`maintenance on|off`."""

import fnmatch
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yaml

from devdb.database import free_port
from makechat.config import load_config
from makechat.resources.webclient import CONTENT_SECURITY_POLICY
from tests.live import LiveServer

ROOT = Path(__file__).resolve().parent.parent
DOCKER = ROOT / "docker"
COMPOSE = DOCKER / "docker-compose.yml"
BACKEND_DOCKERFILE = DOCKER / "makechat" / "Dockerfile"
WEB_DOCKERFILE = DOCKER / "makechat-web" / "Dockerfile"
WEB_TEMPLATE = DOCKER / "makechat-web" / "default.conf.template"
MAINTENANCE = DOCKER / "makechat-web" / "maintenance"


def compose():
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


def instructions(dockerfile):
    """Return the Dockerfile's (INSTRUCTION, arguments) pairs, continuations joined."""
    text = re.sub(r"\\\n", " ", dockerfile.read_text(encoding="utf-8"))
    pairs = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            pairs.append((keyword.upper(), rest.strip()))
    return pairs


def arguments(dockerfile, keyword):
    return [rest for name, rest in instructions(dockerfile) if name == keyword]


def dockerignored(path):
    """Does .dockerignore leave this path (relative to the root) out? Patterns
    match from the context root; '**/' matches any folders, as in Docker."""
    patterns = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
                if line.strip() and not line.startswith("#")]
    parts = Path(path).parts
    prefixes = ["/".join(parts[:depth]) for depth in range(1, len(parts) + 1)]
    return any(fnmatch.fnmatch(prefix, pattern)
               or (pattern.startswith("**/") and fnmatch.fnmatch(prefix, pattern[3:]))
               for pattern in patterns for prefix in prefixes)


# -- compose -----------------------------------------------------------------

def test_compose_has_the_manuals_containers():
    services = compose()["services"]
    assert {name: service["container_name"] for name, service in services.items()} == {
        "makechat-mongo": "makechat-mongo", "makechat": "makechat",
        "makechat-web": "makechat-web"}


def test_compose_mongo_uses_official_image_with_data_volume():
    mongo = compose()["services"]["makechat-mongo"]
    assert re.fullmatch(r"mongo:[0-9.]+", mongo["image"])
    assert any(volume.endswith(":/data/db") for volume in mongo["volumes"])
    assert "healthcheck" in mongo


@pytest.mark.parametrize("service, dockerfile", [("makechat", BACKEND_DOCKERFILE),
                                                 ("makechat-web", WEB_DOCKERFILE)])
def test_compose_builds_from_repository_root(service, dockerfile):
    build = compose()["services"][service]["build"]
    assert (DOCKER / build["context"]).resolve() == ROOT
    assert (ROOT / build["dockerfile"]).resolve() == dockerfile


def test_compose_backend_has_backups_volume_and_waits_for_mongo():
    backend = compose()["services"]["makechat"]
    assert any(volume.endswith(":/backups") for volume in backend["volumes"])
    assert backend["depends_on"]["makechat-mongo"]["condition"] == "service_healthy"


def test_compose_trusts_exactly_the_web_container_as_proxy():
    document = compose()
    web_address = document["services"]["makechat-web"]["networks"]["makechat_nw"][
        "ipv4_address"]
    assert document["services"]["makechat"]["environment"]["MAKECHAT_TRUSTED_PROXIES"] \
        == web_address


def test_compose_addresses_are_the_manuals_and_in_the_subnet():
    import ipaddress
    document = compose()
    subnet = ipaddress.ip_network(document["networks"]["makechat_nw"]["ipam"]["config"][0][
        "subnet"])
    addresses = {name: service["networks"]["makechat_nw"]["ipv4_address"]
                 for name, service in document["services"].items()}
    assert addresses == {"makechat-mongo": "172.30.1.1", "makechat": "172.30.1.2",
                         "makechat-web": "172.30.1.3"}
    assert all(ipaddress.ip_address(address) in subnet for address in addresses.values())


def test_compose_publishes_only_the_web_port():
    services = compose()["services"]
    assert [name for name, service in services.items() if "ports" in service] == \
        ["makechat-web"]


# -- the backend image -------------------------------------------------------

def test_backend_image_base_and_command():
    assert arguments(BACKEND_DOCKERFILE, "FROM") == ["python:3.12-slim"]
    command = json.loads(arguments(BACKEND_DOCKERFILE, "CMD")[0])
    assert command == ["makechat", "serve", "--host", "0.0.0.0"]


def test_backend_image_runs_as_non_root():
    users = arguments(BACKEND_DOCKERFILE, "USER")
    assert users and users[-1] not in ("root", "0")


def test_backend_image_declares_backups_volume():
    assert "/backups" in arguments(BACKEND_DOCKERFILE, "VOLUME")


@pytest.mark.parametrize("dockerfile", [BACKEND_DOCKERFILE, WEB_DOCKERFILE])
def test_image_copies_only_files_in_the_build_context(dockerfile):
    for copy in arguments(dockerfile, "COPY"):
        sources = shlex.split(copy)[:-1]
        for source in sources:
            assert (ROOT / source).exists(), source
            assert not dockerignored(source.rstrip("/")), source


def test_dockerignore_keeps_secrets_and_bulk_out():
    for path in (".git", ".venv", "tests", "var", "makechat/__pycache__", "makechat.conf"):
        assert dockerignored(path), path
    for path in ("pyproject.toml", "README.rst", "makechat/app.py", "makechat/web/index.html",
                 "docker/makechat/makechat.conf"):
        assert not dockerignored(path), path


def test_backend_image_config_loads(tmp_path):
    config = load_config({}, path=DOCKER / "makechat" / "makechat.conf")
    assert config.mongo_uri == "mongodb://makechat-mongo:27017/makechat?journal=true"
    assert config.backup_dir == "/backups"
    assert config.host == "0.0.0.0"


def healthcheck_command():
    healthcheck = arguments(BACKEND_DOCKERFILE, "HEALTHCHECK")[0]
    return json.loads(healthcheck.split(" CMD ", 1)[1])


@pytest.mark.slow
def test_backend_healthcheck_passes_against_serve(config):
    command = healthcheck_command()
    assert command[0] == "python" and "/api/health" in command[-1]
    server = LiveServer({"MAKECHAT_MONGO_URI": config.mongo_uri, "MAKECHAT_WORKERS": "1"}).start()
    try:
        environ = dict(os.environ, MAKECHAT_PORT=str(server.port),
                       MAKECHAT_CONFIG=str(DOCKER / "makechat" / "makechat.conf"))
        result = subprocess.run([sys.executable, *command[1:]], env=environ, timeout=30,
                                capture_output=True)
    finally:
        server.stop()
    assert result.returncode == 0, result.stderr


def test_backend_healthcheck_fails_when_nothing_answers():
    environ = dict(os.environ, MAKECHAT_PORT=str(free_port()),
                   MAKECHAT_CONFIG=str(DOCKER / "makechat" / "makechat.conf"))
    result = subprocess.run([sys.executable, *healthcheck_command()[1:]], env=environ,
                            timeout=30, capture_output=True)
    assert result.returncode != 0


# -- the web image -----------------------------------------------------------

def test_web_image_serves_the_package_web_client():
    copies = [shlex.split(copy) for copy in arguments(WEB_DOCKERFILE, "COPY")]
    assert ["makechat/web/", "/usr/share/nginx/html/makechat/"] in copies
    assert arguments(WEB_DOCKERFILE, "FROM")[0].startswith("nginx:")


def test_web_config_proxies_api_with_long_read_timeout():
    text = WEB_TEMPLATE.read_text()
    api = text[text.index("location /api/"):]
    api = api[:api.index("\n    }")]
    assert "proxy_pass $makechat_backend;" in api
    timeout = int(re.search(r"proxy_read_timeout (\d+)s;", api)[1])
    assert timeout > load_config({}, path=DOCKER / "makechat" / "makechat.conf").max_wait
    # SECURITY: the client address is overwritten, never appended to.
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in api


def test_maintenance_script_is_valid_shell():
    assert os.access(MAINTENANCE, os.X_OK)
    assert subprocess.run(["sh", "-n", str(MAINTENANCE)]).returncode == 0


def test_maintenance_without_argument_prints_usage():
    result = subprocess.run([str(MAINTENANCE)], capture_output=True, text=True)
    assert result.returncode == 2 and "usage: maintenance on|off" in result.stderr


# -- makechat-web's nginx configuration on a real nginx -----------------------

NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists()
                                  else None)


class Nginx:
    """makechat-web's configuration, paths moved into a temporary folder."""

    def __init__(self, folder, backend_port):
        self.folder = folder
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        html = folder / "html"
        shutil.copytree(ROOT / "makechat" / "web", html / "makechat")
        (folder / "maintenance").mkdir()
        shutil.copy(DOCKER / "makechat-web" / "maintenance.html", folder / "maintenance")
        (folder / "state").mkdir()
        self.state = folder / "state" / "maintenance.conf"
        shutil.copy(DOCKER / "makechat-web" / "maintenance-off.conf", self.state)
        server = (WEB_TEMPLATE.read_text()
                  .replace("${MAKECHAT_BACKEND}", f"127.0.0.1:{backend_port}")
                  .replace("${NGINX_RESOLVER}", "127.0.0.1")
                  .replace("listen 80;", f"listen 127.0.0.1:{self.port};")
                  .replace("/etc/nginx/makechat/maintenance.conf", str(self.state))
                  .replace("/usr/share/nginx/html", str(html))
                  .replace("/usr/share/nginx/maintenance", str(folder / "maintenance"))
                  .replace("/var/log/nginx/", f"{folder}/"))
        (folder / "default.conf").write_text(server)
        self.conf = folder / "nginx.conf"
        user = "user root;" if os.geteuid() == 0 else ""
        self.conf.write_text(f"""{user}
worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/error.log;
events {{ worker_connections 64; }}
http {{
    include /etc/nginx/mime.types;
    client_body_temp_path {folder}/tmp-body;
    proxy_temp_path {folder}/tmp-proxy;
    fastcgi_temp_path {folder}/tmp-fastcgi;
    uwsgi_temp_path {folder}/tmp-uwsgi;
    scgi_temp_path {folder}/tmp-scgi;
    include {folder}/default.conf;
}}
""")
        self.command = f"{NGINX} -c {self.conf} -p {folder}"

    def start(self):
        subprocess.run([*self.command.split(), "-q"], check=True, timeout=30)
        return self

    def stop(self):
        subprocess.run([*self.command.split(), "-s", "quit"], timeout=30)

    def maintenance(self, *args):
        environ = dict(os.environ, MAKECHAT_NGINX=self.command,
                       MAKECHAT_MAINTENANCE_CONF=str(self.state))
        return subprocess.run([str(MAINTENANCE), *args], env=environ, capture_output=True,
                              text=True, timeout=30)

    def get(self, path, headers=None):
        request = urllib.request.Request(self.url + path, headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, response.headers, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.headers, error.read().decode()

    def until_status(self, path, status, timeout=10):
        """Poll (a reload finishes in the background); return the last answer."""
        deadline = time.monotonic() + timeout
        while True:
            answer = self.get(path)
            if answer[0] == status or time.monotonic() > deadline:
                return answer
            time.sleep(0.1)


needs_nginx = pytest.mark.skipif(NGINX is None, reason="nginx is not installed")


@pytest.fixture
def web(config, tmp_path):
    backend = LiveServer({"MAKECHAT_MONGO_URI": config.mongo_uri,
                          "MAKECHAT_WORKERS": "1"}).start()
    nginx = Nginx(tmp_path, backend.port).start()
    nginx.backend = backend
    yield nginx
    nginx.stop()
    backend.stop()


@pytest.mark.slow
@needs_nginx
def test_web_serves_client_under_makechat(web):
    status, headers, body = web.get("/makechat/")
    assert status == 200 and "<html" in body.lower()
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert web.get("/makechat/assets/app.js")[0] == 200
    # Every module, not only the entry point: the browser fetches each import.
    for path in sorted((ROOT / "makechat" / "web" / "assets").glob("*.js")):
        assert web.get(f"/makechat/assets/{path.name}")[0] == 200, path.name


@pytest.mark.slow
@needs_nginx
def test_web_sends_the_same_page_headers_as_serve(web):
    _, headers, _ = web.get("/makechat/")
    assert headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert headers["Referrer-Policy"] == "no-referrer"


@pytest.mark.slow
@needs_nginx
def test_web_serves_admin_page_at_manuals_address(web):
    status, _, body = web.get("/makechat/admin")
    assert status == 200
    assert body == (ROOT / "makechat" / "web" / "admin.html").read_text()


@pytest.mark.slow
@needs_nginx
def test_web_proxies_api_with_request_id(web):
    status, headers, body = web.get("/api/health", {"X-Request-Id": "through-nginx-1"})
    assert status == 200 and json.loads(body)["status"] == "ok"
    assert headers["X-Request-Id"] == "through-nginx-1"


@pytest.mark.slow
@needs_nginx
def test_web_api_backend_down_returns_json_503(web):
    web.backend.stop()
    status, headers, body = web.get("/api/health")
    assert status == 503
    assert set(json.loads(body)) == {"title", "description"}


@pytest.mark.slow
@needs_nginx
def test_maintenance_on_serves_503_page_and_json(web):
    result = web.maintenance("on")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "maintenance is on"
    status, headers, body = web.until_status("/makechat/", 503)
    assert status == 503 and "being upgraded" in body
    status, headers, body = web.until_status("/api/health", 503)
    assert status == 503 and json.loads(body)["title"] == "Maintenance"
    assert headers["Retry-After"] == "60"
    assert web.maintenance("status").stdout.strip() == "maintenance is on"


@pytest.mark.slow
@needs_nginx
def test_maintenance_off_restores_service(web):
    web.maintenance("on")
    web.until_status("/makechat/", 503)
    result = web.maintenance("off")
    assert result.returncode == 0, result.stderr
    assert web.until_status("/makechat/", 200)[0] == 200
    status, _, body = web.until_status("/api/health", 200)
    assert status == 200, body
    assert web.maintenance("status").stdout.strip() == "maintenance is off"


@pytest.mark.slow
@needs_nginx
def test_maintenance_keeps_old_state_when_nginx_rejects(web, tmp_path):
    environ = dict(os.environ, MAKECHAT_NGINX=f"{NGINX} -c {tmp_path}/missing.conf",
                   MAKECHAT_MAINTENANCE_CONF=str(web.state))
    before = web.state.read_text()
    result = subprocess.run([str(MAINTENANCE), "on"], env=environ, capture_output=True,
                            text=True, timeout=30)
    assert result.returncode == 1 and "nothing changed" in result.stderr
    assert web.state.read_text() == before


@needs_nginx
def test_web_passes_the_event_stream_unbuffered(web, make_user):
    """An event posted after the stream opened reaches the client through
    nginx while the stream stays open (a buffered proxy would hold it)."""
    import http.client as httpclient

    from tests.live import http
    admin = make_user(admin=True)
    _, _, room = http("POST", web.backend.url + "/api/rooms", {"name": "via nginx"},
                      token=admin.secret)
    connection = httpclient.HTTPConnection("127.0.0.1", web.port, timeout=10)
    connection.request("GET", "/api/events", headers={"Accept": "text/event-stream",
                                                       "X-Auth-Token": admin.secret})
    response = connection.getresponse()
    try:
        assert response.status == 200
        assert response.getheader("Content-Type").startswith("text/event-stream")
        lines = b""
        while b"stream.ready" not in lines:
            line = response.readline()
            assert line, "the stream ended"
            lines += line
        http("POST", web.backend.url + "/api/messages",
             {"room": room["_id"]["$oid"], "text": "through nginx"}, token=admin.secret)
        lines = b""
        while b"through nginx" not in lines:
            line = response.readline()
            assert line, "the stream ended"
            lines += line
    finally:
        connection.close()
