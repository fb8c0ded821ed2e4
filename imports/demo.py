"""The demo shop's import history: a small customer file from its old system imported by
the manager (through the services, as the screens do), and the mapping saved as a
template for the next file."""

import io

import openpyxl
from django.core.files.uploadedfile import SimpleUploadedFile

from crm import access
from crm.models import Role

from . import services

DEMO_FILE = "khach-hang-kiotviet.xlsx"
DEMO_ROWS = [
    ["KH-KV-001", "Võ Thị Hạnh", "0912.604.118", "hanh.vo@example.com", "12/04/1988", "Nữ",
     "Bình Dương", "Sỉ, Cà phê", "Khách chuyển từ KiotViet"],
    ["KH-KV-002", "Đặng Quốc Huy", "84 903 117 245", "", "1/9/92", "nam", "TP HCM",
     "Lẻ", ""],
    ["KH-KV-003", "Lý Ngọc Trâm", "936118004", "", "23/11", "NỮ", "Thừa Thiên Huế", "Trà", ""],
    ["KH-KV-004", "Phan Minh Tú", "0988 220 117 / 0243 826 1111", "tu.phan@example.com", "",
     "", "Hà Nội", "", "Hai số: di động và bàn"],
    ["KH-KV-005", "Khách lỗi", "12345", "", "31/02/1990", "", "", "", ""],
]
DEMO_HEADERS = ["Mã khách hàng", "Tên khách hàng", "Điện thoại", "Email", "Ngày sinh",
                "Giới tính", "Khu vực", "Nhóm khách hàng", "Ghi chú"]


def seed_demo_import(tenant, memberships, count: int) -> None:
    actor = memberships.get(Role.MANAGER, access.SYSTEM)
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["DANH SÁCH KHÁCH HÀNG"])
    sheet.append(DEMO_HEADERS)
    for row in DEMO_ROWS:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    job = services.job_upload(tenant=tenant, actor=actor, kind="customers",
                              uploaded_file=SimpleUploadedFile(DEMO_FILE, buffer.getvalue()))
    job = services.job_configure(tenant=tenant, actor=actor, job=job, mapping=job.mapping,
                                 options={"mode": "skip_invalid"})
    services.template_save(tenant=tenant, actor=actor, job=job, name="KiotViet")
    job.state = "running"
    job.save(update_fields=["state"])
    services.execute(job, actor, dry_run=False)
