import datetime
from zoneinfo import ZoneInfo

from crm.tables import Column
from crm.templatetags.crm_tags import dmy


def test_td_class_joins_the_cell_classes():
    assert Column("spend", "Spend", css="text-end", card=True).td_class == \
        "cell-spend cell-card text-end"
    assert Column("email", "Email").td_class == "cell-email"


def test_dmy_shows_the_day_in_vietnam():
    late = datetime.datetime(2026, 3, 31, 18, 30, tzinfo=datetime.UTC)  # 01:30 on 1 April
    assert dmy(late) == "01/04/2026"
    assert dmy(datetime.date(2026, 1, 5)) == "05/01/2026"
    assert dmy(None) == ""
    assert dmy(datetime.datetime(2026, 1, 5, 10, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))) == \
        "05/01/2026"


def test_form_fields_fill_rows_by_their_widths():
    from django import forms

    from crm.forms import StyledFormMixin

    class Contact(StyledFormMixin, forms.Form):
        widths = {"phone": 6, "email": 6, "zip": 4}
        name = forms.CharField()
        phone = forms.CharField()
        email = forms.CharField()
        zip = forms.CharField()
        token = forms.CharField(widget=forms.HiddenInput)

    form = Contact()
    assert [[(f.name, w) for f, w in row] for row in form.rows()] == [
        [("name", 12)], [("phone", 6), ("email", 6)], [("zip", 4)]]
    html = str(form)
    assert 'class="col-md-6"' in html and 'name="token"' in html and "<label" in html
