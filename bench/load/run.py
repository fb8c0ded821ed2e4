"""Load test of the backoffice: gunicorn on 127.0.0.1 against the bench shop, 50 signed-in
staff driven by locust (bench/load/locustfile.py), a bounded run, one table at the end.

    .venv/bin/python -m pip install -c constraints.txt -e ".[bench]"   # locust, once
    .venv/bin/python bench/pages_bench.py --only dashboard             # builds the shop if missing
    .venv/bin/python bench/load/run.py [--workers 4] [--users 50] [--duration 150]

What it does, in order:

1. checks that the bench shop (aggregates_bench.py's, database crm_bench_orders) and its
   staff accounts are there, and that the static manifest exists (collectstatic);
2. writes a sample of 2,000 customers (code, name, phone) and the care statuses to a JSON
   file that the locustfile reads;
3. starts a private redis-server (the cache that rate limits and cached pages share between
   workers, as in production) and gunicorn with DEBUG off, sync workers;
4. runs locust headless: every person signs in first, the statistics are emptied once all
   are in, then ``--duration`` seconds of work with 3–7 s of thinking between actions;
5. prints the per-endpoint table (requests, failures, p50 / p95 / max), stops gunicorn and
   redis (only the processes it started) and exits non-zero when a goal is missed.

Every request goes to 127.0.0.1 only, and the run stops by itself.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VENV_BIN = Path(sys.executable).parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/crm_bench_orders"


def server_env(args) -> dict:
    return {
        **os.environ,
        "DATABASE_URL": args.database_url,
        "DEBUG": "0",
        "SECRET_KEY": "bench-only-secret-key-" + "x" * 40,
        "REDIS_URL": f"redis://127.0.0.1:{args.redis_port}/0",
        # Celery tasks (none on these pages today) run in the request, as without a broker.
        "CELERY_TASK_ALWAYS_EAGER": "1",
        # Plain HTTP on the loopback: no redirect to https, cookies sent over http.
        "SECURE_SSL_REDIRECT": "0",
        "SESSION_COOKIE_SECURE": "0",
        "CSRF_COOKIE_SECURE": "0",
        "SECURE_HSTS_SECONDS": "0",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "LOG_LEVEL": "WARNING",
    }


def check_shop(args) -> None:
    import psycopg

    parts = urlsplit(args.database_url)
    try:
        with psycopg.connect(host=parts.hostname, port=parts.port or 5432,
                             user=parts.username or "postgres",
                             dbname=parts.path.lstrip("/")) as conn:
            staff = conn.execute("SELECT COUNT(*) FROM auth_user WHERE username LIKE %s",
                                 ["bench.staff%"]).fetchone()[0]
    except psycopg.Error as error:
        sys.exit(f"no bench shop ({error}); build it with bench/pages_bench.py first")
    if staff < args.users:
        sys.exit(f"the bench shop has {staff} staff accounts, {args.users} are needed")


def write_samples(args, path: Path) -> None:
    import psycopg

    parts = urlsplit(args.database_url)
    with psycopg.connect(host=parts.hostname, port=parts.port or 5432,
                         user=parts.username or "postgres",
                         dbname=parts.path.lstrip("/")) as conn:
        tenant = conn.execute("SELECT id FROM crm_tenant WHERE slug = 'bench-orders'"
                              ).fetchone()[0]
        rows = conn.execute("""
            SELECT code, full_name, phone_normalized FROM customers_customer
            TABLESAMPLE SYSTEM (1) REPEATABLE (2026)
            WHERE tenant_id = %s AND phone_normalized <> '' LIMIT 2000""", [tenant]).fetchall()
        statuses = [r[0] for r in conn.execute(
            "SELECT id FROM customers_carestatus WHERE tenant_id = %s", [tenant])]
    path.write_text(json.dumps({
        "customers": [{"code": c, "name": n, "phone": p} for c, n, p in rows],
        "care_statuses": statuses}, ensure_ascii=False), encoding="utf-8")


def wait_for(url: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (loopback)
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"{url} did not answer within {seconds:.0f} s")


def stop(process: subprocess.Popen | None, name: str) -> None:
    """End a process this script started (its own process group), by its id."""
    if process is None or process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        print(f"{name} did not stop: killing it")
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=1,
                        help="gthread workers with this many threads each when > 1")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--spawn-rate", type=float, default=10)
    parser.add_argument("--duration", type=int, default=150,
                        help="seconds measured, after everyone signed in")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--redis-port", type=int, default=6391)
    parser.add_argument("--pg-options", default="",
                        help="PGOPTIONS for the web workers' connections, e.g. "
                             "'-c max_parallel_workers_per_gather=0'")
    args = parser.parse_args()

    check_shop(args)
    env = server_env(args)
    if args.pg_options:
        env["PGOPTIONS"] = args.pg_options
    if not (BASE_DIR / "staticfiles" / "staticfiles.json").exists():
        subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
                       cwd=BASE_DIR, env=env, check=True)
    workdir = Path(tempfile.mkdtemp(prefix="crm-load-"))
    samples = workdir / "samples.json"
    write_samples(args, samples)
    redis = gunicorn = None
    try:
        redis = subprocess.Popen(
            ["redis-server", "--bind", "127.0.0.1", "--port", str(args.redis_port),
             "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, start_new_session=True)
        worker_args = (["--worker-class", "gthread", "--threads", str(args.threads)]
                       if args.threads > 1 else [])
        log = open(workdir / "gunicorn.log", "w")  # noqa: SIM115 (closed with the process)
        gunicorn = subprocess.Popen(
            [str(VENV_BIN / "gunicorn"), "crm.wsgi:application", "--workers",
             str(args.workers), *worker_args, "--bind", f"127.0.0.1:{args.port}",
             "--timeout", "60", "--graceful-timeout", "10"],
            cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True)
        base = f"http://127.0.0.1:{args.port}"
        wait_for(f"{base}/healthz", 60)
        print(f"gunicorn: {args.workers} workers"
              + (f" x {args.threads} threads" if args.threads > 1 else "")
              + f" on {base}; {args.users} staff; {args.duration} s measured"
              + (f"; PGOPTIONS {args.pg_options}" if args.pg_options else ""), flush=True)
        ramp = args.users / args.spawn_rate + 20  # spawning plus the sign-ins
        result = subprocess.run(
            [str(VENV_BIN / "locust"), "-f", str(Path(__file__).with_name("locustfile.py")),
             "--headless", "--users", str(args.users), "--spawn-rate", str(args.spawn_rate),
             "--run-time", f"{int(ramp + args.duration)}s", "--host", base,
             "--only-summary", "--stop-timeout", "10", "--exit-code-on-error", "1",
             "--loglevel", "WARNING"],
            cwd=BASE_DIR, env={**os.environ, "BENCH_SAMPLES": str(samples)})
    finally:
        stop(gunicorn, "gunicorn")
        stop(redis, "redis-server")
    errors = [line for line in (workdir / "gunicorn.log").read_text().splitlines()
              if "Error" in line or "Traceback" in line]
    if errors:
        print(f"gunicorn log ({workdir / 'gunicorn.log'}) has {len(errors)} error lines, "
              f"first: {errors[0]}")
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())
