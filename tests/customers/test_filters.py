import datetime

import pytest
from django.utils import timezone

from customers.filters import customer_filterset
from customers.models import Customer, CustomerTag
from tests.customers.factories import CustomerFactory, TagFactory

pytestmark = pytest.mark.django_db


def names(tenant, **params):
    fs = customer_filterset()(params, queryset=Customer.objects.for_tenant(tenant), tenant=tenant)
    return set(fs.qs.values_list("full_name", flat=True))


def test_filter_by_care_status_lifecycle_membership(tenant, lists):
    s1, s2 = lists["care_statuses"][:2]
    CustomerFactory(tenant=tenant, full_name="A", care_status=s1, lifecycle_stage="potential")
    CustomerFactory(tenant=tenant, full_name="B", care_status=s2, membership_state="pending")
    assert names(tenant, care_status=[s1.pk]) == {"A"}
    assert names(tenant, care_status=[s1.pk, s2.pk]) == {"A", "B"}
    assert names(tenant, lifecycle_stage=["potential"]) == {"A"}
    assert names(tenant, membership_state=["pending"]) == {"B"}


def test_filter_source_group_includes_its_channels(tenant, lists):
    shopee = lists["sources"].get(code="shopee")
    website = lists["sources"].get(code="website")
    CustomerFactory(tenant=tenant, full_name="S", source=shopee)
    CustomerFactory(tenant=tenant, full_name="W", source=website)
    assert names(tenant, source=[shopee.parent_id]) == {"S"}
    assert names(tenant, source=[website.pk]) == {"W"}


def test_filter_tags_any_and_all(tenant):
    t1, t2 = TagFactory(tenant=tenant), TagFactory(tenant=tenant)
    both = CustomerFactory(tenant=tenant, full_name="both")
    one = CustomerFactory(tenant=tenant, full_name="one")
    for c, t in ((both, t1), (both, t2), (one, t1)):
        CustomerTag.objects.create(tenant=tenant, customer=c, tag=t)
    assert names(tenant, tags=[t1.pk, t2.pk]) == {"both", "one"}
    assert names(tenant, tags=[t1.pk, t2.pk], tags_mode="all") == {"both"}


def test_filter_staff_collaborator_province_gender_birth_month(tenant, staff, collaborator):
    CustomerFactory(tenant=tenant, full_name="X", assigned_staff=staff, province_code=79,
                    gender="female", birth_month=8, birth_day=15)
    CustomerFactory(tenant=tenant, full_name="Y", collaborator=collaborator, gender="")
    assert names(tenant, assigned_staff=[staff.pk]) == {"X"}
    assert names(tenant, collaborator=[collaborator.pk]) == {"Y"}
    assert names(tenant, province_code=[79]) == {"X"}
    assert names(tenant, gender=["female"]) == {"X"}
    assert names(tenant, gender=["unknown"]) == {"Y"}
    assert names(tenant, birth_month=[8]) == {"X"}


def test_filter_created_range_uses_vietnam_days(tenant):
    c = CustomerFactory(tenant=tenant, full_name="late")
    # 23:30 on 01/03/2026 in Hà Nội is still 01/03 there (16:30 UTC).
    at = timezone.make_aware(datetime.datetime(2026, 3, 1, 23, 30))
    Customer.objects.filter(pk=c.pk).update(created_at=at)
    assert names(tenant, created_from="01/03/2026", created_to="01/03/2026") == {"late"}
    assert names(tenant, created_from="02/03/2026") == set()


def test_filter_choices_of_other_shop_are_refused(tenant, other_tenant, lists):
    foreign = TagFactory(tenant=other_tenant)
    fs = customer_filterset()({"tags": [foreign.pk]}, queryset=Customer.objects.for_tenant(tenant),
                           tenant=tenant)
    assert not fs.form.is_valid()
    assert foreign not in fs.form.fields["tags"].queryset


MODE_FILTERS = {"tags_mode", "ordered_mode", "noted_mode"}  # "how to match", not a filter: no "All"


@pytest.mark.parametrize("filterset_path", ["customers.filters.customer_filterset",
                                            "orders.filters.OrderFilterSet"])
def test_every_filter_select_reads_all_when_empty(tenant, filterset_path):
    """An empty filter select says "Tất cả" (single: its empty choice; many: the placeholder
    Tom Select shows), and every select is the small size of the other filter boxes."""
    from django import forms
    from django.utils import translation
    from django.utils.module_loading import import_string

    cls = import_string(filterset_path)
    cls = cls() if filterset_path.endswith("customer_filterset") else cls
    with translation.override("vi"):
        form = cls({}, tenant=tenant).form
        selects = [f for f in form if isinstance(f.field.widget, forms.Select)]
        assert selects
        for bound in selects:
            if bound.name in MODE_FILTERS:
                continue
            html = str(bound)
            assert "form-select-sm" in html, bound.name
            if isinstance(bound.field.widget, forms.SelectMultiple):
                assert 'placeholder="Tất cả"' in html, bound.name
            else:
                first = next(iter(bound.field.widget.choices))
                assert (str(first[0]), str(first[1])) == ("", "Tất cả"), bound.name


def test_single_valued_filters_add_no_distinct(tenant, lists):
    """Care status, stage and membership hold one value per customer: the filtered list
    needs no SELECT DISTINCT (with it PostgreSQL sorted every match before the page's
    LIMIT), and a customer is still listed once when several values are chosen."""
    s1, s2 = lists["care_statuses"][:2]
    CustomerFactory(tenant=tenant, full_name="A", care_status=s1, lifecycle_stage="new")
    params = {"care_status": [s1.pk, s2.pk], "lifecycle_stage": ["new", "potential"],
              "membership_state": ["guest", "pending"]}
    fs = customer_filterset()(params, queryset=Customer.objects.for_tenant(tenant), tenant=tenant)
    assert not fs.qs.query.distinct
    assert list(fs.qs.values_list("full_name", flat=True)) == ["A"]


def test_the_list_builds_only_the_boxes_its_query_fills(tenant):
    assert set(customer_filterset({"province_code", "q", "sort"}).base_filters) == \
        {"province_code"}
    assert set(customer_filterset({"tags"}).base_filters) == {"tags", "tags_mode"}
    assert set(customer_filterset({"spend_min"}).base_filters) == {"spend_min", "spend_max"}
    assert len(customer_filterset().base_filters) > 30  # the panel: every box
