"""Money as Vietnamese shops type it: read to whole đồng, or refused, never guessed."""

import pytest
from django import forms
from django.utils import translation

from crm.forms import ShopSettingsForm
from crm.money import MAX_AMOUNT, MoneyField, MoneyInput, MoneyParseError, parse_money

ACCEPTED = [
    ("220000", 220_000),
    ("220.000", 220_000),
    ("220,000", 220_000),
    ("220 000", 220_000),
    ("220k", 220_000),
    ("220K", 220_000),
    ("  220k  ", 220_000),
    ("220 nghìn", 220_000),
    ("220.000đ", 220_000),
    ("220.000 ₫", 220_000),
    ("220000 VND", 220_000),
    ("220.000 vnđ", 220_000),
    ("220.000 đồng", 220_000),
    ("1.500.000", 1_500_000),
    ("1,500,000", 1_500_000),
    ("1\u00a0500\u00a0000 ₫", 1_500_000),  # a non-breaking space, as copied from a page
    ("1.5tr", 1_500_000),
    ("1,5tr", 1_500_000),
    ("1,5 triệu", 1_500_000),
    ("2 triệu", 2_000_000),
    ("2tr5", 2_500_000),  # spoken: "hai triệu rưỡi"
    ("1tr250", 1_250_000),
    ("0.5k", 500),
    ("1 tỷ", 1_000_000_000),
    ("1tỷ2", 1_200_000_000),
    ("0", 0),
    ("000", 0),
    ("-5.000", -5_000),  # read; the field's minimum refuses it
]

REFUSED = [
    "abc", "12.34.5", "1.5", "220.5", "220,5", "5.0000", ".500", "1.", "1.500,000",
    "1.500k",  # 1.500 thousand or 1,5 thousand? refused rather than guessed
    "1,2345k",  # 1.234,5 đồng: not whole đồng
    "1e6", "-", "k", "đ", "220 000 000 0", "١٢٣",  # Arabic-Indic digits are not ours
]


@pytest.mark.parametrize(("typed", "amount"), ACCEPTED)
def test_accepted(typed, amount):
    assert parse_money(typed) == amount


@pytest.mark.parametrize("typed", REFUSED)
def test_refused(typed):
    with pytest.raises(MoneyParseError):
        parse_money(typed)


@pytest.mark.parametrize("typed", ["", "   "])
def test_empty_is_none(typed):
    assert parse_money(typed) is None


def clean(field: MoneyField, value):
    with translation.override("en"):
        try:
            return field.clean(value)
        except forms.ValidationError as error:
            return error.messages


def test_field_cleans_to_int_and_refuses_with_a_clear_message():
    field = MoneyField()
    assert clean(field, "220.000") == 220_000
    assert clean(field, 220_000) == 220_000
    assert clean(field, "1.5") == [
        "“1.5” is not an amount. Type it like 220.000, 220000 or 220k."]
    assert clean(field, "") == ["This field is required."]
    assert MoneyField(required=False).clean("") is None


def test_field_limits():
    assert clean(MoneyField(), "-5.000") == ["The amount cannot be negative."]
    assert clean(MoneyField(min_value=1), "0") == ["The amount must be at least 1 ₫."]
    assert clean(MoneyField(min_value=10_000), "5k") == ["The amount must be at least 10.000 ₫."]
    assert clean(MoneyField(), str(MAX_AMOUNT + 1)) == [
        "The amount must be at most 1.000.000.000.000 ₫."]
    assert clean(MoneyField(min_value=None), "-5k") == -5_000


def test_long_garbage_is_cut_in_the_message():
    (message,) = clean(MoneyField(), "x" * 200)
    assert len(message) < 120


def test_has_changed_reads_the_amount():
    field = MoneyField(required=False)
    assert not field.has_changed(None, "")
    assert not field.has_changed(220_000, "220.000")
    assert field.has_changed(220_000, "221k")
    assert field.has_changed(0, "abc")


def test_widget_is_a_grouped_text_box():
    html = MoneyInput().render("price", 1_500_000)
    assert 'type="text"' in html and 'inputmode="numeric"' in html
    assert 'autocomplete="off"' in html and "data-money" in html
    assert 'value="1.500.000"' in html
    assert 'type="number"' not in html


@pytest.mark.parametrize(("posted", "shown"), [
    ("220k", "220.000"),  # what was read, when the form comes back for another error
    ("220000", "220.000"),
    ("1.5", "1.5"),  # unreadable: as typed, so the user can correct it
    ("", None),
])
def test_widget_shows_posted_values(posted, shown):
    assert MoneyInput().format_value(posted) == shown


def test_bound_form_renders_what_was_typed():
    class F(forms.Form):
        price = MoneyField()

    form = F({"price": "12.34.5"})
    assert not form.is_valid()
    assert 'value="12.34.5"' in str(form["price"])


@pytest.mark.django_db
def test_shop_settings_vip_threshold(tenant):
    form = ShopSettingsForm(instance=tenant)
    assert 'value="30.000.000"' in str(form["vip_threshold"])
    data = {"name": "Shop", "vip_threshold": "50.000.000", "vip_window_months": 2}
    form = ShopSettingsForm(data, instance=tenant)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["vip_threshold"] == 50_000_000
    form = ShopSettingsForm({**data, "vip_threshold": "50tr5"}, instance=tenant)
    assert form.is_valid() and form.cleaned_data["vip_threshold"] == 50_500_000
    for bad in ("-1", "30.000.00", "nhiều"):
        form = ShopSettingsForm({**data, "vip_threshold": bad}, instance=tenant)
        assert not form.is_valid() and "vip_threshold" in form.errors


@pytest.mark.django_db
def test_settings_page_shows_and_saves_the_threshold_grouped(login, owner):
    client = login(owner)
    assert 'value="30.000.000"' in client.get("/admin/settings/").content.decode()
    response = client.post("/admin/settings/", {
        "name": "Shop A", "vip_threshold": "45.000.000 đ", "vip_window_months": 2})
    assert response.status_code == 302
    owner.tenant.refresh_from_db()
    assert owner.tenant.vip_threshold == 45_000_000
    body = client.post("/admin/settings/", {
        "name": "Shop A", "vip_threshold": "45.000.00", "vip_window_months": 2,
    }).content.decode()
    assert "“45.000.00”" in body and "220k" in body
    owner.tenant.refresh_from_db()
    assert owner.tenant.vip_threshold == 45_000_000
