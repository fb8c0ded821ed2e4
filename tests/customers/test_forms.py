"""customers.forms: the tags card's widgets (chips, one labelled group each)."""

import pytest

from customers.forms import CustomerCreateForm
from customers.models import Tag, TagGroup

pytestmark = pytest.mark.django_db


@pytest.fixture
def groups(tenant):
    many = TagGroup.objects.create(tenant=tenant, name="Mặt hàng", multiple=True)
    one = TagGroup.objects.create(tenant=tenant, name="Quy mô", multiple=False, position=1)
    tags = {name: Tag.objects.create(tenant=tenant, group=group, name=name)
            for group, name in [(many, "Trà"), (many, "Cà phê"), (one, "Nhỏ"), (one, "Lớn")]}
    return many, one, tags


def test_tag_groups_render_as_chips_not_form_checks(manager, tenant, groups):
    many, one, tags = groups
    form = CustomerCreateForm(tenant=tenant, actor=manager)
    fields = {f.name: f for f in form.tag_fields()}
    html_many = str(fields[f"tags_{many.pk}"])
    html_one = str(fields[f"tags_{one.pk}"])
    assert "form-check-input" not in html_many + html_one
    assert html_many.count('type="checkbox" class="btn-check"') == 2
    assert html_many.count('class="chip"') == 2
    # A one-choice group: radios, the first chip clears the group and is checked by default.
    assert html_one.count('type="radio" class="btn-check"') == 3
    assert 'value="" id=' in html_one and "checked" in html_one.split('class="chip"')[0]
    assert fields[f"tags_{one.pk}"].field.single


def test_tag_chips_save_many_and_one(manager, tenant, groups):
    many, one, tags = groups
    data = {"full_name": "Nguyễn Văn Đức", "phone": "0912345678", "country": "VN",
            "lifecycle_stage": "new", "membership_state": "guest",
            f"tags_{many.pk}": [tags["Trà"].pk, tags["Cà phê"].pk],
            f"tags_{one.pk}": tags["Lớn"].pk}
    form = CustomerCreateForm(data, tenant=tenant, actor=manager)
    assert form.is_valid(), form.errors
    assert {t.name for t in form.service_data()["tags"]} == {"Trà", "Cà phê", "Lớn"}
    data[f"tags_{one.pk}"] = ""  # "Not set"
    form = CustomerCreateForm(data, tenant=tenant, actor=manager)
    assert form.is_valid(), form.errors
    assert {t.name for t in form.service_data()["tags"]} == {"Trà", "Cà phê"}
