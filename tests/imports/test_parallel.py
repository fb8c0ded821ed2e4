"""The second process of a large import's parse: its result, its failure, its stop."""

import os
import time

import pytest

from imports import parallel


@pytest.fixture
def forking(monkeypatch):
    """Tests run in a worker that may hold a thread or two (pytest-xdist): the helper only
    computes, so a fork is safe here."""
    monkeypatch.setattr(parallel, "can_fork", lambda: True)


def squares(items):
    return [i * i for i in items]


def fails(items):
    raise ValueError("a bug in the work")


def sleeps(items):
    time.sleep(60)
    return items


def test_the_child_returns_its_work(forking):
    helper = parallel.Helper.start(squares, list(range(1000)))
    assert helper is not None and helper.pid != os.getpid()
    assert helper.result() == [i * i for i in range(1000)]


def test_a_child_that_fails_gives_none_for_the_parent_to_do_the_work(forking, caplog):
    helper = parallel.Helper.start(fails, [1, 2])
    assert helper.result() is None
    assert "the second process failed" in caplog.text


def test_a_stopped_child_is_killed_and_reaped(forking):
    helper = parallel.Helper.start(sleeps, [1])
    started = time.monotonic()
    helper.stop()
    assert time.monotonic() - started < 30
    with pytest.raises(ChildProcessError):
        os.waitpid(helper.pid, os.WNOHANG)


def test_no_child_where_forking_is_not_plain(settings, monkeypatch):
    settings.IMPORT_PROCESSES = 1
    assert parallel.Helper.start(squares, [1]) is None
    settings.IMPORT_PROCESSES = 2
    monkeypatch.setattr(parallel.threading, "active_count", lambda: 3)
    assert parallel.Helper.start(squares, [1]) is None


@pytest.mark.django_db(transaction=True)
def test_a_query_in_the_child_leaves_the_parents_connection_alone(forking, tenant):
    """The child is not meant to query; if it does, it opens a connection of its own (on
    PostgreSQL another session; on SQLite it may fail, and the parent does the work): the
    parent's session goes on as before."""
    from django.db import connection

    from customers.models import Customer
    from tests.customers.factories import CustomerFactory

    CustomerFactory(tenant=tenant)

    def session(items):
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("SELECT pg_backend_pid()")
                return cursor.fetchone()[0]
            return Customer.objects.count()

    mine = session([]) if connection.vendor == "postgresql" else None
    helper = parallel.Helper.start(session, [1])
    theirs = helper.result()
    if connection.vendor == "postgresql":
        assert theirs is not None and theirs != mine
    assert Customer.objects.count() == 1
    CustomerFactory(tenant=tenant)
    assert Customer.objects.count() == 2
