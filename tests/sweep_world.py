"""Shop A's data for the isolation sweep, and how each backoffice URL gets its arguments.

SWEEP maps a URL name to None (no arguments) or to a function world -> kwargs that point
at shop A's objects. The intruder is a manager of shop B.
"""

from dataclasses import dataclass, field

from crm.access import SYSTEM
from crm.models import Role
from tests.crm.factories import MembershipFactory, TenantFactory


@dataclass
class World:
    tenant: object
    intruder: object
    objects: dict = field(default_factory=dict)
    markers: list = field(default_factory=list)


def build_world() -> World:
    shop_a = TenantFactory(name="Shop A", slug="shop-a")
    owner_a = MembershipFactory(tenant=shop_a, role=Role.OWNER)
    intruder = MembershipFactory(tenant=TenantFactory(name="Shop B", slug="shop-b"),
                                 role=Role.OWNER)
    world = World(tenant=shop_a, intruder=intruder, markers=["Shop A"])
    world.objects["owner"] = owner_a
    for builder in WORLD_BUILDERS:
        builder(world)
    return world


def _customers(world: World) -> None:
    from customers.services import customer_create
    from tests.customers.factories import (
        CareStatusFactory,
        SourceFactory,
        TagFactory,
        TagGroupFactory,
    )

    shop = world.tenant
    objects = world.objects
    objects["carestatus"] = CareStatusFactory(tenant=shop, name="Trạng thái riêng A")
    objects["source"] = SourceFactory(tenant=shop, name="Nguồn riêng A")
    objects["taggroup"] = TagGroupFactory(tenant=shop, name="Nhóm thẻ riêng A")
    objects["tag"] = TagFactory(tenant=shop, name="Thẻ riêng A", group=objects["taggroup"])
    objects["customer"] = customer_create(tenant=shop, actor=SYSTEM, data={
        "full_name": "Khách Riêng Của Shop A", "phone": "0912 000 111",
        "email": "rieng@shop-a.vn", "tags": [objects["tag"]],
        "care_status": objects["carestatus"], "source": objects["source"],
    })
    # A registration of that customer's phone from the public page, waiting in "Chờ duyệt".
    from crm.access import REGISTRATION
    from customers.services import registration_submit

    registration_submit(tenant=shop, actor=REGISTRATION, data={
        "full_name": "Đăng Ký Riêng Shop A", "phone": "0912 000 111"})
    objects["registration"] = objects["customer"].registration_requests.get()
    world.markers += ["Khách Riêng Của Shop A", "0912 000 111", "rieng@shop-a.vn",
                      "Đăng Ký Riêng Shop A",
                      "Trạng thái riêng A", "Nguồn riêng A", "Nhóm thẻ riêng A", "Thẻ riêng A"]


def _orders(world: World) -> None:
    from crm.services import api_key_create
    from orders.services import order_create

    shop = world.tenant
    world.objects["order"] = order_create(tenant=shop, actor=SYSTEM, data={
        "external_id": "EXT-RIENG-SHOP-A", "total_amount": 1_234_000, "status": "delivered",
        "contact": {"name": "Người Nhận Riêng Shop A", "phone": "0912 000 111"}})
    world.objects["apikey"], _secret = api_key_create(tenant=shop, actor=SYSTEM,
                                                      name="Khóa riêng Shop A")
    world.markers += ["EXT-RIENG-SHOP-A", "Người Nhận Riêng Shop A", "Khóa riêng Shop A"]


# Functions world -> None that create shop A's rows and markers, one per app.
WORLD_BUILDERS: list = [_customers, _orders]

SWEEP = {
    "crm:dashboard": None,
    "crm:switch_tenant": None,
    "crm:settings": None,
    "customers:customer_list": None,
    "customers:customer_create": None,
    "customers:customer_bulk": None,
    "customers:list_columns": None,
    "customers:ward_options": None,
    "customers:customer_lookup": None,
    "customers:pending_list": None,
    "customers:registration_request": lambda w: {"pk": w.objects["registration"].pk},
    "customers:member_from_contact": None,
    "customers:duplicates": None,
    "customers:merge": None,
    "orders:order_list": None,
    "orders:order_create": None,
    "orders:recompute": None,
    "orders:api_keys": None,
    "orders:api_key_revoke": lambda w: {"pk": w.objects["apikey"].pk},
    "orders:order_detail": lambda w: {"code": w.objects["order"].code},
    "orders:order_action": lambda w: {"code": w.objects["order"].code, "action": "status"},
}
for _name in ("customers:customer_detail", "customers:customer_info",
              "customers:customer_activity", "customers:customer_history",
              "customers:customer_edit", "customers:customer_care_status",
              "customers:customer_assign", "customers:customer_membership",
              "customers:customer_avatar",
              "orders:customer_orders", "orders:customer_related", "orders:customer_returns",
              "orders:customer_debt", "groups:customer_groups", "loyalty:customer_points"):
    SWEEP[_name] = lambda w: {"code": w.objects["customer"].code}
for _kind in ("source", "taggroup", "tag", "carestatus"):
    SWEEP[f"customers:lookup_list_{_kind}"] = None
    SWEEP[f"customers:lookup_create_{_kind}"] = None
    SWEEP[f"customers:lookup_edit_{_kind}"] = lambda w, k=_kind: {"pk": w.objects[k].pk}
    SWEEP[f"customers:lookup_move_{_kind}"] = lambda w, k=_kind: {"pk": w.objects[k].pk,
                                                                 "direction": "up"}


def _staff(world: World) -> None:
    from tests.crm.factories import UserFactory

    user = UserFactory(username="nhanvien-rieng-a", last_name="Nhân Viên", first_name="Riêng A",
                       email="nv-rieng@shop-a.vn")
    world.objects["member"] = MembershipFactory(tenant=world.tenant, user=user,
                                                role=Role.STAFF, phone="0913 555 777")
    world.markers += ["nhanvien-rieng-a", "Nhân Viên Riêng A", "nv-rieng@shop-a.vn",
                      "0913 555 777"]


WORLD_BUILDERS.append(_staff)
SWEEP.update({
    "crm:staff_list": None,
    "crm:staff_add": None,
    "crm:account": None,
    "crm:account_password": None,
})
for _name in ("crm:staff_member", "crm:staff_update", "crm:staff_active",
              "crm:staff_password", "crm:staff_unlock"):
    SWEEP[_name] = lambda w: {"pk": w.objects["member"].pk}


def _saved_filters(world: World) -> None:
    """A filter shop A's owner shares with the shop, and one they keep to themselves."""
    from groups.services import saved_filter_create

    shop, owner = world.tenant, world.objects["owner"]
    world.objects["savedfilter"] = saved_filter_create(
        tenant=shop, actor=owner, name="Bộ lọc chung Shop A", query="q=rieng-shop-a",
        shared=True)
    world.objects["savedfilter_private"] = saved_filter_create(
        tenant=shop, actor=owner, name="Bộ lọc riêng Shop A", query="q=rieng-tu-shop-a")
    world.markers += ["Bộ lọc chung Shop A", "rieng-shop-a", "Bộ lọc riêng Shop A"]


WORLD_BUILDERS.append(_saved_filters)
SWEEP.update({
    "groups:saved_filter_create": None,
    "groups:saved_filter_to_group": None,
})
for _name in ("groups:saved_filter_edit", "groups:saved_filter_delete",
              "groups:saved_filter_columns"):
    SWEEP[_name] = lambda w: {"pk": w.objects["savedfilter"].pk}


def _groups(world: World) -> None:
    """A group by conditions of shop A with a customer pinned in, and a fixed list."""
    from groups.services import group_create, group_pins_add

    shop, owner = world.tenant, world.objects["owner"]
    world.objects["group"] = group_create(tenant=shop, actor=owner, data={
        "name": "Nhóm riêng Shop A", "description": "Mô tả nhóm riêng Shop A",
        "rule": {"conditions": [{"field": "name", "op": "contains", "value": "Riêng"}]}})
    group_pins_add(tenant=shop, actor=owner, group=world.objects["group"],
                   customer_ids=[world.objects["customer"].pk], mode="include")
    world.objects["fixed_group"] = group_create(tenant=shop, actor=owner, data={
        "name": "Danh sách riêng Shop A", "kind": "fixed"})
    world.markers += ["Nhóm riêng Shop A", "Mô tả nhóm riêng Shop A", "Danh sách riêng Shop A"]


WORLD_BUILDERS.append(_groups)
SWEEP.update({
    "groups:group_list": None,
    "groups:group_create": None,
    "groups:group_count": None,
    "groups:group_bulk": None,
})
for _name in ("groups:group_detail", "groups:group_edit", "groups:group_status",
              "groups:group_recompute", "groups:group_archive", "groups:group_restore",
              "groups:group_pin_add", "groups:group_pin_remove"):
    SWEEP[_name] = lambda w: {"pk": w.objects["group"].pk}
SWEEP["groups:group_explain"] = lambda w: {"pk": w.objects["group"].pk,
                                           "code": w.objects["customer"].code}


def _loyalty(world: World) -> None:
    """Shop A runs a loyalty program with a tier of its own; its customer holds points
    given by hand with a reason only shop A should see."""
    from loyalty import services

    shop, owner = world.tenant, world.objects["owner"]
    services.program_save(tenant=shop, actor=owner, data={"enabled": True})
    world.objects["tier"] = services.tier_save(tenant=shop, actor=owner, tier=None, data={
        "name": "Hạng riêng Shop A", "threshold": 77_777, "color": "#123456"})
    services.points_adjust(tenant=shop, actor=owner, customer=world.objects["customer"],
                           delta=4_321, reason="Lý do điểm riêng Shop A")
    world.markers += ["Hạng riêng Shop A", "Lý do điểm riêng Shop A", "77.777"]


WORLD_BUILDERS.append(_loyalty)
SWEEP.update({
    "loyalty:program": None,
    "loyalty:program_edit": None,
    "loyalty:tier_add": None,
})
for _name in ("loyalty:tier_edit", "loyalty:tier_delete"):
    SWEEP[_name] = lambda w: {"pk": w.objects["tier"].pk}
for _name in ("loyalty:customer_points", "loyalty:points_adjust"):
    SWEEP[_name] = lambda w: {"code": w.objects["customer"].code}


def _imports(world: World) -> None:
    """Shop A has imported a file (whose name only shop A should see), saved a mapping
    template, and has an export job of its owner."""
    import io

    import openpyxl
    from django.core.files.base import ContentFile
    from django.core.files.uploadedfile import SimpleUploadedFile

    from imports import services
    from imports.models import ExportJob, ImportState

    shop, owner = world.tenant, world.objects["owner"]
    book = openpyxl.Workbook()
    book.active.append(["Tên khách hàng", "Điện thoại"])
    book.active.append(["Khách Nhập Riêng Shop A", "0912000444"])
    buffer = io.BytesIO()
    book.save(buffer)
    job = services.job_upload(tenant=shop, actor=owner, kind="customers", uploaded_file=(
        SimpleUploadedFile("file-rieng-shop-a.xlsx", buffer.getvalue())))
    world.objects["import_job"] = job
    world.objects["mapping_template"] = services.template_save(
        tenant=shop, actor=owner, job=job, name="Mẫu riêng Shop A")
    export = ExportJob.objects.create(tenant=shop, kind="customers", created_by=owner.user,
                                      state=ImportState.DONE, file_name="xuat-rieng-a.xlsx")
    export.file.save("xuat-rieng-a.xlsx", ContentFile(b"PK"), save=True)
    world.objects["export_job"] = export
    world.markers += ["file-rieng-shop-a", "Mẫu riêng Shop A", "xuat-rieng-a"]


WORLD_BUILDERS.append(_imports)
SWEEP.update({
    "imports:list": None,
    "imports:upload": None,
    "imports:template_workbook": None,
    "imports:export_customers": None,
    "imports:export_orders": None,
    "imports:export_ledger": None,
})
for _name in ("imports:job", "imports:job_sheet", "imports:job_mapping", "imports:job_progress",
              "imports:job_run", "imports:job_cancel", "imports:job_errors"):
    SWEEP[_name] = lambda w: {"pk": w.objects["import_job"].pk}
SWEEP["imports:template_delete"] = lambda w: {"pk": w.objects["mapping_template"].pk}
SWEEP["imports:export_group"] = lambda w: {"pk": w.objects["group"].pk}
for _name in ("imports:export_job", "imports:export_download"):
    SWEEP[_name] = lambda w: {"pk": w.objects["export_job"].pk}
