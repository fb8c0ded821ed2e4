"""Review findings on the import services: each test failed before its fix."""

import tempfile

import pytest

from imports import services
from imports.models import ImportJob

pytestmark = pytest.mark.django_db


class BrokenUpload:
    """An upload whose reading stops half-way (the client went away)."""

    name = "khach.csv"
    size = None

    def chunks(self):
        yield "Tên,SĐT\n".encode() * 100
        raise OSError("connection reset")


def test_an_upload_that_fails_half_way_leaves_no_temporary_file(tenant, manager, tmp_path,
                                                                 monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with pytest.raises(OSError):
        services.job_upload(tenant=tenant, actor=manager, uploaded_file=BrokenUpload(),
                            kind="customers")
    assert list(tmp_path.iterdir()) == []
    assert not ImportJob.objects.for_tenant(tenant).exists()
