"""Export then import: the shop's customers come back unchanged, in .xlsx and .csv."""

import pytest
from django.http import QueryDict

from customers.models import CareStatus, Customer, Source, Tag
from customers.services import customer_create
from imports import exports, services

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(tenant, lists, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return tenant


def _customers(shop, manager):
    status = CareStatus.objects.for_tenant(shop).first()
    source = Source.objects.for_tenant(shop).filter(parent__isnull=False).first()
    tags = list(Tag.objects.for_tenant(shop)[:2])
    customer_create(tenant=shop, actor=manager, data={
        "full_name": "Nguyễn Thị Lan", "phone": "0912345678", "email": "lan@example.com",
        "gender": "female", "birth_day": 15, "birth_month": 8, "birth_year": 1990,
        "company": "=SUM(A1)", "note": "+ khách quen, @zalo", "province_code": 1,
        "care_status": status, "source": source, "tags": tags, "tax_code": "0101234567"})
    customer_create(tenant=shop, actor=manager, data={
        "full_name": "Trần Văn Bình", "phone": "0987654321", "birth_day": 3, "birth_month": 2,
        "street": "-12 Hàng Bạc", "national_id": "001090012345"})


def _snapshot(shop):
    rows = []
    for c in Customer.objects.for_tenant(shop).order_by("number").prefetch_related("tags"):
        rows.append((c.code, c.full_name, c.phone_normalized, c.email, c.gender, c.birth_day,
                     c.birth_month, c.birth_year, c.company, c.note, c.province_code,
                     c.care_status_id, c.source_id, c.street, c.tax_code, c.national_id,
                     sorted(t.pk for t in c.tags.all())))
    return rows


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_an_export_imported_back_changes_nothing(shop, manager, tmp_path, fmt):
    _customers(shop, manager)
    before = _snapshot(shop)
    response = exports.export_customers(tenant=shop, actor=manager,
                                        params=QueryDict("columns=all"), fmt=fmt)
    content = b"".join(response.streaming_content)
    path = tmp_path / f"xuat.{fmt}"
    path.write_bytes(content)
    job, summary = services.import_path(tenant=shop, actor=manager, path=path)
    assert summary.errors == []
    assert (summary.created, summary.updated, summary.unchanged) == (0, 0, 2), job.mapping
    assert _snapshot(shop) == before
