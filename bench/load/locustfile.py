"""Fifty staff of the bench shop at work: searching, opening profiles and tabs, changing a
care status. Run through bench/load/run.py (it starts gunicorn and passes the settings);
by hand: ``locust -f bench/load/locustfile.py --headless -u 50 -r 10 -t 3m --host URL``
with BENCH_SAMPLES pointing at a JSON file of customers (run.py writes one).

Each simulated person signs in once (on_start: GET the login page, POST the form with its
CSRF token, then the dashboard the sign-in lands on) as their own staff account,
bench.staff01 to bench.staff50. Nobody starts
working until all of them are signed in; then the statistics are emptied, so the table
counts only the working window (no sign-ins, no ramp-up). Between two actions a person
thinks 3 to 7 seconds.
"""

from __future__ import annotations

import json
import os
import random
import re

import gevent.event
from locust import HttpUser, between, events, task

PASSWORD = os.environ.get("BENCH_PASSWORD", "bench-pass-2026")
SAMPLES = json.loads(open(os.environ["BENCH_SAMPLES"], encoding="utf-8").read()) \
    if os.environ.get("BENCH_SAMPLES") else {"customers": [], "care_statuses": []}
GOAL_P95_MS = 300

CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
_signed_in = {"count": 0, "expected": 0, "numbers": iter(range(1, 10_000))}
all_signed_in = gevent.event.Event()


@events.test_start.add_listener
def _expect(environment, **_kwargs):
    _signed_in["expected"] = environment.parsed_options.num_users if \
        environment.parsed_options else 50


def _one_signed_in(environment) -> None:
    _signed_in["count"] += 1
    if _signed_in["count"] >= _signed_in["expected"] and not all_signed_in.is_set():
        environment.stats.reset_all()  # the measured window starts now
        environment.runner.exceptions.clear()
        print(f"all {_signed_in['count']} staff signed in: statistics reset, measuring",
              flush=True)
        all_signed_in.set()


def _fold(text: str) -> str:
    import unicodedata

    text = text.replace("đ", "d").replace("Đ", "D")
    return "".join(c for c in unicodedata.normalize("NFD", text)
                   if unicodedata.category(c) != "Mn").lower()


class Staff(HttpUser):
    wait_time = between(3, 7)

    def on_start(self):
        number = next(_signed_in["numbers"])
        self.username = f"bench.staff{number:02d}"
        page = self.client.get("/admin/login/", name="sign in (page)")
        token = CSRF_INPUT.search(page.text).group(1)
        with self.client.post("/admin/login/", {"username": self.username, "password": PASSWORD,
                                                "csrfmiddlewaretoken": token},
                              name="sign in (POST)", allow_redirects=False,
                              catch_response=True) as response:
            if response.status_code != 302:
                response.failure(f"{self.username} could not sign in: {response.status_code}")
        # Signing in lands on the dashboard, as in the browser: its figures (the shop's and
        # each person's own card) are computed here, before the measured window.
        self.client.get("/admin/", name="sign in (dashboard)")
        _one_signed_in(self.environment)
        all_signed_in.wait()
        self.code = None

    # --- helpers ---------------------------------------------------------------------------

    def customer(self) -> dict:
        return random.choice(SAMPLES["customers"])

    def get(self, path, name, **kwargs):
        with self.client.get(path, name=name, catch_response=True, **kwargs) as response:
            if response.status_code != 200:
                response.failure(f"HTTP {response.status_code}")
            elif "/admin/login/" in response.url:
                response.failure("signed out")
            return response

    def htmx(self, path, name, **kwargs):
        return self.get(path, name, headers={"HX-Request": "true"}, **kwargs)

    def customer_list_page(self, name, params=None, htmx=True):
        """The list's rows, then its count of matches, which the page asks for by htmx
        once the rows are shown (TenantListView.lazy_count): as a browser does."""
        params = params or {}
        (self.htmx if htmx else self.get)("/admin/customers/", name, params=params)
        self.htmx("/admin/customers/", "list: count of matches (htmx, after the rows)",
                  params={**params, "_panel": "count"})

    # --- what a person does ----------------------------------------------------------------

    @task(3)
    def search_name(self):
        full = self.customer()["name"]
        words = full.split()
        query = random.choice([full, f"{words[0]} {words[-1]}", _fold(" ".join(words[-2:]))])
        self.customer_list_page("list: search by name", {"q": query})

    @task(2)
    def search_phone(self):
        national = "0" + self.customer()["phone"][3:]
        self.customer_list_page("list: search by phone",
                                {"q": f"{national[:4]} {national[4:7]} {national[7:]}"})

    @task(2)
    def search_last_digits(self):
        self.customer_list_page("list: search by last 4 digits",
                                {"q": self.customer()["phone"][-4:]})

    @task(1)
    def customer_list(self):
        self.customer_list_page("list: first page (full page)", htmx=False)

    @task(4)
    def open_profile(self):
        self.code = self.customer()["code"]
        self.get(f"/admin/customers/{self.code}/", "profile (full page)")

    @task(3)
    def open_tab(self):
        code = self.code or self.customer()["code"]
        name, path = random.choice([
            ("activity", f"/admin/customers/{code}/activity/"),
            ("history", f"/admin/customers/{code}/history/"),
            ("orders", f"/admin/orders/customer/{code}/orders/"),
            ("related", f"/admin/orders/customer/{code}/related/"),
            ("returns", f"/admin/orders/customer/{code}/returns/"),
            ("debt", f"/admin/orders/customer/{code}/debt/"),
            ("points", f"/admin/loyalty/customer/{code}/"),
        ])
        self.htmx(path, f"profile tab: {name}")

    @task(1)
    def change_care_status(self):
        code = self.code or self.customer()["code"]
        with self.client.post(f"/admin/customers/{code}/care-status/",
                              {"status": random.choice(SAMPLES["care_statuses"])},
                              headers={"HX-Request": "true",
                                       "X-CSRFToken": self.client.cookies.get("csrftoken", "")},
                              name="care status change (POST)",
                              catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"HTTP {response.status_code}")

    @task(1)
    def dashboard(self):
        self.get("/admin/", "dashboard")


@events.quitting.add_listener
def _print_table(environment, **_kwargs):
    """Per endpoint, the measured window only: requests, failures, p50 / p95 / max."""
    stats = environment.stats
    rows = []
    for entry in sorted(stats.entries.values(), key=lambda e: e.name):
        if not entry.num_requests:  # the sign-ins, before the window
            continue
        rows.append((entry.name, entry.num_requests, entry.num_failures,
                     entry.get_response_time_percentile(0.5),
                     entry.get_response_time_percentile(0.95), entry.max_response_time))
    total = stats.total
    rows.append(("ALL", total.num_requests, total.num_failures,
                 total.get_response_time_percentile(0.5),
                 total.get_response_time_percentile(0.95), total.max_response_time))
    header = ("endpoint", "requests", "failures", "p50 ms", "p95 ms", "max ms", "p95 <= 300")
    table = [header] + [(name, str(n), str(f), f"{p50:.0f}", f"{p95:.0f}", f"{mx:.0f}",
                         "yes" if p95 <= GOAL_P95_MS else "NO")
                        for name, n, f, p50, p95, mx in rows]
    widths = [max(len(r[i]) for r in table) for i in range(len(header))]
    window = stats.last_request_timestamp - stats.start_time if stats.last_request_timestamp \
        else 0
    print(f"\nmeasured window: {window:.0f} s, {total.num_requests / window if window else 0:.1f}"
          " requests/s")
    for index, row in enumerate(table):
        print(" | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))
        if index == 0:
            print("-+-".join("-" * w for w in widths))
    for error in stats.errors.values():
        print(f"error: {error.method} {error.name}: {error.error} x{error.occurrences}")
    failed = total.num_failures or any(r[4] > GOAL_P95_MS for r in rows)
    print(f"goal p95 <= {GOAL_P95_MS} ms per endpoint and 0 errors: "
          f"{'NOT met' if failed else 'met'}")
    if failed:
        environment.process_exit_code = 1
