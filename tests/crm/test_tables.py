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
