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
