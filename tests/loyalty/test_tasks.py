"""The nightly loyalty jobs (Celery runs eagerly in tests): one task per shop that runs a
program, expiry, tiers by spend, and the ledger check that reports without fixing."""

import datetime

import pytest
from dateutil.relativedelta import relativedelta
from django.utils import timezone

from crm.models import Tenant
from loyalty import tasks
from loyalty.models import LedgerCheck, LoyaltyAccount, Tier
from tests.loyalty.factories import account, balance, customer, give, order, program_on

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()


def test_the_nightly_job_queues_one_task_per_active_shop_with_a_program(tenant, other_tenant):
    closed = Tenant.objects.create(name="Đã đóng", slug="da-dong", is_active=False)
    Tenant.objects.create(name="Không tích điểm", slug="khong-tich-diem")
    for shop in (tenant, other_tenant, closed):
        program_on(shop)
    assert tasks.loyalty_nightly() == 2
    assert set(LedgerCheck.objects.values_list("tenant_id", flat=True)) == {
        tenant.pk, other_tenant.pk}


def test_one_shops_night_expires_then_checks_and_reports(tenant, caplog):
    program_on(tenant, expiry_months=12)
    c = customer(tenant)
    give(tenant, c, 100, effective_date=TODAY - relativedelta(months=13))
    give(tenant, c, 40)
    other = customer(tenant, "0912000002")
    give(tenant, other, 5)
    LoyaltyAccount.objects.filter(customer=other).update(balance=7)  # tampered with
    result = tasks.loyalty_nightly_shop(tenant.pk)
    assert result == {"expired": 100, "tiers_moved": 0, "mismatches": 1}
    assert balance(c) == 40 and balance(other) == 7  # reported, not fixed
    check = LedgerCheck.objects.get(tenant=tenant)
    assert check.details[0]["code"] == other.code
    assert "differ from their ledger" in caplog.text
    assert tasks.loyalty_nightly_shop(tenant.pk)["expired"] == 0


def test_tiers_by_spend_follow_the_sliding_12_months_at_night(tenant):
    program_on(tenant, tier_basis="spend", tiers_can_drop=True)
    c = customer(tenant)
    order(tenant, c, total=6_000_000,
          delivered_at=timezone.now() - relativedelta(months=12) + datetime.timedelta(days=1))
    assert account(c).tier.name == "Bạc"
    assert tasks.loyalty_nightly_shop(tenant.pk)["tiers_moved"] == 0
    # Two days later the delivery is more than 12 months old.
    with pytest.MonkeyPatch.context() as patch:
        later = timezone.now() + datetime.timedelta(days=2)
        patch.setattr(timezone, "now", lambda: later)
        assert tasks.loyalty_nightly_shop(tenant.pk)["tiers_moved"] == 1
    assert account(c).tier.name == "Đồng"


def test_tiers_refresh_task_moves_accounts_after_a_tier_change(tenant):
    program_on(tenant, tiers_can_drop=True)
    c = customer(tenant)
    give(tenant, c, 1_200)
    Tier.objects.filter(tenant=tenant, name="Bạc").update(threshold=1_500)
    assert tasks.tiers_refresh(tenant.pk) == 1
    assert account(c).tier.name == "Đồng"
