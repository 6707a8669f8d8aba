"""In the browser: sign in through the Google emulator's account chooser by clicking, then sign out."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_sign_in_with_a_made_up_account_and_sign_out(page):
    email = f"e2e-{uuid.uuid4().hex[:8]}@example.com"
    page.goto("/account")  # not signed in: sent to Google (the emulator's chooser)
    expect(page.get_by_role("heading", name="Choose an account")).to_be_visible()
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_label("Name (optional)").fill("Erin Endtoend")
    page.get_by_role("button", name="Continue").click()

    expect(page).to_have_url(re.compile(r"/account$"))
    expect(page.get_by_role("heading", name="Your account")).to_be_visible()
    expect(page.locator("#header-credits")).to_contain_text("100 credits")
    expect(page.get_by_label("Name", exact=True)).to_have_value("Erin Endtoend")

    # Edit the profile in place (htmx): an error shows inline, then a valid name saves.
    page.get_by_label("Name", exact=True).fill("")
    page.get_by_role("button", name="Save profile").click()
    expect(page.locator("#profile-name-error")).to_have_text("Enter your name.")
    page.get_by_label("Name", exact=True).fill("Erin Edited")
    page.get_by_role("button", name="Save profile").click()
    expect(page.get_by_role("status").filter(has_text="Saved.")).to_be_visible()

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.get_by_role("button", name="Sign in with Google")).to_be_visible()
    page.goto("/account")
    expect(page.get_by_role("heading", name="Choose an account")).to_be_visible()


def test_sign_in_by_clicking_a_seeded_demo_account(page):
    page.goto("/")
    page.get_by_role("button", name="Sign in with Google").click()
    demo = page.locator("[data-testid=account]").first
    expect(demo).to_be_visible()
    demo_email = demo.locator("small").inner_text()
    assert demo_email.endswith("@demo.adsvideo.local")
    demo.click()
    page.goto("/account")
    expect(page.get_by_text(f"Signed in with Google as {demo_email}")).to_be_visible()


def test_cancelling_at_google_shows_a_clear_page(page):
    page.goto("/auth/login?next=/account")
    page.get_by_role("button", name="Cancel").click()
    expect(page.get_by_role("heading", name="You are not signed in")).to_be_visible()
    expect(page.get_by_text("You cancelled signing in with Google")).to_be_visible()
