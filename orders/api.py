"""POST /api/v1/orders: sales channels send their orders (and re-send them to update).

Authentication: ``Authorization: Bearer kh_<prefix>_<secret>`` with a key created in
Settings › API keys; the key decides the shop. Idempotent on (channel, external_id): a
re-post of a known order updates its status and paid amount and answers 200; a new one
answers 201. Errors answer 400 with {"errors": {"field": ["message", ...]}}.
"""

import json

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.http import JsonResponse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from django_ratelimit.decorators import ratelimit

from crm.services import api_key_authenticate
from customers.normalize import normalize_phone

from . import services
from .models import Order, OrderStatus

MAX_LINES = 500


class OrderPayloadForm(forms.Form):
    channel = forms.CharField(max_length=40)
    external_id = forms.CharField(max_length=64)
    status = forms.ChoiceField(choices=[c for c in OrderStatus.choices
                                        if c[0] != OrderStatus.RETURNED])
    ordered_at = forms.CharField()
    delivered_at = forms.CharField(required=False)
    total_amount = forms.IntegerField(min_value=0, required=False)
    discount = forms.IntegerField(min_value=0, required=False)
    shipping_fee = forms.IntegerField(min_value=0, required=False)
    paid_amount = forms.IntegerField(min_value=0, required=False)
    note = forms.CharField(max_length=2000, required=False)

    def _moment(self, name):
        raw = self.cleaned_data.get(name)
        if not raw:
            return None
        value = parse_datetime(raw)
        if value is None:
            raise ValidationError(_("Use ISO 8601, e.g. 2026-11-25T14:05:00+07:00."))
        return value if timezone.is_aware(value) else timezone.make_aware(value)

    def clean_ordered_at(self):
        return self._moment("ordered_at")

    def clean_delivered_at(self):
        return self._moment("delivered_at")


def _key_of(group, request):
    return request.META.get("HTTP_AUTHORIZATION", "")[:24] or request.META.get("REMOTE_ADDR")


def _errors(errors: dict, status=400):
    return JsonResponse({"errors": errors}, status=status)


def _contact(payload, errors) -> dict:
    contact = payload.get("contact") or {}
    if not isinstance(contact, dict):
        errors["contact"] = [_("Must be an object with name, phone, email, address.")]
        return {}
    if contact.get("phone"):
        try:
            normalize_phone(str(contact["phone"]))
        except ValidationError as exc:
            errors["contact.phone"] = exc.messages
    if contact.get("email"):
        try:
            validate_email(str(contact["email"]))
        except ValidationError:
            errors["contact.email"] = [_("Enter a valid email address.")]
    return {k: str(contact.get(k) or "") for k in ("name", "phone", "email", "address")}


def _lines(payload, errors) -> list[dict]:
    lines = payload.get("lines") or []
    if not isinstance(lines, list) or len(lines) > MAX_LINES:
        errors["lines"] = [_("Must be a list of at most %(n)d lines.") % {"n": MAX_LINES}]
        return []
    clean = []
    for i, line in enumerate(lines):
        if not isinstance(line, dict):
            errors[f"lines[{i}]"] = [_("Must be an object.")]
            continue
        if not str(line.get("product_name") or "").strip():
            errors[f"lines[{i}].product_name"] = [_("This field is required.")]
        for name, minimum in (("quantity", 1), ("unit_price", 0)):
            value = line.get(name)
            if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
                errors[f"lines[{i}].{name}"] = [_("Must be a whole number of at least %(m)d.")
                                                % {"m": minimum}]
        clean.append({"product_name": str(line.get("product_name") or "")[:255],
                      "sku": str(line.get("sku") or "")[:64],
                      "quantity": line.get("quantity"), "unit_price": line.get("unit_price")})
    return clean


@csrf_exempt
@require_POST
@ratelimit(key=_key_of, rate="120/m", block=False)
def orders_ingest(request):
    if getattr(request, "limited", False):
        return _errors({"__all__": [_("Too many requests: at most 120 a minute.")]}, 429)
    header = request.META.get("HTTP_AUTHORIZATION", "")
    key = api_key_authenticate(header.removeprefix("Bearer ").strip())
    if key is None:
        return _errors({"__all__": [_("Missing, unknown or revoked API key.")]}, 401)
    tenant = key.tenant
    try:
        payload = json.loads(request.body or b"")
    except (json.JSONDecodeError, UnicodeDecodeError):
        return _errors({"__all__": [_("The body is not valid JSON.")]})
    if not isinstance(payload, dict):
        return _errors({"__all__": [_("The body must be a JSON object.")]})

    form = OrderPayloadForm({k: v for k, v in payload.items() if not isinstance(v, dict | list)})
    errors = {} if form.is_valid() else {k: list(v) for k, v in form.errors.items()}
    contact = _contact(payload, errors)
    lines = _lines(payload, errors)
    channel = None
    if "channel" not in errors:
        channel = services.channel_by_code(tenant, form.cleaned_data["channel"])
        if channel is None:
            errors["channel"] = [_("Unknown channel code for this shop.")]
    if errors:
        return _errors(errors)
    data = {**form.cleaned_data, "channel": channel, "contact": contact}
    if data.get("total_amount") is None and not lines:
        return _errors({"total_amount": [_("Give total_amount or the lines.")]})
    return _save(request, tenant, key, data, lines)


def _save(request, tenant, key, data, lines):
    existing = Order.objects.for_tenant(tenant).filter(
        channel=data["channel"], external_id=data["external_id"]).first()
    try:
        if existing is None:
            try:
                with transaction.atomic():
                    order = services.order_create(tenant=tenant, actor=None, data=data,
                                                  lines=lines)
                return JsonResponse(_body(order, created=True), status=201)
            except IntegrityError:
                # The same order arrived twice at once: the other request created it.
                existing = Order.objects.for_tenant(tenant).get(
                    channel=data["channel"], external_id=data["external_id"])
        order = existing
        if data["status"] != order.status:
            order = services.order_set_status(tenant=tenant, actor=None, order=order,
                                              status=data["status"],
                                              delivered_at=data.get("delivered_at"))
        paid = data.get("paid_amount")
        if paid is not None and paid > order.paid_amount:
            services.order_record_payment(tenant=tenant, actor=None, order=order,
                                          amount=paid - order.paid_amount,
                                          note=_("Sent by %(key)s") % {"key": key.name})
            order.refresh_from_db()
        return JsonResponse(_body(order, created=False), status=200)
    except ValidationError as error:
        if hasattr(error, "error_dict"):
            return _errors({k: [m for e in v for m in e.messages]
                            for k, v in error.error_dict.items()}, 409 if existing else 400)
        return _errors({"__all__": error.messages}, 409 if existing else 400)


def _body(order: Order, *, created: bool) -> dict:
    return {"code": order.code, "status": order.status, "created": created,
            "customer": order.customer.code if order.customer_id else None,
            "total_amount": order.total_amount, "paid_amount": order.paid_amount}
