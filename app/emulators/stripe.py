"""A faithful emulator of the part of Stripe's API the app calls, for the real `stripe` SDK.

Point `stripe.StripeClient(key, base_addresses={"api": ROOT})` at it with any `sk_test_...` key (or only
the one it was given). It keeps one test-mode account in memory and answers in Stripe's shapes and
error format (`{"error": {"type", "message", "code", "param"}}`), honouring `Idempotency-Key`:

- `/v1/customers`, `/v1/products`, `/v1/prices` (create, retrieve, list; `lookup_keys[]`),
- `/v1/checkout/sessions` (`payment` and `subscription` modes with `price` line items; retrieve, list,
  `line_items`, `expire`), whose `url` is the hosted page `/c/pay/{id}`: a plain HTML form (test card
  filled in) whose Pay button creates the customer, the payment or the subscription and its paid first
  invoice, raises the events and sends the payer to `success_url` (`{CHECKOUT_SESSION_ID}` filled in).
  Card 4000 0000 0000 0002 is declined; 4000 0000 0000 0341 pays nothing later (renewals fail).
- `/v1/subscriptions` (retrieve, list, update: `items[0][id]` + `items[0][price]` with
  `proration_behavior=always_invoice` bills the difference at once, `cancel_at_period_end`; DELETE
  cancels now), `/v1/invoices` (retrieve, list, `pay`), `/v1/payment_intents`, `/v1/charges`,
  `/v1/refunds` (a refund raises `charge.refunded`), `/v1/events`, `/v1/webhook_endpoints`,
- `/v1/billing_portal/sessions`, whose `url` is the portal page `/p/session/{id}`: change plan, cancel
  at the period end (or undo it), replace the card, see invoices (`/i/{id}`) and return.

Webhooks go to every endpoint (made through `/v1/webhook_endpoints`, or given at start like
`stripe listen --forward-to URL`), signed as Stripe signs. Emulator-only controls, JSON under
`/_emulator/`: `GET events` (each with its delivery attempts), `POST webhooks` `{url, secret?}`,
`POST webhooks/hold`, `POST webhooks/release` `{order: "created"|"reverse", ids?: [...]}`,
`POST events/{id}/deliver` `{copies: N}` (N at the same time), `POST subscriptions/{id}/renew`
`{fail?: bool}` (the current period ends now: the next one is invoiced and charged, or a subscription set
to cancel ends).

Run it on its own: `python -m app.emulators.stripe --port 8768 --forward-to URL --webhook-secret whsec_...`.
"""

from __future__ import annotations

import argparse
import base64
import json
import secrets
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from litestar import Litestar, Request, Response, delete, get, post
from litestar.exceptions import HTTPException, NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect

from app.emulators.stripe_params import ParamError, as_bool, expand_list, parse_params
from app.emulators.stripe_state import CARD_OK, StripeError, StripeState, public
from app.emulators.stripe_webhooks import Webhooks
from app.web.templating import render

MOUNT_PATH = "/_emulators/stripe"
EMULATOR_WEBHOOK_SECRET = "whsec_adsvideo_local_stripe_emulator_secret"
MERCHANT = "AdsVideo"


def _money(amount: int | None, currency: str | None) -> str:
    symbol = {"usd": "$", "eur": "€", "gbp": "£"}.get((currency or "").lower())
    value = f"{(amount or 0) / 100:,.2f}"
    if amount is not None and amount < 0:
        value = f"-{abs(amount) / 100:,.2f}"
    return f"{symbol}{value}" if symbol else f"{value} {(currency or '').upper()}"


def _day(ts: int | None) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%d %b %Y") if ts else ""


def _expand(state: StripeState, obj: Any, paths: list[str]) -> Any:
    """Replace ids by their objects along each dotted path (`data.` steps into lists), as `expand[]` does."""
    for path in paths:
        obj = _expand_one(state, obj, path.split("."))
    return obj


def _expand_one(state: StripeState, node: Any, parts: list[str]) -> Any:
    if not parts or not isinstance(node, dict):
        return node
    head, rest = parts[0], parts[1:]
    if head == "line_items" and node.get("object") == "checkout.session":
        node = {**node, "line_items": state.line_items(state.objects[node["id"]])}
        return node
    if head not in node:
        raise StripeError(400, f"This property cannot be expanded ({head}).", param="expand")
    value = node[head]
    if isinstance(value, list):
        return {**node, head: [_expand_one(state, v, rest) if rest else v for v in value]}
    if isinstance(value, str) and not rest:
        target = state.objects.get(value)
        return {**node, head: public(target) if target else value}
    if isinstance(value, str):
        target = state.objects.get(value)
        return {**node, head: _expand_one(state, public(target), rest) if target else value}
    return {**node, head: _expand_one(state, value, rest)}


def create_stripe_emulator(
    *,
    public_root: str | None = None,
    api_key: str | None = None,
    forward_to: str | None = None,
    webhook_secret: str = EMULATOR_WEBHOOK_SECRET,
    catalogue: list[dict[str, Any]] | None = None,
):
    """The emulator as an ASGI app (`.state` is its account, `.webhooks` its sender).

    `public_root`: the address its hosted pages are reached at (default: the scheme and Host of the
    request that made them). `forward_to`: a webhook endpoint signed with `webhook_secret`, as
    `stripe listen` forwards. `catalogue`: prices made beforehand, each
    `{id, name, unit_amount, currency?, interval?, lookup_key?}`."""
    root = {"value": (public_root or "").rstrip("/")}
    state = StripeState(public_root=lambda: root["value"])
    webhooks = Webhooks()
    if forward_to:
        webhooks.add(forward_to, webhook_secret, endpoint_id="we_forward")
    for price in catalogue or []:
        state.add_catalogue_price(
            price["id"],
            name=price["name"],
            unit_amount=price["unit_amount"],
            currency=price.get("currency", "usd"),
            interval=price.get("interval"),
            lookup_key=price.get("lookup_key"),
        )
    idempotent: dict[str, tuple[str, int, Any]] = {}

    def remember_root(request: Request) -> None:
        if not public_root:
            root["value"] = f"{request.url.scheme}://{request.headers.get('host', '127.0.0.1')}"

    async def params_of(request: Request) -> dict[str, Any]:
        text = request.url.query or ""
        if request.method == "POST":
            body = (await request.body()).decode("utf-8", "replace")
            text = f"{text}&{body}" if text and body else (body or text)
        try:
            return parse_params(text)
        except ParamError as exc:
            raise StripeError(400, exc.message, param=exc.param) from None

    async def api(request: Request, action: Callable[[dict], Any]) -> Response:
        """Run one API call: parameters, idempotency, the action, its webhooks, `expand[]`, the answer."""
        remember_root(request)
        params = await params_of(request)
        key = request.headers.get("idempotency-key") if request.method == "POST" else None
        fingerprint = f"{request.method} {request.url.path} {sorted(params.items(), key=str)}"
        if key and key in idempotent:
            seen, status, body = idempotent[key]
            if seen != fingerprint:
                raise StripeError(
                    400,
                    "Keys for idempotent requests can only be used with the same parameters they were first used with.",
                    type="idempotency_error",
                )
            return Response(body, status_code=status, headers={"idempotent-replayed": "true"})
        try:
            result = action(params)
            status = 200
            body = _expand(state, public(result), expand_list(params)) if isinstance(result, dict) else result
        except StripeError as exc:
            status, body = exc.status, exc.body()
        except ParamError as exc:
            status, body = 400, StripeError(400, exc.message, param=exc.param).body()
        await webhooks.dispatch(state.take_unsent())
        if key:
            idempotent[key] = (fingerprint, status, body)
        return Response(body, status_code=status, headers={"request-id": f"req_{secrets.token_hex(7)}"})

    def listing(kind: str, url: str, filters: dict[str, str]) -> Callable[[dict], Any]:
        def run(params: dict) -> dict:
            def match(obj: dict) -> bool:
                return all(params.get(p) in (None, "") or _field(obj, f) == params[p] for p, f in filters.items())

            result = state.listing(kind, url, match, params)
            result["data"] = [public(o) for o in result["data"]]
            return result

        return run

    # -- customers, products, prices ------------------------------------------------------------------

    @post("/v1/customers", status_code=200)
    async def create_customer(request: Request) -> Response:
        return await api(request, state.create_customer)

    @get("/v1/customers")
    async def list_customers(request: Request) -> Response:
        return await api(request, listing("customer", "/v1/customers", {"email": "email"}))

    @get("/v1/customers/{object_id:str}")
    async def retrieve_customer(request: Request, object_id: FromPath[str]) -> Response:
        return await api(request, lambda p: state.get(object_id, "customer"))

    @post("/v1/customers/{object_id:str}", status_code=200)
    async def update_customer(request: Request, object_id: FromPath[str]) -> Response:
        return await api(request, lambda p: state.update_customer(object_id, p))

    @post("/v1/products", status_code=200)
    async def create_product(request: Request) -> Response:
        return await api(request, state.create_product)

    @get("/v1/products/{object_id:str}")
    async def retrieve_product(request: Request, object_id: FromPath[str]) -> Response:
        return await api(request, lambda p: state.get(object_id, "product"))

    @post("/v1/prices", status_code=200)
    async def create_price(request: Request) -> Response:
        return await api(request, state.create_price)

    @get("/v1/prices")
    async def list_prices(request: Request) -> Response:
        def run(params: dict) -> dict:
            keys = params.get("lookup_keys") or []
            keys = [keys] if isinstance(keys, str) else keys
            active = as_bool(params, "active")

            def match(price: dict) -> bool:
                return (
                    (not keys or price["lookup_key"] in keys)
                    and (active is None or price["active"] == active)
                    and (not params.get("product") or price["product"] == params["product"])
                    and (not params.get("type") or price["type"] == params["type"])
                )

            result = state.listing("price", "/v1/prices", match, params)
            result["data"] = [public(o) for o in result["data"]]
            return result

        return await api(request, run)

    @get("/v1/prices/{object_id:str}")
    async def retrieve_price(request: Request, object_id: FromPath[str]) -> Response:
        return await api(request, lambda p: state.price(object_id, "id"))

    # -- checkout ---------------------------------------------------------------------------------------

    @post("/v1/checkout/sessions", status_code=200)
    async def create_session(request: Request) -> Response:
        return await api(request, state.create_checkout_session)

    @get("/v1/checkout/sessions")
    async def list_sessions(request: Request) -> Response:
        return await api(
            request,
            listing(
                "checkout.session",
                "/v1/checkout/sessions",
                {
                    "customer": "customer",
                    "payment_intent": "payment_intent",
                    "subscription": "subscription",
                    "status": "status",
                },
            ),
        )

    @get("/v1/checkout/sessions/{object_id:str}")
    async def retrieve_session(request: Request, object_id: FromPath[str]) -> Response:
        return await api(request, lambda p: state.open_session(object_id))

    @get("/v1/checkout/sessions/{object_id:str}/line_items")
    async def session_line_items(request: Request, object_id: FromPath[str]) -> Response:
        return await api(request, lambda p: state.line_items(state.open_session(object_id)))

    @post("/v1/checkout/sessions/{object_id:str}/expire", status_code=200)
    async def expire_session(request: Request, object_id: FromPath[str]) -> Response:
        return await api(request, lambda p: state.expire_checkout_session(object_id))

    # -- subscriptions, invoices, payments --------------------------------------------------------------

    @get("/v1/subscriptions")
    async def list_subscriptions(request: Request) -> Response:
        def run(params: dict) -> dict:
            status = params.get("status") or None

            def match(sub: dict) -> bool:
                if params.get("customer") and sub["customer"] != params["customer"]:
                    return False
                if params.get("price") and all(i["price"]["id"] != params["price"] for i in sub["items"]["data"]):
                    return False
                if status == "all":
                    return True
                return sub["status"] == status if status else sub["status"] != "canceled"

            result = state.listing("subscription", "/v1/subscriptions", match, params)
            result["data"] = [public(o) for o in result["data"]]
            return result

        return await api(request, run)

    @get("/v1/subscriptions/{object_id:str}")
    async def retrieve_subscription(request: Request, object_id: FromPath[str]) -> Response:
        return await api(request, lambda p: state.subscription(object_id))

    @post("/v1/subscriptions/{object_id:str}", status_code=200)
    async def update_subscription(request: Request, object_id: FromPath[str]) -> Response:
        return await api(request, lambda p: state.update_subscription(object_id, p))

    @delete("/v1/subscriptions/{object_id:str}", status_code=200)
    async def cancel_subscription(request: Request, object_id: FromPath[str]) -> Response:
        return await api(request, lambda p: state.cancel_subscription(object_id))

    @get("/v1/invoices")
    async def list_invoices(request: Request) -> Response:
        def run(params: dict) -> dict:
            def match(inv: dict) -> bool:
                sub = inv["parent"]["subscription_details"]["subscription"]
                return (
                    (not params.get("customer") or inv["customer"] == params["customer"])
                    and (not params.get("subscription") or sub == params["subscription"])
                    and (not params.get("status") or inv["status"] == params["status"])
                )

            result = state.listing("invoice", "/v1/invoices", match, params)
            result["data"] = [public(o) for o in result["data"]]
            return result

        return await api(request, run)

    @get("/v1/invoices/{object_id:str}")
    async def retrieve_invoice(request: Request, object_id: FromPath[str]) -> Response:
        return await api(request, lambda p: state.get(object_id, "invoice"))

    @post("/v1/invoices/{object_id:str}/pay", status_code=200)
    async def pay_invoice(request: Request, object_id: FromPath[str]) -> Response:
        return await api(request, lambda p: state.retry_invoice(object_id))

    @get("/v1/payment_intents/{object_id:str}")
    async def retrieve_intent(request: Request, object_id: FromPath[str]) -> Response:
        return await api(request, lambda p: state.get(object_id, "payment_intent"))

    @get("/v1/charges")
    async def list_charges(request: Request) -> Response:
        return await api(
            request, listing("charge", "/v1/charges", {"customer": "customer", "payment_intent": "payment_intent"})
        )

    @get("/v1/charges/{object_id:str}")
    async def retrieve_charge(request: Request, object_id: FromPath[str]) -> Response:
        return await api(request, lambda p: state.get(object_id, "charge"))

    @post("/v1/refunds", status_code=200)
    async def create_refund(request: Request) -> Response:
        return await api(request, state.create_refund)

    @get("/v1/refunds/{object_id:str}")
    async def retrieve_refund(request: Request, object_id: FromPath[str]) -> Response:
        return await api(request, lambda p: state.get(object_id, "refund"))

    @post("/v1/billing_portal/sessions", status_code=200)
    async def create_portal_session(request: Request) -> Response:
        return await api(request, state.create_portal_session)

    # -- events and webhook endpoints -------------------------------------------------------------------

    @get("/v1/events")
    async def list_events(request: Request) -> Response:
        return await api(request, listing("event", "/v1/events", {"type": "type"}))

    @get("/v1/events/{object_id:str}")
    async def retrieve_event(request: Request, object_id: FromPath[str]) -> Response:
        return await api(request, lambda p: state.get(object_id, "event"))

    @post("/v1/webhook_endpoints", status_code=200)
    async def create_endpoint(request: Request) -> Response:
        def run(params: dict) -> dict:
            url = params.get("url")
            if not url or urlsplit(url).scheme not in ("http", "https"):
                raise StripeError(400, "Invalid URL: the webhook endpoint needs an http(s) URL.", param="url")
            events = params.get("enabled_events") or []
            events = [events] if isinstance(events, str) else events
            if not events:
                raise StripeError(
                    400, "Missing required param: enabled_events.", code="parameter_missing", param="enabled_events"
                )
            return webhooks.add(url, enabled_events=events).api_object(with_secret=True)

        return await api(request, run)

    @get("/v1/webhook_endpoints")
    async def list_endpoints(request: Request) -> Response:
        return await api(
            request,
            lambda p: {
                "object": "list",
                "url": "/v1/webhook_endpoints",
                "has_more": False,
                "data": [e.api_object() for e in webhooks.endpoints.values() if e.id != "we_forward"],
            },
        )

    @delete("/v1/webhook_endpoints/{object_id:str}", status_code=200)
    async def delete_endpoint(request: Request, object_id: FromPath[str]) -> Response:
        def run(params: dict) -> dict:
            if webhooks.endpoints.pop(object_id, None) is None:
                raise StripeError(404, f"No such webhook endpoint: '{object_id}'", code="resource_missing", param="id")
            return {"id": object_id, "object": "webhook_endpoint", "deleted": True}

        return await api(request, run)

    # -- hosted pages -----------------------------------------------------------------------------------

    def page(template: str, status: int = 200, **context: Any) -> Response:
        context.setdefault("merchant", MERCHANT)
        return Response(
            render(f"emulators/stripe/{template}", money=_money, day=_day, **context),
            status_code=status,
            media_type="text/html",
        )

    def not_found(what: str) -> Response:
        return page(
            "gone.html",
            404,
            title=f"This {what} link is not valid",
            message=f"The {what} you are looking for does not exist or has been removed.",
        )

    def checkout_context(session: dict) -> dict[str, Any]:
        lines = state.line_items(session)["data"]
        for line in lines:
            product = state.objects.get(line["price"]["product"], {})
            line["name"] = product.get("name", "Item")
        customer = state.objects.get(session["customer"] or "")
        return {
            "session": session,
            "lines": lines,
            "recurring": session["mode"] == "subscription",
            "email": (customer or {}).get("email") or session["customer_email"] or "",
            "email_locked": bool(customer and customer.get("email")) or bool(session["customer_email"]),
        }

    @get("/c/pay/{session_id:str}")
    async def checkout_page(request: Request, session_id: FromPath[str]) -> Response:
        remember_root(request)
        session = state.objects.get(session_id)
        if session is None or session["object"] != "checkout.session":
            return not_found("checkout")
        state.open_session(session_id)
        await webhooks.dispatch(state.take_unsent())
        return page("checkout.html", card=CARD_OK, **checkout_context(session))

    @post("/c/pay/{session_id:str}", status_code=303)
    async def checkout_pay(request: Request, session_id: FromPath[str]) -> Response:
        remember_root(request)
        session = state.objects.get(session_id)
        if session is None or session["object"] != "checkout.session":
            return not_found("checkout")
        form = dict(parse_qsl((await request.body()).decode("utf-8", "replace"), keep_blank_values=True))
        email = (form.get("email") or "").strip()
        context = checkout_context(session)
        if not context["email_locked"] and "@" not in email:
            return page(
                "checkout.html",
                400,
                card=form.get("card_number", ""),
                error="Enter a valid email address.",
                **{**context, "email": email},
            )
        try:
            state.pay_checkout(
                session_id, email=email, card_number=form.get("card_number", ""), name=(form.get("name") or "").strip()
            )
        except StripeError as exc:
            await webhooks.dispatch(state.take_unsent())
            return page(
                "checkout.html",
                402 if exc.status == 402 else 400,
                card=form.get("card_number", ""),
                error=exc.message,
                **context,
            )
        await webhooks.dispatch(state.take_unsent())
        target = session["success_url"].replace("{CHECKOUT_SESSION_ID}", session["id"])
        return Redirect(target, status_code=303)

    def portal_session(session_id: str) -> dict | None:
        session = state.objects.get(session_id)
        return session if session and session["object"] == "billing_portal.session" else None

    def portal_context(session: dict, **extra: Any) -> dict[str, Any]:
        customer = state.objects[session["customer"]]
        subs = [
            s
            for s in state.objects.values()
            if s["object"] == "subscription" and s["customer"] == customer["id"] and s["status"] != "canceled"
        ]
        subs.sort(key=lambda s: s["created"], reverse=True)
        plans = [
            p for p in state.objects.values() if p["object"] == "price" and p["type"] == "recurring" and p["active"]
        ]
        plans.sort(key=lambda p: p["unit_amount"])
        names = {p["id"]: state.objects.get(p["product"], {}).get("name", p["id"]) for p in plans}
        invoices = state.listing("invoice", "", lambda i: i["customer"] == customer["id"], {"limit": "20"})["data"]
        for sub in subs:
            sub["_name"] = state.objects.get(sub["items"]["data"][0]["price"]["product"], {}).get("name", "Plan")
        return {
            "session": session,
            "customer": customer,
            "subscriptions": subs,
            "plans": plans,
            "names": names,
            "invoices": invoices,
            "card": state.card_of(customer),
            "card_default": CARD_OK,
            **extra,
        }

    @get("/p/session/{session_id:str}")
    async def portal_page(request: Request, session_id: FromPath[str]) -> Response:
        remember_root(request)
        session = portal_session(session_id)
        if session is None:
            return not_found("portal")
        return page("portal.html", **portal_context(session, done=request.query_params.get("done")))

    @post("/p/session/{session_id:str}/{action:str}", status_code=303)
    async def portal_action(request: Request, session_id: FromPath[str], action: FromPath[str]) -> Response:
        remember_root(request)
        session = portal_session(session_id)
        if session is None:
            return not_found("portal")
        form = dict(parse_qsl((await request.body()).decode("utf-8", "replace"), keep_blank_values=True))
        try:
            if action == "card":
                state.set_card(session["customer"], form.get("card_number", ""))
                done = "card"
            else:
                sub = state.subscription(form.get("subscription", ""))
                if sub["customer"] != session["customer"]:
                    raise StripeError(404, "No such subscription.")
                if action == "plan":
                    item = sub["items"]["data"][0]
                    state.update_subscription(
                        sub["id"],
                        {
                            "items": [{"id": item["id"], "price": form.get("price", "")}],
                            "proration_behavior": "always_invoice",
                        },
                    )
                    done = "plan"
                elif action == "cancel":
                    state.update_subscription(sub["id"], {"cancel_at_period_end": "true"})
                    done = "cancel"
                elif action == "resume":
                    state.update_subscription(sub["id"], {"cancel_at_period_end": "false"})
                    done = "resume"
                else:
                    return not_found("portal")
        except StripeError as exc:
            await webhooks.dispatch(state.take_unsent())
            return page("portal.html", 402 if exc.status == 402 else 400, **portal_context(session, error=exc.message))
        await webhooks.dispatch(state.take_unsent())
        return Redirect(f"{root['value']}/p/session/{session_id}?done={done}", status_code=303)

    @get("/i/{invoice_id:str}")
    async def invoice_page(request: Request, invoice_id: FromPath[str]) -> Response:
        invoice = state.objects.get(invoice_id)
        if invoice is None or invoice["object"] != "invoice":
            return not_found("invoice")
        return page("invoice.html", invoice=invoice, customer=state.objects[invoice["customer"]])

    @get("/receipts/{charge_id:str}")
    async def receipt_page(request: Request, charge_id: FromPath[str]) -> Response:
        charge = state.objects.get(charge_id)
        if charge is None or charge["object"] != "charge":
            return not_found("receipt")
        return page("receipt.html", charge=charge)

    # -- emulator controls ------------------------------------------------------------------------------

    async def control_body(request: Request) -> dict[str, Any]:
        raw = await request.body()
        try:
            data = json.loads(raw) if raw.strip() else {}
        except ValueError:
            raise StripeError(400, "The body must be JSON.") from None
        if not isinstance(data, dict):
            raise StripeError(400, "The body must be a JSON object.")
        return data

    def event_summary(event: dict) -> dict[str, Any]:
        return {
            "id": event["id"],
            "type": event["type"],
            "created": event["created"],
            "object_id": event["data"]["object"].get("id"),
            "held": any(e["id"] == event["id"] for e in webhooks.held),
            "attempts": [
                {"endpoint": a.endpoint, "status": a.status, "error": a.error}
                for a in webhooks.attempts
                if a.event_id == event["id"]
            ],
        }

    @get("/_emulator/events")
    async def control_events(request: Request) -> Response:
        kind = request.query_params.get("type")
        return Response({"data": [event_summary(e) for e in state.events if not kind or e["type"] == kind]})

    @post("/_emulator/webhooks", status_code=200)
    async def control_add_endpoint(request: Request) -> Response:
        data = await control_body(request)
        url = data.get("url")
        if not isinstance(url, str) or urlsplit(url).scheme not in ("http", "https"):
            raise StripeError(400, "Give the endpoint's http(s) `url`.")
        endpoint = webhooks.add(url, data.get("secret") or None, data.get("enabled_events"))
        return Response(endpoint.api_object(with_secret=True))

    @post("/_emulator/webhooks/hold", status_code=200)
    async def control_hold(request: Request) -> Response:
        webhooks.holding = True
        return Response({"holding": True})

    @post("/_emulator/webhooks/release", status_code=200)
    async def control_release(request: Request) -> Response:
        data = await control_body(request)
        order = data.get("order", "created")
        if order not in ("created", "reverse"):
            raise StripeError(400, "`order` is `created` or `reverse`.")
        sent = await webhooks.release(order, data.get("ids"))
        return Response({"delivered": sent})

    @post("/_emulator/events/{event_id:str}/deliver", status_code=200)
    async def control_deliver(request: Request, event_id: FromPath[str]) -> Response:
        data = await control_body(request)
        event = state.get(event_id, "event")
        copies = data.get("copies", 1)
        if not isinstance(copies, int) or not 1 <= copies <= 20:
            raise StripeError(400, "`copies` is a whole number from 1 to 20.")
        attempts = await webhooks.deliver(event, copies)
        return Response(
            {"attempts": [{"endpoint": a.endpoint, "status": a.status, "error": a.error} for a in attempts]}
        )

    @post("/_emulator/subscriptions/{subscription_id:str}/renew", status_code=200)
    async def control_renew(request: Request, subscription_id: FromPath[str]) -> Response:
        data = await control_body(request)
        subscription = state.renew(subscription_id, fail=bool(data.get("fail")))
        await webhooks.dispatch(state.take_unsent())
        return Response(public(subscription))

    # -- errors -----------------------------------------------------------------------------------------

    def on_stripe_error(request: Request, exc: StripeError) -> Response:
        return Response(exc.body(), status_code=exc.status)

    def on_http_error(request: Request, exc: HTTPException) -> Response:
        if isinstance(exc, NotFoundException):
            return Response(
                StripeError(404, f"Unrecognized request URL ({request.method}: {request.url.path}).").body(),
                status_code=404,
            )
        return Response(StripeError(exc.status_code, str(exc.detail)).body(), status_code=exc.status_code)

    def on_crash(request: Request, exc: Exception) -> Response:
        return Response(StripeError(500, "An unknown error occurred.", type="api_error").body(), status_code=500)

    app = Litestar(
        route_handlers=[
            create_customer,
            list_customers,
            retrieve_customer,
            update_customer,
            create_product,
            retrieve_product,
            create_price,
            list_prices,
            retrieve_price,
            create_session,
            list_sessions,
            retrieve_session,
            session_line_items,
            expire_session,
            list_subscriptions,
            retrieve_subscription,
            update_subscription,
            cancel_subscription,
            list_invoices,
            retrieve_invoice,
            pay_invoice,
            retrieve_intent,
            list_charges,
            retrieve_charge,
            create_refund,
            retrieve_refund,
            create_portal_session,
            list_events,
            retrieve_event,
            create_endpoint,
            list_endpoints,
            delete_endpoint,
            checkout_page,
            checkout_pay,
            portal_page,
            portal_action,
            invoice_page,
            receipt_page,
            control_events,
            control_add_endpoint,
            control_hold,
            control_release,
            control_deliver,
            control_renew,
        ],
        exception_handlers={StripeError: on_stripe_error, HTTPException: on_http_error, Exception: on_crash},
        openapi_config=None,
        logging_config=None,
    )
    return StripeGate(app, api_key=api_key, state=state, webhooks=webhooks)


def _field(obj: dict, name: str) -> Any:
    return obj.get(name)


class StripeGate:
    """Stripe's API-key check on every `/v1/` request (a secret test key; only `api_key` if one was given)."""

    def __init__(self, app: Litestar, *, api_key: str | None, state: StripeState, webhooks: Webhooks):
        self.app, self.api_key, self.state, self.webhooks = app, api_key, state, webhooks

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            if scope["type"] == "lifespan":
                await self.app(scope, receive, send)
            return
        # A fresh scope: when mounted, the host app's Litestar state must not leak in.
        inner = {k: v for k, v in scope.items() if not k.startswith("litestar") and k not in ("state", "app")}
        inner["state"] = {}
        if scope["path"].startswith("/v1/"):
            refusal = self._refusal(dict(scope.get("headers") or []))
            if refusal is not None:
                await self._send_json(send, 401, StripeError(401, refusal).body())
                return
        await self.app(inner, receive, send)

    def _refusal(self, headers: dict[bytes, bytes]) -> str | None:
        auth = headers.get(b"authorization", b"").decode("latin-1")
        scheme, _, key = auth.partition(" ")
        key = key.strip()
        if scheme.lower() == "basic":  # `curl -u sk_test_...:`, as Stripe's docs show
            try:
                key = base64.b64decode(key).decode("latin-1").partition(":")[0]
            except ValueError:
                key = ""
        elif scheme.lower() != "bearer":
            key = ""
        if not key:
            return (
                "You did not provide an API key. You need to provide your API key in the Authorization header, "
                "using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY')."
            )
        masked = f"{key[:8]}{'*' * (len(key) - 12)}{key[-4:]}" if len(key) > 12 else "*" * len(key)
        if not key.startswith(("sk_test_", "rk_test_")):
            return f"Invalid API Key provided: {masked} (the emulator accepts only test-mode secret keys)"
        if self.api_key is not None and key != self.api_key:
            return f"Invalid API Key provided: {masked}"
        return None

    @staticmethod
    async def _send_json(send, status: int, body: dict) -> None:
        payload = json.dumps(body).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": payload})


def main(argv: list[str] | None = None) -> None:
    """Serve the emulator on its own port (point the SDK at http://HOST:PORT with any sk_test_ key)."""
    import uvicorn

    parser = argparse.ArgumentParser(prog="python -m app.emulators.stripe", description=main.__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8768)
    parser.add_argument("--api-key", default=None, help="accept only this key (default: any sk_test_ key)")
    parser.add_argument("--forward-to", default=None, help="webhook endpoint URL, as `stripe listen --forward-to`")
    parser.add_argument("--webhook-secret", default=EMULATOR_WEBHOOK_SECRET)
    parser.add_argument("--empty", action="store_true", help="start without the app's plans and packs as prices")
    args = parser.parse_args(argv)
    from app.billing.catalogue import emulator_catalogue

    catalogue = [] if args.empty else emulator_catalogue()
    print(
        f"Stripe API emulator: http://{args.host}:{args.port} ({len(catalogue)} prices)"
        + (f"; webhooks to {args.forward_to}, secret {args.webhook_secret}" if args.forward_to else "")
    )
    uvicorn.run(
        create_stripe_emulator(
            api_key=args.api_key, forward_to=args.forward_to, webhook_secret=args.webhook_secret, catalogue=catalogue
        ),
        host=args.host,
        port=args.port,
        log_level="warning",
    )


if __name__ == "__main__":
    main()
