"""The Stripe emulator's account: its objects, the billing rules it plays out, and the events they raise.

Objects are plain dicts in the shape of the API version the `stripe` SDK pins (`2025-03-31.basil` and
later: an invoice names its subscription under `parent.subscription_details`, a subscription's period
lives on its items). Every operation is synchronous and runs on the event loop, so each is atomic; the
events it raises are queued for the webhook sender.
"""

from __future__ import annotations

import calendar
import copy
import secrets
import string
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from app.emulators.stripe_params import as_bool, as_int, metadata

API_VERSION = "2026-10-28.endive"
CHECKOUT_TTL = 24 * 3600
_ALPHABET = string.ascii_letters + string.digits

# Test cards, as Stripe documents them.
CARD_OK = "4242424242424242"
CARD_DECLINED = "4000000000000002"  # declined at checkout
CARD_FAILS_LATER = "4000000000000341"  # attaches, then every charge to it fails (renewals)


class StripeError(Exception):
    """An API error in Stripe's shape: `{"error": {"type", "message", "code"?, "param"?}}`."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        decline_code: str | None = None,
    ):
        super().__init__(message)
        self.status, self.message, self.type, self.code, self.param = status, message, type, code, param
        self.decline_code = decline_code

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"type": self.type, "message": self.message}
        for key in ("code", "param", "decline_code"):
            if getattr(self, key):
                error[key] = getattr(self, key)
        return {"error": error}


def missing(kind: str, object_id: str, param: str = "id") -> StripeError:
    return StripeError(404, f"No such {kind}: '{object_id}'", code="resource_missing", param=param)


def add_month(ts: int, months: int = 1) -> int:
    """A unix time moved by whole calendar months (31 Jan + 1 month = 28/29 Feb), as Stripe bills."""
    start = datetime.fromtimestamp(ts, UTC)
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    return int(start.replace(year=year, month=month, day=day).timestamp())


@dataclass
class Card:
    number: str

    @property
    def last4(self) -> str:
        return self.number[-4:]

    @property
    def brand(self) -> str:
        return {"4": "visa", "5": "mastercard", "3": "amex"}.get(self.number[:1], "unknown")


class StripeState:
    """One emulated Stripe account (test mode)."""

    def __init__(self, *, public_root: Callable[[], str], clock: Callable[[], float] = time.time):
        self.objects: dict[str, dict[str, Any]] = {}
        self.events: list[dict[str, Any]] = []
        self.cards: dict[str, Card] = {}  # payment method id -> card
        self.public_root = public_root
        self.clock = clock
        self._unsent: list[dict[str, Any]] = []
        self._seq = 0

    # -- basics -------------------------------------------------------------------------------------

    def now(self) -> int:
        return int(self.clock())

    def new_id(self, prefix: str, length: int = 24) -> str:
        return f"{prefix}_{''.join(secrets.choice(_ALPHABET) for _ in range(length))}"

    def get(self, object_id: str, kind: str, label: str | None = None, param: str = "id") -> dict[str, Any]:
        obj = self.objects.get(object_id or "")
        if obj is None or obj["object"] != kind:
            raise missing(label or kind.replace("_", " ").replace(".", " "), object_id, param)
        return obj

    def put(self, obj: dict[str, Any]) -> dict[str, Any]:
        if obj["id"] not in self.objects:
            self._seq += 1
            obj["_seq"] = self._seq  # creation order: lists are newest first, even within one second
        self.objects[obj["id"]] = obj
        return obj

    def listing(self, kind: str, url: str, match: Callable[[dict], bool], params: dict) -> dict[str, Any]:
        """A list object, newest first, with Stripe's `limit` / `starting_after` paging."""
        limit = as_int(params, "limit", 10)
        if not 1 <= limit <= 100:
            raise StripeError(400, "Invalid limit: must be between 1 and 100", param="limit")
        rows = [o for o in self.objects.values() if o["object"] == kind and match(o)]
        rows.sort(key=lambda o: o["_seq"], reverse=True)
        after = params.get("starting_after")
        if after:
            ids = [o["id"] for o in rows]
            if after not in ids:
                raise missing(kind, after, "starting_after")
            rows = rows[ids.index(after) + 1 :]
        return {"object": "list", "url": url, "has_more": len(rows) > limit, "data": rows[:limit]}

    def emit(self, type: str, obj: dict[str, Any], previous: dict[str, Any] | None = None) -> dict[str, Any]:
        """Record an event carrying a snapshot of `obj` (and what changed) and queue it for webhooks."""
        data: dict[str, Any] = {"object": public(obj)}
        if previous:
            data["previous_attributes"] = public(previous)
        event = {
            "id": self.new_id("evt"),
            "object": "event",
            "api_version": API_VERSION,
            "created": self.now(),
            "data": data,
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "type": type,
        }
        self.events.append(event)
        self.put(event)
        self._unsent.append(event)
        return event

    def take_unsent(self) -> list[dict[str, Any]]:
        events, self._unsent = self._unsent, []
        return events

    # -- customers, products, prices --------------------------------------------------------------

    def create_customer(self, params: dict) -> dict[str, Any]:
        customer = self.put(
            {
                "id": self.new_id("cus", 14),
                "object": "customer",
                "created": self.now(),
                "livemode": False,
                "email": params.get("email") or None,
                "name": params.get("name") or None,
                "description": params.get("description") or None,
                "metadata": metadata(params),
                "invoice_settings": {"default_payment_method": None},
                "balance": 0,
                "currency": None,
                "delinquent": False,
            }
        )
        self.emit("customer.created", customer)
        return customer

    def update_customer(self, customer_id: str, params: dict) -> dict[str, Any]:
        customer = self.get(customer_id, "customer")
        previous: dict[str, Any] = {}
        for key in ("email", "name", "description"):
            if key in params:
                previous[key] = customer[key]
                customer[key] = params[key] or None
        if "metadata" in params:
            previous["metadata"] = dict(customer["metadata"])
            customer["metadata"] = {**customer["metadata"], **metadata(params)}
            customer["metadata"] = {k: v for k, v in customer["metadata"].items() if v != ""}
        if previous:
            self.emit("customer.updated", customer, previous)
        return customer

    def create_product(self, params: dict, product_id: str | None = None) -> dict[str, Any]:
        name = params.get("name")
        if not name:
            raise StripeError(400, "Missing required param: name.", code="parameter_missing", param="name")
        product = self.put(
            {
                "id": product_id or params.get("id") or self.new_id("prod", 14),
                "object": "product",
                "created": self.now(),
                "livemode": False,
                "name": name,
                "active": as_bool(params, "active", True),
                "description": params.get("description") or None,
                "metadata": metadata(params),
            }
        )
        return product

    def create_price(self, params: dict, price_id: str | None = None) -> dict[str, Any]:
        if "product_data" in params:
            product = self.create_product(params["product_data"])
        else:
            product = self.get(params.get("product", ""), "product", param="product")
        currency = (params.get("currency") or "").lower()
        if not currency:
            raise StripeError(400, "Missing required param: currency.", code="parameter_missing", param="currency")
        amount = as_int(params, "unit_amount")
        if amount is None or amount < 0:
            raise StripeError(
                400, "Missing required param: unit_amount.", code="parameter_missing", param="unit_amount"
            )
        recurring = params.get("recurring")
        if recurring:
            interval = recurring.get("interval")
            if interval not in ("day", "week", "month", "year"):
                raise StripeError(400, f"Invalid recurring[interval]: {interval}", param="recurring[interval]")
            recurring = {
                "interval": interval,
                "interval_count": as_int(recurring, "interval_count", 1),
                "usage_type": "licensed",
            }
        lookup_key = params.get("lookup_key") or None
        if lookup_key:
            for other in self.objects.values():
                if other["object"] == "price" and other.get("lookup_key") == lookup_key:
                    if as_bool(params, "transfer_lookup_key", False):
                        other["lookup_key"] = None
                    else:
                        raise StripeError(
                            400,
                            f"A price (`{other['id']}`) already uses the lookup key `{lookup_key}`.",
                            param="lookup_key",
                        )
        return self.put(
            {
                "id": price_id or self.new_id("price"),
                "object": "price",
                "created": self.now(),
                "livemode": False,
                "active": as_bool(params, "active", True),
                "currency": currency,
                "unit_amount": amount,
                "unit_amount_decimal": str(amount),
                "product": product["id"],
                "nickname": params.get("nickname"),
                "lookup_key": lookup_key,
                "metadata": metadata(params),
                "billing_scheme": "per_unit",
                "recurring": recurring or None,
                "type": "recurring" if recurring else "one_time",
                "tax_behavior": "unspecified",
            }
        )

    def add_catalogue_price(
        self,
        price_id: str,
        *,
        name: str,
        unit_amount: int,
        currency: str = "usd",
        interval: str | None = None,
        lookup_key: str | None = None,
    ) -> dict[str, Any]:
        """A price (and its product) with a fixed id, as if made in the Dashboard beforehand."""
        if price_id in self.objects:
            return self.objects[price_id]
        product = self.create_product({"name": name})
        params: dict[str, Any] = {"product": product["id"], "currency": currency, "unit_amount": str(unit_amount)}
        if interval:
            params["recurring"] = {"interval": interval}
        if lookup_key:
            params["lookup_key"] = lookup_key
        return self.create_price(params, price_id=price_id)

    def price(self, price_id: str, param: str = "price") -> dict[str, Any]:
        return self.get(price_id, "price", param=param)

    # -- checkout -----------------------------------------------------------------------------------

    def create_checkout_session(self, params: dict) -> dict[str, Any]:
        mode = params.get("mode")
        if mode not in ("payment", "subscription"):
            if not mode:
                raise StripeError(400, "Missing required param: mode.", code="parameter_missing", param="mode")
            raise StripeError(
                400,
                f"Invalid mode: must be one of payment, setup, or subscription (setup is not emulated); got {mode}",
                param="mode",
            )
        success_url = params.get("success_url")
        if not success_url:
            raise StripeError(
                400, "Missing required param: success_url.", code="parameter_missing", param="success_url"
            )
        items = params.get("line_items")
        if not isinstance(items, list) or not items:
            raise StripeError(400, "Missing required param: line_items.", code="parameter_missing", param="line_items")
        lines = []
        for i, item in enumerate(items):
            if not isinstance(item, dict) or not item.get("price"):
                raise StripeError(
                    400, "Each line item needs a `price` (price_data is not emulated).", param=f"line_items[{i}][price]"
                )
            price = self.price(item["price"], f"line_items[{i}][price]")
            quantity = as_int(item, "quantity", 1)
            if quantity < 1:
                raise StripeError(400, "Quantity must be at least 1.", param=f"line_items[{i}][quantity]")
            if mode == "subscription" and price["type"] != "recurring":
                raise StripeError(
                    400,
                    "You must specify at least one recurring price in `subscription` mode when using prices.",
                    param=f"line_items[{i}][price]",
                )
            if mode == "payment" and price["type"] == "recurring":
                raise StripeError(
                    400,
                    "You specified `payment` mode but passed a recurring price. Either switch "
                    "to `subscription` mode or use only one-time prices.",
                    param=f"line_items[{i}][price]",
                )
            lines.append({"price": price["id"], "quantity": quantity})
        customer = params.get("customer") or None
        if customer:
            self.get(customer, "customer", param="customer")
            if params.get("customer_email"):
                raise StripeError(
                    400,
                    "You may only specify one of these parameters: customer, customer_email.",
                    param="customer_email",
                )
        amount = sum(self.objects[line["price"]]["unit_amount"] * line["quantity"] for line in lines)
        session_id = self.new_id("cs_test", 58)
        now = self.now()
        session = self.put(
            {
                "id": session_id,
                "object": "checkout.session",
                "created": now,
                "livemode": False,
                "expires_at": as_int(params, "expires_at", now + CHECKOUT_TTL),
                "mode": mode,
                "status": "open",
                "payment_status": "unpaid",
                "url": f"{self.public_root()}/c/pay/{session_id}",
                "success_url": success_url,
                "cancel_url": params.get("cancel_url") or None,
                "customer": customer,
                "customer_email": params.get("customer_email") or None,
                "customer_details": None,
                "client_reference_id": params.get("client_reference_id") or None,
                "metadata": metadata(params),
                "currency": self.objects[lines[0]["price"]]["currency"],
                "amount_subtotal": amount,
                "amount_total": amount,
                "subscription": None,
                "payment_intent": None,
                "invoice": None,
                "_lines": lines,
                "_subscription_metadata": metadata(params.get("subscription_data") or {}),
                "_payment_metadata": metadata(params.get("payment_intent_data") or {}),
            }
        )
        return session

    def line_items(self, session: dict) -> dict[str, Any]:
        data = []
        for line in session["_lines"]:
            price = self.objects[line["price"]]
            product = self.objects.get(price["product"], {})
            total = price["unit_amount"] * line["quantity"]
            data.append(
                {
                    "id": f"li_{session['id'][-20:]}{len(data)}",
                    "object": "item",
                    "price": price,
                    "quantity": line["quantity"],
                    "amount_total": total,
                    "amount_subtotal": total,
                    "currency": price["currency"],
                    "description": product.get("name"),
                }
            )
        return {
            "object": "list",
            "url": f"/v1/checkout/sessions/{session['id']}/line_items",
            "has_more": False,
            "data": data,
        }

    def expire_checkout_session(self, session_id: str) -> dict[str, Any]:
        session = self.get(session_id, "checkout.session", "checkout.session")
        if session["status"] != "open":
            raise StripeError(
                400,
                f"Only Checkout Sessions with a status of `open` can be expired; this one is `{session['status']}`.",
            )
        session["status"] = "expired"
        self.emit("checkout.session.expired", session)
        return session

    def open_session(self, session_id: str) -> dict[str, Any]:
        """The session a hosted checkout page shows; expired ones are marked so on the way."""
        session = self.get(session_id, "checkout.session", "checkout.session")
        if session["status"] == "open" and session["expires_at"] <= self.now():
            session["status"] = "expired"
            self.emit("checkout.session.expired", session)
        return session

    def pay_checkout(self, session_id: str, *, email: str, card_number: str, name: str = "") -> dict[str, Any]:
        """A person pays on the hosted page: the customer, the payment or the subscription and its first
        invoice, then `checkout.session.completed`. A declined card raises (nothing changes)."""
        session = self.open_session(session_id)
        if session["status"] != "open":
            raise StripeError(400, f"This Checkout Session is {session['status']}.")
        card = Card("".join(ch for ch in card_number if ch.isdigit()))
        if len(card.number) < 12:
            raise StripeError(402, "Your card number is incomplete.", type="card_error", code="incomplete_number")
        if card.number == CARD_DECLINED:
            raise StripeError(
                402, "Your card was declined.", type="card_error", code="card_declined", decline_code="generic_decline"
            )
        if session["customer"]:
            customer = self.objects[session["customer"]]
        else:
            customer = self.create_customer({"email": email or session["customer_email"] or "", "name": name})
            session["customer"] = customer["id"]
        method_id = self.new_id("pm")
        self.cards[method_id] = card
        customer["invoice_settings"]["default_payment_method"] = method_id
        session["customer_details"] = {"email": customer["email"] or email, "name": name or customer["name"]}
        if session["mode"] == "payment":
            intent = self._payment(
                customer,
                session["amount_total"],
                session["currency"],
                method_id,
                session["_payment_metadata"],
                "Checkout payment",
            )
            session["payment_intent"] = intent["id"]
        else:
            subscription = self._start_subscription(customer, session, method_id)
            session["subscription"] = subscription["id"]
            session["invoice"] = subscription["latest_invoice"]
        session["status"] = "complete"
        session["payment_status"] = "paid"
        self.emit("checkout.session.completed", session)
        return session

    # -- payments -----------------------------------------------------------------------------------

    def _payment(
        self,
        customer: dict,
        amount: int,
        currency: str,
        method_id: str,
        meta: dict,
        description: str,
        *,
        fail: bool = False,
    ) -> dict[str, Any]:
        """A PaymentIntent and its Charge; `fail` (or a card that fails charges) leaves both failed."""
        now = self.now()
        failed = fail or self.cards.get(method_id, Card(CARD_OK)).number == CARD_FAILS_LATER
        intent = self.put(
            {
                "id": self.new_id("pi"),
                "object": "payment_intent",
                "created": now,
                "livemode": False,
                "amount": amount,
                "amount_received": 0 if failed else amount,
                "currency": currency,
                "customer": customer["id"],
                "description": description,
                "metadata": dict(meta),
                "payment_method": method_id,
                "status": "requires_payment_method" if failed else "succeeded",
                "latest_charge": None,
                "last_payment_error": None,
            }
        )
        charge = self.put(
            {
                "id": self.new_id("ch"),
                "object": "charge",
                "created": now,
                "livemode": False,
                "amount": amount,
                "amount_captured": 0 if failed else amount,
                "amount_refunded": 0,
                "refunded": False,
                "captured": not failed,
                "paid": not failed,
                "status": "failed" if failed else "succeeded",
                "currency": currency,
                "customer": customer["id"],
                "payment_intent": intent["id"],
                "payment_method": method_id,
                "description": description,
                "metadata": dict(meta),
                "failure_code": "card_declined" if failed else None,
                "failure_message": "Your card was declined." if failed else None,
                "receipt_url": None,
                "billing_details": {"email": customer["email"], "name": customer["name"]},
            }
        )
        charge["receipt_url"] = f"{self.public_root()}/receipts/{charge['id']}"
        intent["latest_charge"] = charge["id"]
        if failed:
            intent["last_payment_error"] = {
                "type": "card_error",
                "code": "card_declined",
                "message": "Your card was declined.",
            }
            self.emit("charge.failed", charge)
            self.emit("payment_intent.payment_failed", intent)
        else:
            self.emit("charge.succeeded", charge)
            self.emit("payment_intent.succeeded", intent)
        return intent

    def create_refund(self, params: dict) -> dict[str, Any]:
        if params.get("charge"):
            charge = self.get(params["charge"], "charge", param="charge")
        elif params.get("payment_intent"):
            intent = self.get(params["payment_intent"], "payment_intent", param="payment_intent")
            charge = self.objects.get(intent["latest_charge"] or "")
            if charge is None or not charge["paid"]:
                raise StripeError(
                    400, "This PaymentIntent does not have a successful charge to refund.", param="payment_intent"
                )
        else:
            raise StripeError(
                400,
                "One of the following params should be provided for this request: payment_intent or charge.",
                code="parameter_missing",
            )
        remaining = charge["amount"] - charge["amount_refunded"]
        amount = as_int(params, "amount", remaining)
        if remaining <= 0:
            raise StripeError(400, f"Charge {charge['id']} has already been refunded.", code="charge_already_refunded")
        if amount <= 0 or amount > remaining:
            raise StripeError(
                400,
                f"Refund amount ({amount}) is greater than unrefunded amount on charge ({remaining})",
                param="amount",
            )
        refund = self.put(
            {
                "id": self.new_id("re"),
                "object": "refund",
                "created": self.now(),
                "amount": amount,
                "charge": charge["id"],
                "payment_intent": charge["payment_intent"],
                "currency": charge["currency"],
                "metadata": metadata(params),
                "reason": params.get("reason") or None,
                "status": "succeeded",
            }
        )
        previous = {"amount_refunded": charge["amount_refunded"], "refunded": charge["refunded"]}
        charge["amount_refunded"] += amount
        charge["refunded"] = charge["amount_refunded"] >= charge["amount"]
        self.emit("refund.created", refund)
        self.emit("charge.refunded", charge, previous)
        return refund

    # -- subscriptions and invoices -----------------------------------------------------------------

    def _start_subscription(self, customer: dict, session: dict, method_id: str) -> dict[str, Any]:
        now = self.now()
        end = add_month(now)
        sub_id = self.new_id("sub")
        items = []
        for line in session["_lines"]:
            items.append(
                {
                    "id": self.new_id("si", 14),
                    "object": "subscription_item",
                    "created": now,
                    "price": copy.deepcopy(self.objects[line["price"]]),
                    "quantity": line["quantity"],
                    "subscription": sub_id,
                    "current_period_start": now,
                    "current_period_end": end,
                    "metadata": {},
                }
            )
        subscription = self.put(
            {
                "id": sub_id,
                "object": "subscription",
                "created": now,
                "livemode": False,
                "customer": customer["id"],
                "status": "active",
                "start_date": now,
                "billing_cycle_anchor": now,
                "cancel_at_period_end": False,
                "cancel_at": None,
                "canceled_at": None,
                "ended_at": None,
                "cancellation_details": {"comment": None, "feedback": None, "reason": None},
                "collection_method": "charge_automatically",
                "currency": session["currency"],
                "default_payment_method": method_id,
                "latest_invoice": None,
                "metadata": dict(session["_subscription_metadata"]),
                "items": {
                    "object": "list",
                    "url": f"/v1/subscription_items?subscription={sub_id}",
                    "has_more": False,
                    "data": items,
                },
            }
        )
        self.emit("customer.subscription.created", subscription)
        invoice = self._invoice(subscription, "subscription_create", self._period_lines(subscription))
        self._collect(invoice, subscription)
        return subscription

    def _period_lines(self, subscription: dict) -> list[dict[str, Any]]:
        lines = []
        for item in subscription["items"]["data"]:
            price = item["price"]
            product = self.objects.get(price["product"], {})
            lines.append(
                self._line(
                    subscription,
                    item,
                    price,
                    price["unit_amount"] * item["quantity"],
                    f"{item['quantity']} × {product.get('name', 'Plan')} (at "
                    f"{price['unit_amount'] / 100:.2f} / {price['recurring']['interval']})",
                    item["current_period_start"],
                    item["current_period_end"],
                    False,
                )
            )
        return lines

    def _line(
        self,
        subscription: dict,
        item: dict,
        price: dict,
        amount: int,
        description: str,
        start: int,
        end: int,
        proration: bool,
    ) -> dict[str, Any]:
        return {
            "id": self.new_id("il"),
            "object": "line_item",
            "amount": amount,
            "currency": price["currency"],
            "description": description,
            "period": {"start": start, "end": end},
            "quantity": item["quantity"],
            "pricing": {
                "type": "price_details",
                "unit_amount_decimal": str(price["unit_amount"]),
                "price_details": {"price": price["id"], "product": price["product"]},
            },
            "parent": {
                "type": "subscription_item_details",
                "subscription_item_details": {
                    "subscription": subscription["id"],
                    "subscription_item": item["id"],
                    "proration": proration,
                    "invoice_item": None,
                },
            },
            "metadata": {},
        }

    def _invoice(self, subscription: dict, reason: str, lines: list[dict]) -> dict[str, Any]:
        now = self.now()
        total = sum(line["amount"] for line in lines)
        customer = self.objects[subscription["customer"]]
        number = sum(1 for o in self.objects.values() if o["object"] == "invoice") + 1
        invoice_id = self.new_id("in")
        invoice = self.put(
            {
                "id": invoice_id,
                "object": "invoice",
                "created": now,
                "livemode": False,
                "customer": customer["id"],
                "customer_email": customer["email"],
                "currency": subscription["currency"],
                "number": f"EMU-{number:04d}",
                "status": "open",
                "billing_reason": reason,
                "collection_method": "charge_automatically",
                "amount_due": max(total, 0),
                "amount_paid": 0,
                "amount_remaining": max(total, 0),
                "subtotal": total,
                "total": total,
                "attempt_count": 0,
                "attempted": False,
                "period_start": min(line["period"]["start"] for line in lines),
                "period_end": max(line["period"]["end"] for line in lines),
                "hosted_invoice_url": f"{self.public_root()}/i/{invoice_id}",
                "invoice_pdf": f"{self.public_root()}/i/{invoice_id}/pdf",
                "status_transitions": {"finalized_at": now, "paid_at": None, "voided_at": None},
                "next_payment_attempt": None,
                "metadata": {},
                "parent": {
                    "type": "subscription_details",
                    "subscription_details": {
                        "subscription": subscription["id"],
                        "metadata": dict(subscription["metadata"]),
                    },
                },
                "lines": {
                    "object": "list",
                    "url": f"/v1/invoices/{invoice_id}/lines",
                    "has_more": False,
                    "data": lines,
                },
            }
        )
        subscription["latest_invoice"] = invoice_id
        self.emit("invoice.created", invoice)
        self.emit("invoice.finalized", invoice)
        return invoice

    def _collect(self, invoice: dict, subscription: dict, *, fail: bool = False) -> bool:
        """Charge an invoice to the subscription's card: `invoice.paid` or `invoice.payment_failed`."""
        invoice["attempt_count"] += 1
        invoice["attempted"] = True
        if invoice["amount_due"] > 0:
            customer = self.objects[invoice["customer"]]
            intent = self._payment(
                customer,
                invoice["amount_due"],
                invoice["currency"],
                subscription["default_payment_method"],
                {},
                f"Invoice {invoice['number']}",
                fail=fail,
            )
            if intent["status"] != "succeeded":
                invoice["next_payment_attempt"] = self.now() + 3 * 24 * 3600
                self.emit("invoice.payment_failed", invoice)
                return False
        invoice.update(status="paid", amount_paid=invoice["amount_due"], amount_remaining=0, next_payment_attempt=None)
        invoice["status_transitions"]["paid_at"] = self.now()
        self.emit("invoice.paid", invoice)
        self.emit("invoice.payment_succeeded", invoice)
        return True

    def subscription(self, subscription_id: str) -> dict[str, Any]:
        return self.get(subscription_id, "subscription")

    def update_subscription(self, subscription_id: str, params: dict) -> dict[str, Any]:
        """Plan changes (`items[0][price]`, proration `always_invoice` bills at once), cancel at period end."""
        subscription = self.subscription(subscription_id)
        if subscription["status"] == "canceled":
            raise StripeError(400, "A canceled subscription can only update its cancellation_details and metadata.")
        previous: dict[str, Any] = {}
        if "metadata" in params:
            previous["metadata"] = dict(subscription["metadata"])
            subscription["metadata"] = {
                k: v for k, v in {**subscription["metadata"], **metadata(params)}.items() if v != ""
            }
        cancel = as_bool(params, "cancel_at_period_end")
        if cancel is not None and cancel != subscription["cancel_at_period_end"]:
            previous.update(
                cancel_at_period_end=subscription["cancel_at_period_end"],
                cancel_at=subscription["cancel_at"],
                canceled_at=subscription["canceled_at"],
            )
            end = subscription["items"]["data"][0]["current_period_end"]
            subscription.update(
                cancel_at_period_end=cancel,
                cancel_at=end if cancel else None,
                canceled_at=self.now() if cancel else None,
            )
            subscription["cancellation_details"]["reason"] = "cancellation_requested" if cancel else None
        proration_invoice = None
        for i, change in enumerate(params.get("items") or []):
            if not isinstance(change, dict) or not change.get("price"):
                continue
            item = self._item(subscription, change.get("id"), i)
            new_price = self.price(change["price"], f"items[{i}][price]")
            if new_price["type"] != "recurring":
                raise StripeError(
                    400,
                    "The price specified is not recurring; subscriptions need recurring prices.",
                    param=f"items[{i}][price]",
                )
            if new_price["id"] == item["price"]["id"]:
                continue
            previous.setdefault("items", copy.deepcopy(subscription["items"]))
            old_price = item["price"]
            item["price"] = copy.deepcopy(new_price)
            behavior = params.get("proration_behavior", "create_prorations")
            if behavior == "always_invoice":
                proration_invoice = self._prorate(subscription, item, old_price, new_price)
        if previous:
            self.emit("customer.subscription.updated", subscription, previous)
        if proration_invoice is not None:
            self._collect(proration_invoice, subscription)
        return subscription

    def _item(self, subscription: dict, item_id: str | None, index: int) -> dict[str, Any]:
        for item in subscription["items"]["data"]:
            if item["id"] == item_id:
                return item
        if item_id:
            raise missing("subscription item", item_id, f"items[{index}][id]")
        raise StripeError(
            400,
            "Changing a subscription's price needs the subscription item's `id` "
            "(items[0][id]); without it Stripe adds a new item.",
            param=f"items[{index}][id]",
        )

    def _prorate(self, subscription: dict, item: dict, old: dict, new: dict) -> dict[str, Any]:
        start, end, now = item["current_period_start"], item["current_period_end"], self.now()
        left = max(0.0, min(1.0, (end - now) / max(1, end - start)))
        unused = -round(old["unit_amount"] * item["quantity"] * left)
        remaining = round(new["unit_amount"] * item["quantity"] * left)
        names = {p["id"]: self.objects.get(p["product"], {}).get("name", "plan") for p in (old, new)}
        lines = [
            self._line(subscription, item, old, unused, f"Unused time on {names[old['id']]}", now, end, True),
            self._line(subscription, item, new, remaining, f"Remaining time on {names[new['id']]}", now, end, True),
        ]
        return self._invoice(subscription, "subscription_update", lines)

    def cancel_subscription(self, subscription_id: str) -> dict[str, Any]:
        subscription = self.subscription(subscription_id)
        if subscription["status"] == "canceled":
            raise StripeError(400, f"This subscription has already been canceled: {subscription_id}.")
        now = self.now()
        subscription.update(status="canceled", ended_at=now, canceled_at=subscription["canceled_at"] or now)
        self.emit("customer.subscription.deleted", subscription)
        return subscription

    def renew(self, subscription_id: str, *, fail: bool = False) -> dict[str, Any]:
        """The current period ends now (as a test clock would make it): a subscription set to cancel is
        deleted; otherwise the next period starts and its invoice is charged (or fails)."""
        subscription = self.subscription(subscription_id)
        if subscription["status"] == "canceled":
            raise StripeError(400, f"This subscription has already been canceled: {subscription_id}.")
        now = self.now()
        previous = {"items": copy.deepcopy(subscription["items"]), "status": subscription["status"]}
        for item in subscription["items"]["data"]:
            item["current_period_start"] = min(item["current_period_start"], add_month(now, -1))
            item["current_period_end"] = now
        if subscription["cancel_at_period_end"]:
            subscription["cancel_at"] = now
            return self.cancel_subscription(subscription_id)
        for item in subscription["items"]["data"]:
            item["current_period_start"], item["current_period_end"] = now, add_month(now)
        invoice = self._invoice(subscription, "subscription_cycle", self._period_lines(subscription))
        paid = self._collect(invoice, subscription, fail=fail)
        subscription["status"] = "active" if paid else "past_due"
        self.emit("customer.subscription.updated", subscription, previous)
        return subscription

    def retry_invoice(self, invoice_id: str, *, fail: bool = False) -> dict[str, Any]:
        """Pay an open invoice again (Stripe's `POST /v1/invoices/{id}/pay`)."""
        invoice = self.get(invoice_id, "invoice")
        if invoice["status"] != "open":
            raise StripeError(400, f"Invoice is already {invoice['status']}.", code="invoice_not_open")
        subscription = self.subscription(invoice["parent"]["subscription_details"]["subscription"])
        if self._collect(invoice, subscription, fail=fail) and subscription["status"] == "past_due":
            subscription["status"] = "active"
            self.emit("customer.subscription.updated", subscription, {"status": "past_due"})
        return invoice

    def set_card(self, customer_id: str, card_number: str) -> None:
        """The portal's 'update payment method': new charges (and the subscriptions') use this card."""
        customer = self.get(customer_id, "customer")
        card = Card("".join(ch for ch in card_number if ch.isdigit()))
        if len(card.number) < 12:
            raise StripeError(402, "Your card number is incomplete.", type="card_error", code="incomplete_number")
        if card.number == CARD_DECLINED:
            raise StripeError(402, "Your card was declined.", type="card_error", code="card_declined")
        method_id = self.new_id("pm")
        self.cards[method_id] = card
        customer["invoice_settings"]["default_payment_method"] = method_id
        for sub in self.objects.values():
            if sub["object"] == "subscription" and sub["customer"] == customer_id and sub["status"] != "canceled":
                sub["default_payment_method"] = method_id

    def card_of(self, customer: dict) -> Card | None:
        return self.cards.get(customer["invoice_settings"]["default_payment_method"] or "")

    # -- billing portal -----------------------------------------------------------------------------

    def create_portal_session(self, params: dict) -> dict[str, Any]:
        customer = params.get("customer")
        if not customer:
            raise StripeError(400, "Missing required param: customer.", code="parameter_missing", param="customer")
        self.get(customer, "customer", param="customer")
        session_id = self.new_id("bps")
        return self.put(
            {
                "id": session_id,
                "object": "billing_portal.session",
                "created": self.now(),
                "livemode": False,
                "customer": customer,
                "return_url": params.get("return_url") or None,
                "locale": None,
                "configuration": "bpc_emulator",
                "flow": None,
                "on_behalf_of": None,
                "url": f"{self.public_root()}/p/session/{session_id}",
            }
        )


def public(obj: Any) -> Any:
    """An object as the API shows it: without the emulator's own `_` fields, at any depth (a copy)."""
    if isinstance(obj, dict):
        return {k: public(v) for k, v in obj.items() if not k.startswith("_")}
    if isinstance(obj, list):
        return [public(v) for v in obj]
    return obj
