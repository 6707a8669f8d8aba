"""Paying in a real browser against the app as `make run` serves it: the Stripe emulator mounted at
/_emulators/stripe, its webhooks signed and posted back to the app. A free user subscribes from the studio,
generates, sees the invoice, and moves from Basic to Pro in the customer portal."""

from __future__ import annotations

import io
import re
import uuid

import pytest
from PIL import Image

pytestmark = pytest.mark.browser


def _credits(page) -> int:
    return int(re.sub(r"\D", "", page.text_content("#header-credits")))


def test_a_free_user_subscribes_generates_and_upgrades_in_the_portal(page, tmp_path):
    page.set_default_timeout(45_000)  # the machine may be busy; nothing here is timed
    email = f"payer-{uuid.uuid4().hex[:8]}@example.com"
    page.goto(f"/auth/login?login_hint={email}&next=/create")
    page.wait_for_url(re.compile(r"/create$"))

    # Before filling anything in, the studio says Free cannot generate, with the way to upgrade right there.
    banner = page.locator("[data-testid=studio-upgrade]")
    assert "The Free plan cannot generate videos." in banner.text_content()
    before = _credits(page)
    page.click("[data-testid=upgrade-basic]")

    # Stripe's hosted checkout (the emulator): the test card is filled in; Subscribe.
    page.wait_for_url(re.compile(r"/_emulators/stripe/c/pay/cs_test_"))
    assert page.text_content("[data-testid=amount]").startswith("$19.00")
    page.click("[data-testid=pay]")
    page.wait_for_url(re.compile(r"/billing/done\?session_id=cs_test_"))
    assert "You are on the Basic plan" in page.text_content("#checkout-status")
    assert int(re.sub(r"\D", "", page.text_content("[data-testid=balance]"))) == before + 1_000

    # Now the studio generates.
    page.goto("/create")
    assert page.locator("[data-testid=studio-upgrade]").count() == 0
    photo = tmp_path / "product.jpg"
    buffer = io.BytesIO()
    Image.new("RGB", (1280, 720), (40, 90, 210)).save(buffer, "JPEG")
    photo.write_bytes(buffer.getvalue())
    with page.expect_file_chooser() as chooser:
        page.click("#dropzone")
    chooser.value.set_files(str(photo))
    page.wait_for_selector("#upload-preview-img")
    page.fill("#studio-prompt", "A blue bottle turning slowly on a plinth")
    page.click("#studio-submit")
    page.wait_for_url(re.compile(r"/videos/\d+$"))

    # The account shows the plan, its renewal date and the invoice Stripe hosts.
    page.goto("/account")
    assert "Renews on" in page.text_content("#subscription")
    page.wait_for_selector("[data-testid=invoice]")
    assert "$19" in page.text_content("#invoices")

    # The portal: Basic → Pro, then back to the account.
    page.click("[data-testid=manage-billing]")
    page.wait_for_url(re.compile(r"/_emulators/stripe/p/session/bps_"))
    page.click("text=Select AdsVideo Pro")
    page.wait_for_selector("text=Your plan has been updated.")
    page.click("[data-testid=return]")
    page.wait_for_url(re.compile(r"/account$"))
    assert page.text_content("[data-testid=plan]").strip() == "Pro"
