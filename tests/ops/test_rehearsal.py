"""The production rehearsal: the deploy/ files, run for real on this machine.

Debian's nginx with a self-signed certificate in front of two gunicorn instances on production
settings, two task workers and the periodic runner as separate processes, all on a throwaway
PostgreSQL database. A checkout over HTTPS, its webhook and email delivered, readiness green;
then the workers stop and readiness turns red; then pg_dump -> restore into a fresh database ->
`tuition verify` clean and every balance equal. Run it alone with
`DATABASE_URL=postgres://... pytest tests/ops/test_rehearsal.py -s` to read its narrative.
"""

import datetime
import ipaddress
import json
import os
import re
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
BIN = Path(sys.executable).parent

pytestmark = [pytest.mark.slow]


def say(message: str) -> None:
    print(f"[rehearsal] {message}", flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _postgres_url() -> str | None:
    url = os.environ.get("DATABASE_URL", "")
    return url if url.startswith(("postgres://", "postgresql://")) else None


def _nginx() -> str | None:
    found = shutil.which("nginx")
    return found or ("/usr/sbin/nginx" if os.access("/usr/sbin/nginx", os.X_OK) else None)


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


@pytest.fixture
def tools() -> dict[str, str]:
    if not _postgres_url():
        pytest.skip(
            "The production rehearsal runs on PostgreSQL only: this run is on SQLite "
            "(make test runs it again with DATABASE_URL=postgres://...)."
        )
    found = {"nginx": _nginx(), "pg_dump": shutil.which("pg_dump")}
    found["pg_restore"] = shutil.which("pg_restore")
    missing = [name for name, path in found.items() if not path]
    if missing:
        message = f"The production rehearsal needs {', '.join(missing)} (apt-get install nginx)."
        if os.environ.get("CI") == "true":
            pytest.fail(message + " CI=true requires it.")
        pytest.skip(message)
    return found  # type: ignore[return-value]


@pytest.fixture
def databases() -> Iterator[Callable[[str], str]]:
    """Throwaway databases on the PostgreSQL server of this run, dropped afterwards."""
    import psycopg

    admin_url = _postgres_url()
    assert admin_url
    made: list[str] = []

    def make(label: str) -> str:
        name = f"tuition_rehearsal_{label}_{os.getpid()}_{secrets.token_hex(3)}"
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        made.append(name)
        return _with_database(admin_url, name)

    yield make
    with psycopg.connect(admin_url, autocommit=True) as conn:
        for name in made:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "fullchain.pem", directory / "privkey.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_path.chmod(0o600)
    return cert_path, key_path


def nginx_config(tmp: Path, ports: dict[str, int], cert: Path, key: Path, static: Path) -> Path:
    """deploy/nginx/tuition.conf with this machine's ports and paths, in a minimal nginx.conf."""
    site = (DEPLOY / "nginx" / "tuition.conf").read_text()
    replacements = {
        "server 127.0.0.1:8001": f"server 127.0.0.1:{ports['web1']}",
        "server 127.0.0.1:8002": f"server 127.0.0.1:{ports['web2']}",
        "listen 80;": f"listen 127.0.0.1:{ports['http']};",
        "listen [::]:80;": "",
        "listen 443 ssl http2;": f"listen 127.0.0.1:{ports['https']} ssl http2;",
        "listen [::]:443 ssl http2;": "",
        "/etc/ssl/tuition/fullchain.pem": str(cert),
        "/etc/ssl/tuition/privkey.pem": str(key),
        "/srv/tuition/data/static/": f"{static}/",
    }
    for old, new in replacements.items():
        assert old in site, f"deploy/nginx/tuition.conf no longer contains {old!r}"
        site = site.replace(old, new)
    (tmp / "site.conf").write_text(site)
    user = "user root;" if os.geteuid() == 0 else ""
    temp = "\n".join(
        f"  {kind}_temp_path {tmp}/nginx-{kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    conf = tmp / "nginx.conf"
    conf.write_text(
        f"""daemon off;
{user}
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log warn;
events {{ worker_connections 256; }}
http {{
  include /etc/nginx/mime.types;
  default_type application/octet-stream;
  access_log {tmp}/nginx-access.log;
{temp}
  include {tmp}/site.conf;
}}
"""
    )
    return conf


class Processes:
    """Every process the rehearsal starts, each logging to its own file; all stopped at the end."""

    def __init__(self, tmp: Path, env: dict[str, str]):
        self.tmp = tmp
        self.env = env
        self.running: dict[str, subprocess.Popen] = {}

    def run(self, *args: str, env: dict[str, str] | None = None) -> str:
        done = subprocess.run(
            args, env={**self.env, **(env or {})}, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, f"{args} failed:\n{done.stdout}\n{done.stderr}"
        return done.stdout

    def start(self, name: str, *args: str, env: dict[str, str] | None = None) -> None:
        log = (self.tmp / f"{name}.log").open("w")
        self.running[name] = subprocess.Popen(
            args, env={**self.env, **(env or {})}, stdout=log, stderr=subprocess.STDOUT
        )

    def log(self, name: str) -> str:
        return (self.tmp / f"{name}.log").read_text()

    def stop(self, name: str, timeout: float = 20) -> int:
        process = self.running.pop(name)
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        return process.returncode

    def alive(self) -> None:
        for name, process in self.running.items():
            assert process.poll() is None, f"{name} exited:\n{self.log(name)[-3000:]}"

    def stop_all(self) -> None:
        for name in list(self.running):
            self.stop(name)


def wait_for(what: str, probe: Callable[[], Any], timeout: float = 45) -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = probe()
        except (httpx.HTTPError, OSError) as error:
            last = error
        else:
            if last:
                return last
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}; last: {last!r}")


def json_lines(text: str) -> list[dict]:
    lines = []
    for line in text.splitlines():
        if line.startswith("{"):
            try:
                lines.append(json.loads(line))
            except ValueError:
                continue
    return lines


def balances(url: str) -> dict[str, Any]:
    import psycopg

    with psycopg.connect(url) as conn:
        lots = conn.execute("SELECT id, remaining FROM ledger_lot ORDER BY id").fetchall()
        transfers = conn.execute(
            "SELECT kind, count(*), sum(amount) FROM ledger_transfer GROUP BY kind ORDER BY kind"
        ).fetchall()
        entries = conn.execute("SELECT count(*), coalesce(sum(amount), 0) FROM ledger_entry")
        return {"lots": lots, "transfers": transfers, "entries": entries.fetchone()}


def test_production_rehearsal(tools, databases, tmp_path, httpserver):
    started = time.monotonic()
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Sink

    class Mailbox(Sink):
        messages: list[bytes] = []

        async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
            self.messages.append(envelope.content)
            return "250 OK"

    mailbox = Mailbox()
    smtp_port = free_port()
    smtp = Controller(mailbox, hostname="127.0.0.1", port=smtp_port)
    smtp.start()
    httpserver.expect_request("/hooks/tuition", method="POST").respond_with_data("ok")

    ports = {name: free_port() for name in ("web1", "web2", "http", "https")}
    data = tmp_path / "data"
    database = databases("live")
    token = secrets.token_urlsafe(24)
    base = f"https://localhost:{ports['https']}"
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PYTEST", "DJANGO_", "TUITION_", "PROMETHEUS"))
    }
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "tuition.config.settings.prod",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "DATABASE_URL": database,
            "DATABASE_POOL": "false",
            "ALLOWED_HOSTS": "localhost,127.0.0.1",
            "CSRF_TRUSTED_ORIGINS": base,
            "TUITION_SITE_URL": base,
            "TUITION_HOME": str(tmp_path),
            "TUITION_DATA_DIR": str(data),
            "EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}",
            "TUITION_TRUSTED_PROXIES": "127.0.0.1",
            "TUITION_METRICS_TOKEN": token,
            "TUITION_WEBHOOKS_ALLOW_PRIVATE": "true",
            "TUITION_WORKER_HEARTBEAT_SECONDS": "1",
            "TUITION_READY_HEARTBEAT_SECONDS": "10",
            "TUITION_PERIODIC_TICK_SECONDS": "1",
            "LOG_FORMAT": "json",
            "LOG_LEVEL": "INFO",
        }
    )
    processes = Processes(tmp_path, env)
    tuition = str(BIN / "tuition")
    try:
        # --- install: migrate, static files, the deploy check ----------------------------------
        processes.run(tuition, "migrate", "--no-input")
        processes.run(tuition, "createcachetable")
        processes.run(tuition, "collectstatic", "--no-input")
        check = subprocess.run(
            [tuition, "check", "--deploy", "--fail-level", "WARNING"],
            env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert check.returncode == 0, check.stdout + check.stderr
        say(f"tuition check --deploy: {(check.stdout + check.stderr).strip()}")
        key = processes.run(tuition, "create-api-key", "rehearsal", "--scopes", "admin").strip()

        # --- start: two web instances, two workers, the periodic runner, nginx -----------------
        cert, cert_key = self_signed_certificate(tmp_path)
        gunicorn = [sys.executable, "-m", "gunicorn", "--config", str(DEPLOY / "gunicorn.conf.py")]
        for web in ("web1", "web2"):
            processes.start(
                web,
                *gunicorn, "--workers", "2", "--threads", "2", "tuition.config.wsgi:application",
                env={
                    "TUITION_BIND": f"127.0.0.1:{ports[web]}",
                    "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / f"metrics-{web}"),
                },
            )  # fmt: skip
        for worker in ("worker1", "worker2"):
            processes.start(worker, tuition, "worker", "--queue-name", "*", "--interval", "0.2")
        processes.start("periodic", tuition, "run_periodic")
        conf = nginx_config(tmp_path, ports, cert, cert_key, data / "static")
        processes.start("nginx", tools["nginx"], "-c", str(conf), "-p", str(tmp_path))

        tls = ssl.create_default_context(cafile=str(cert))
        client = httpx.Client(base_url=base, verify=tls, timeout=15)
        headers = {"Authorization": f"Api-Key {key}"}

        def ready() -> httpx.Response | None:
            response = client.get("/health/ready")
            return response if response.status_code == 200 else None

        green = wait_for("readiness through nginx", ready, timeout=60)
        processes.alive()
        say(f"processes up after {time.monotonic() - started:.1f}s: {', '.join(processes.running)}")
        say(f"GET {base}/health/ready -> {green.status_code} {green.text}")

        # --- TLS, redirects, HSTS, static files --------------------------------------------------
        plain = httpx.get(f"http://127.0.0.1:{ports['http']}/api/v1/units", timeout=5)
        assert plain.status_code == 301 and plain.headers["location"].startswith("https://")
        css = client.get("/static/admin/css/base.css")
        assert css.status_code == 200 and "immutable" in css.headers["cache-control"]
        assert "x-request-id" not in css.headers  # served by nginx, Django never saw it
        home = client.get("/api/v1/units", headers=headers)
        assert home.status_code == 200
        assert home.headers["strict-transport-security"].startswith("max-age=31536000")
        say(
            f"http -> {plain.status_code} {plain.headers['location']}; static by nginx "
            f"({css.headers['cache-control']}); HSTS: {home.headers['strict-transport-security']}"
        )

        # --- a checkout over HTTPS --------------------------------------------------------------
        def post(path: str, body: dict) -> dict:
            response = client.post(
                f"/api/v1/{path}",
                json=body,
                headers={**headers, "Idempotency-Key": str(uuid.uuid4())},
            )
            assert response.status_code == 201, (path, response.status_code, response.text)
            return response.json()

        hook = post("webhooks", {"url": httpserver.url_for("/hooks/tuition")})
        account = post("accounts", {"name": "Acme", "owners": ["olga@acme.test"]})
        course = post("activities", {"title": "Cloud Fundamentals", "price": "300.00"})
        credit = post(
            "credits",
            {"account": account["id"], "unit": "USD", "redeemable_value": "500.00"},
        )
        checkout = client.post(
            "/api/v1/checkout",
            json={
                "learner": {"email": "ana@acme.test", "name": "Ana"},
                "item": {"activity": course["id"]},
                "payment": {"method": "code", "code": credit["code"]},
            },
            headers={**headers, "Idempotency-Key": "rehearsal-checkout-1"},
        )
        assert checkout.status_code == 201, checkout.text
        order = checkout.json()["order"]
        assert order["charged"] == {"amount": "300.00", "unit": "USD"}
        request_id = checkout.headers["x-request-id"]
        assert re.fullmatch(r"[0-9a-f]{32}", request_id)  # nginx's $request_id, kept by Django
        refused = client.post(
            "/api/v1/checkout",
            json={
                "learner": {"email": "ben@acme.test"},
                "item": {"activity": course["id"]},
                "payment": {"method": "code", "code": "NOPE-NOPE-NOPE-NOPE"},
            },
            headers={**headers, "Idempotency-Key": "rehearsal-checkout-2"},
        )
        assert refused.status_code == 422 and refused.json()["error"]["code"] == "code_not_found"
        say(f"POST {base}/api/v1/checkout -> 201 order {order['number']} charged 300.00 USD")
        say(f"   X-Request-ID {request_id}; a wrong code -> 422 code_not_found")

        # --- the webhook and the email are delivered by the workers -----------------------------
        def webhook_kinds() -> set[str]:
            kinds = {json.loads(r.get_data())["type"] for r, _ in httpserver.log}
            return kinds if "credit.redeemed" in kinds else set()

        kinds = wait_for("the credit.redeemed webhook", webhook_kinds)
        wait_for("an email", lambda: mailbox.messages)
        signed = httpserver.log[-1][0].headers
        assert signed["webhook-signature"].startswith("v1,")
        say(f"webhooks received: {sorted(kinds)} (subscription {hook['id']}, signed)")
        say(f"emails received over SMTP: {len(mailbox.messages)}")

        # --- logs: one JSON line per request, the request id carried into the worker's tasks ----
        web_lines = json_lines(processes.log("web1") + processes.log("web2"))
        line = next(
            x for x in web_lines
            if x.get("route") == "api/v1/checkout" and x.get("status") == 201
        )  # fmt: skip
        assert line["request_id"] == request_id
        assert line["actor"].startswith("api-key:") and line["client_ip"] == "127.0.0.1"
        worker_lines = json_lines(processes.log("worker1") + processes.log("worker2"))
        carried = [x for x in worker_lines if x.get("request_id") == request_id]
        assert carried, "no worker log line carries the checkout's request id"
        everything = "\n".join(processes.log(n) for n in ("web1", "web2", "worker1", "worker2"))
        assert credit["code"] not in everything and key not in everything
        assert key.partition(".")[2] not in everything
        say(f"log line (web): {json.dumps(line)}")
        say(f"log line (worker, same request): {json.dumps(carried[0])}")

        # --- metrics: scraped from each web instance with the token -----------------------------
        scrapes = []
        for web in ("web1", "web2"):
            response = httpx.get(
                f"http://127.0.0.1:{ports[web]}/metrics",
                headers={"Authorization": f"Bearer {token}"},
                timeout=10,
            )
            assert response.status_code == 200
            scrapes.append(response.text)
        assert httpx.get(f"http://127.0.0.1:{ports['web1']}/metrics", timeout=10).status_code == 401
        assert client.get("/metrics").status_code == 404  # not exposed through nginx

        def total(name: str) -> float:
            pattern = re.compile(rf"^{re.escape(name)} ([0-9.e+]+)$", re.M)
            return sum(float(m) for text in scrapes for m in pattern.findall(text))

        assert total('tuition_checkouts_total{interface="api"}') == 1
        assert total('tuition_checkout_refusals_total{code="code_not_found",interface="api"}') == 1
        assert total('tuition_value_redeemed_total{unit="USD"}') == 300
        wanted = (
            "tuition_checkout",
            "tuition_value",
            "tuition_task_queue",
            "tuition_deliveries",
            "tuition_heartbeat",
            'tuition_http_requests_total{method="POST",route="api/v1/checkout"',
        )
        say("metrics scrape (business figures and the checkout route, per web instance):")
        for web, text in zip(("web1", "web2"), scrapes, strict=True):
            for x in text.splitlines():
                if x.startswith(wanted):
                    print(f"    {web}  {x}", flush=True)

        # --- readiness turns red when the workers stop ------------------------------------------
        for worker in ("worker1", "worker2"):
            assert processes.stop(worker) == 0
        red = client.get("/health/ready")
        assert red.status_code == 503
        body = red.json()
        assert body["status"] == "fail" and body["checks"]["worker"]["ok"] is False
        assert body["checks"]["database"]["ok"] is True
        say(f"workers stopped (SIGTERM) -> GET /health/ready -> {red.status_code} {red.text}")

        # --- backup while serving, restore into a fresh database, verify ------------------------
        dump = tmp_path / "tuition.dump"
        processes.run(tools["pg_dump"], "--format=custom", f"--file={dump}", database)
        restored = databases("restored")
        processes.run(
            tools["pg_restore"], "--no-owner", "--exit-on-error", "-d", restored, str(dump)
        )
        verify_live = processes.run(tuition, "verify")
        verify_restored = processes.run(tuition, "verify", env={"DATABASE_URL": restored})
        assert balances(database) == balances(restored)
        figures = balances(restored)
        say(f"pg_dump {dump.stat().st_size} bytes -> pg_restore into a fresh database")
        say(f"tuition verify (live): {'; '.join(verify_live.split(chr(10))).strip('; ')}")
        say(f"tuition verify (restored): {'; '.join(verify_restored.split(chr(10))).strip('; ')}")
        say(
            f"balances equal: {len(figures['lots'])} lots {figures['lots']}, "
            f"transfers {figures['transfers']}, entries {figures['entries']}"
        )
        processes.alive()
        say(f"rehearsal done in {time.monotonic() - started:.1f}s")
    except BaseException:
        for name in processes.running:
            print(f"--- {name} ---\n{processes.log(name)[-2000:]}")
        raise
    finally:
        processes.stop_all()
        smtp.stop()
