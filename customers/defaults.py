"""Default lists every new shop starts with (shops rename, reorder and add to them)."""

from django.db import transaction

from .models import CareStatus, Source, Tag, TagGroup

# (group name, group code, [(channel name, channel code)])
DEFAULT_SOURCES = [
    ("Kênh của shop", "shop", [("Website", "website"), ("Ứng dụng", "app"),
                               ("Tại cửa hàng", "in-store")]),
    ("Sàn TMĐT", "marketplace", [("Shopee", "shopee"), ("Lazada", "lazada"),
                                 ("TikTok Shop", "tiktok-shop"), ("GoMua", "gomua")]),
    ("Quảng cáo online", "ads", [("Facebook", "facebook-ads"), ("Google", "google-ads"),
                                 ("TikTok", "tiktok-ads")]),
    ("Người giới thiệu", "referral", []),
    ("Tiếp thị trực tiếp", "direct-marketing", []),
    ("Nhân viên tự chào", "staff-outreach", []),
    ("Khách tự liên hệ", "inbound", []),
    ("Khác", "other", [("Landing page", "landing-page"), ("Form liên hệ", "contact-form"),
                       ("File Excel", "excel")]),
]

# (group name, multiple, [tags])
DEFAULT_TAG_GROUPS = [
    ("Tính chất mua", True, ["Xuất khẩu", "Sỉ", "Lẻ", "Đại lý - NPP"]),
    ("Loại hình", True, ["Cá nhân", "Quán cà phê", "Tạp hóa", "Công ty sản xuất",
                         "Chuỗi siêu thị", "Khác"]),
    ("Mặt hàng", True, ["Trà", "Cà phê", "Đậu", "Khác"]),
]

DEFAULT_CARE_STATUSES = [
    ("Không liên lạc được", "#d63939"),
    ("Đã liên lạc", "#4299e1"),
    ("Không tiềm năng", "#868e96"),
    ("Tiềm năng", "#f59f00"),
    ("Chốt đơn", "#ae3ec9"),
    ("Đã chốt đơn", "#2fb344"),
]


@transaction.atomic
def seed_defaults(tenant) -> None:
    for g_pos, (group_name, group_code, channels) in enumerate(DEFAULT_SOURCES):
        group = Source.objects.create(tenant=tenant, name=group_name, code=group_code,
                                      position=g_pos)
        Source.objects.bulk_create(
            Source(tenant=tenant, parent=group, name=name, code=code, position=pos)
            for pos, (name, code) in enumerate(channels)
        )
    for g_pos, (group_name, multiple, tags) in enumerate(DEFAULT_TAG_GROUPS):
        group = TagGroup.objects.create(tenant=tenant, name=group_name, multiple=multiple,
                                        position=g_pos)
        Tag.objects.bulk_create(
            Tag(tenant=tenant, group=group, name=name, position=pos)
            for pos, name in enumerate(tags)
        )
    CareStatus.objects.bulk_create(
        CareStatus(tenant=tenant, name=name, color=color, position=pos)
        for pos, (name, color) in enumerate(DEFAULT_CARE_STATUSES)
    )
