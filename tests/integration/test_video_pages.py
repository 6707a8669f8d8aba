"""/videos and /videos/{id}: cards, filters, pages, the progress log and the player — for the owner only."""

from __future__ import annotations

import re
from html import unescape

from app.tables import CreditTransactions, LedgerReason
from tests.studio_factories import make_upload, make_user, make_video, sign_in

HX = {"HX-Request": "true"}


async def test_empty_library_leads_to_create(client, settings):
    await sign_in(client, await make_user())
    r = await client.get("/videos")
    assert r.status_code == 200
    assert "No videos yet" in r.text and 'href="/create"' in r.text


async def test_library_cards_show_poster_status_prompt_model_duration_date(client, settings):
    user = await make_user()
    done = await make_video(user.id, prompt="Sneaker orbit on a neon floor")
    failed = await make_video(user.id, status="failed", prompt="A mug in the rain", error_message="Moderation")
    await sign_in(client, user)
    r = await client.get("/videos")
    assert r.status_code == 200
    card = r.text.split(f'id="video-card-{done.id}"')[1].split("</article>")[0]
    assert f'src="/media/{done.poster_key}"' in card
    assert "status-completed" in card and "Ready" in card
    assert "Sneaker orbit on a neon floor" in card and "Sora 2" in card and "4 s" in card
    assert re.search(r"\d{2} \w{3} \d{4}", card)
    assert f'id="video-card-{failed.id}"' in r.text and "Failed" in r.text


async def test_filter_by_status_and_pages(client, settings):
    user = await make_user()
    for i in range(14):
        await make_video(user.id, status="completed", prompt=f"done {i}")
    await make_video(user.id, status="failed", prompt="the broken one")
    await make_video(user.id, status="processing", prompt="still cooking")
    await sign_in(client, user)

    first = await client.get("/videos")
    assert first.text.count('class="video-card"') == 12 and "Page 1 of 2" in first.text
    second = await client.get("/videos?page=2")
    assert second.text.count('class="video-card"') == 4
    failed = await client.get("/videos?status=failed")
    assert failed.text.count('class="video-card"') == 1 and "the broken one" in failed.text
    active = await client.get("/videos?status=active")
    assert "still cooking" in active.text and "the broken one" not in active.text
    # htmx asks for the list only
    fragment = await client.get("/videos?status=completed", headers=HX)
    assert fragment.text.lstrip().startswith('<div id="video-library">') and "<html" not in fragment.text
    assert fragment.headers["vary"] == "HX-Request"
    # a filter with nothing in it says so
    other = await make_user()
    await sign_in(client, other)
    assert "No failed videos" in (await client.get("/videos?status=failed")).text


async def test_library_shows_only_my_videos(client, settings):
    me, other = await make_user(), await make_user()
    await make_video(other.id, prompt="Someone else's secret launch")
    await sign_in(client, me)
    r = await client.get("/videos")
    assert "secret launch" not in r.text and "No videos yet" in r.text


async def test_video_page_shows_settings_reference_log_and_player(client, settings):
    user = await make_user()
    upload = await make_upload(user.id)
    video = await make_video(
        user.id,
        prompt="Bottle with condensation",
        reference_upload=upload.id,
        credits_charged=100,
        events=[("queued", "Queued", 0), ("generating", "Generating 50%", 50), ("completed", "Finished", 100)],
    )
    await sign_in(client, user)
    r = await client.get(f"/videos/{video.id}")
    assert r.status_code == 200
    html = r.text
    assert "Bottle with condensation" in html and "1280×720 landscape" in html and "4 seconds" in html
    assert f'src="/media/{upload.storage_key}"' in html
    assert f'id="video-progress-{video.id}"' in html and "Generating 50%" in html
    player = re.search(r"<video [^>]*>", html).group(0)
    assert f'src="/media/{video.video_key}"' in player and f'poster="/media/{video.poster_key}"' in player
    assert "controls" in player and "playsinline" in player and 'preload="metadata"' in player
    assert f'href="/media/{video.video_key}?download=bottle-with-condensation.mp4"' in html
    assert f'href="/create?from={video.id}"' in html
    assert f'hx-post="/videos/{video.id}/delete"' in html and "hx-confirm" in html
    assert re.search(r'action="/videos/\d+/delete"[^>]*>\s*<input type="hidden" name="_csrf_token" value="\w+"', html)


async def test_a_video_in_progress_shows_the_steps_and_no_player(client, settings):
    user = await make_user()
    video = await make_video(
        user.id,
        status="processing",
        step="generating",
        progress=40,
        events=[("queued", "Queued", 0), ("submitting", "Sent to the model", 10)],
    )
    await sign_in(client, user)
    html = (await client.get(f"/videos/{video.id}")).text
    assert "<video" not in html
    assert 'class="step step-done"' in html and 'class="step step-current"' in html and "40%" in html
    assert "Sent to the model" in html


async def test_a_failed_video_shows_the_reason_the_refund_and_retry(client, settings):
    user = await make_user()
    video = await make_video(
        user.id, status="failed", error_message="The model refused this prompt.", credits_charged=100, charge_seq=1
    )
    await CreditTransactions(
        user=user.id, delta=100, reason=LedgerReason.refund.value, video=video.id, charge_seq=1, balance_after=200
    ).save()
    await sign_in(client, user)
    html = (await client.get(f"/videos/{video.id}")).text
    assert "The model refused this prompt." in html
    assert "100 credits were refunded" in html
    assert f'hx-post="/videos/{video.id}/retry"' in html


async def test_another_users_video_page_is_404(client, settings):
    owner, stranger = await make_user(), await make_user()
    video = await make_video(owner.id, prompt="private prompt")
    await sign_in(client, stranger)
    r = await client.get(f"/videos/{video.id}")
    assert r.status_code == 404 and "private prompt" not in r.text
    assert (await client.get("/videos/999999")).status_code == 404
    assert (await client.get(f"/create?from={video.id}")).status_code == 200
    assert "private prompt" not in (await client.get(f"/create?from={video.id}")).text


async def test_pages_need_sign_in(client, settings):
    for path in ("/videos", "/videos/1", "/create"):
        r = await client.get(path, follow_redirects=False)
        assert r.status_code in (302, 303, 307) and r.headers["location"].startswith("/auth/login?next=")


async def test_an_unfinished_video_listens_to_its_stream_and_never_polls(client, settings):
    user = await make_user(credits=300)
    video = await make_video(user.id, status="processing", step="generating", progress=50)
    await sign_in(client, user)
    html = (await client.get(f"/videos/{video.id}")).text
    assert f'sse-connect="/videos/{video.id}/events"' in html and 'sse-close="done"' in html
    assert 'hx-trigger="every' not in html
    done = await make_video(user.id)
    html = (await client.get(f"/videos/{done.id}")).text
    assert "<video" in html and "sse-connect" not in html


async def test_the_video_page_speaks_the_studios_words(client, settings):
    user = await make_user(plan="pro")
    video = await make_video(
        user.id, model="sora-2-pro", resolution="720x1280", prompt="A red sneaker on wet sand, slow pan. Then a logo."
    )
    await sign_in(client, user)
    html = (await client.get(f"/videos/{video.id}")).text
    assert "<title>A red sneaker on wet sand, slow pan — AdsVideo</title>" in html
    assert '<h1 class="video-title">A red sneaker on wet sand, slow pan</h1>' in html
    assert "<dd>Sora 2 Pro</dd>" in html and "<dd>720×1280 portrait</dd>" in html
    assert f"Video #{video.id}" not in html and "<dd>sora-2-pro</dd>" not in html
    download = re.search(r'<a href="([^"]+)" role="button" download="([^"]+)">Download MP4</a>', html)
    assert download.group(2) == "a-red-sneaker-on-wet-sand-slow-pan-then-a-logo.mp4"
    saved = await client.get(download.group(1))
    assert saved.status_code == 200
    assert (
        saved.headers["content-disposition"]
        == 'attachment; filename="a-red-sneaker-on-wet-sand-slow-pan-then-a-logo.mp4"'
    )
    # a name that is not a plain file name is not echoed into the header
    odd = await client.get(f"/media/{video.video_key}?download=..%2Fx%22.mp4")
    assert odd.headers["content-disposition"].startswith('attachment; filename="adsvideo-')


def _step_states(html: str) -> dict[str, str]:
    return {
        unescape(label): state
        for state, label in re.findall(
            r'<li class="step step-(\w+)"><span class="step-dot" aria-hidden="true"></span>([^<]+)', html
        )
    }


async def test_the_steps_follow_the_log_when_the_row_lags_behind(client, settings):
    """The log already says "Generating" while the row still says "submitting": Generating is current."""
    user = await make_user()
    video = await make_video(
        user.id,
        status="processing",
        step="submitting",
        progress=40,
        events=[
            ("queued", "Queued", 0),
            ("preparing", "Preparing", 5),
            ("submitting", "Sent", 10),
            ("waiting", "In the queue", 15),
            ("generating", "Generating 20%", 40),
        ],
    )
    await sign_in(client, user)
    states = _step_states((await client.get(f"/videos/{video.id}")).text)
    assert states["Generating"] == "current"
    assert [
        states[s]
        for s in ("Queued", "Preparing the reference image", "Submitting to the model", "Waiting in the model's queue")
    ] == ["done"] * 4
    assert states["Saving the video"] == "todo" and list(states.values()).count("current") == 1


async def test_after_a_retry_the_steps_start_again(client, settings):
    user = await make_user()
    video = await make_video(
        user.id,
        status="pending",
        step="queued",
        events=[
            ("queued", "Queued", 0),
            ("submitting", "Sent", 10),
            ("generating", "50%", 50),
            ("failed", "The model refused this prompt.", 50),
            ("queued", "Queued again", 0),
        ],
    )
    await sign_in(client, user)
    states = _step_states((await client.get(f"/videos/{video.id}")).text)
    assert states["Queued"] == "current"
    assert states["Generating"] == "todo" and states["Submitting to the model"] == "todo"


async def test_the_count_follows_the_filter(client, settings):
    user = await make_user()
    for i in range(3):
        await make_video(user.id, prompt=f"done {i}")
    await make_video(user.id, status="failed", prompt="broken")
    await sign_in(client, user)
    page = await client.get("/videos")
    assert re.search(r'id="library-count">\s*4 videos\s*<', page.text)
    fragment = await client.get("/videos?status=failed", headers=HX)
    count = re.search(
        r'<p class="muted library-count" id="library-count" hx-swap-oob="true">\s*([^<]+?)\s*</p>', fragment.text
    )
    assert count.group(1) == "1 failed video"
    full = await client.get("/videos?status=completed")
    assert re.search(r'id="library-count">\s*3 completed videos\s*<', full.text)
    assert "hx-swap-oob" not in full.text.split('id="library-count"')[0][-80:]


async def test_a_refused_video_leads_with_change_and_try_again(client, settings):
    user = await make_user(credits=500)
    refused = await make_video(
        user.id, status="failed", error_message="The prompt was refused by moderation.", credits_charged=100
    )
    await sign_in(client, user)
    html = (await client.get(f"/videos/{refused.id}")).text
    actions = html.split('class="result-actions', 1)[1].split("</div>", 1)[0]
    first = re.search(r"<(a|button)[^>]*>([^<]+)<", actions)
    assert first.group(2) == "Change and try again" and 'role="button" class="change-again"' in actions
    assert "Try the same again (100 credits)" in actions and 'class="secondary outline">Try the same again' in actions
    assert "would most likely fail the same way" in html


async def test_a_video_the_service_gave_up_on_leads_with_try_again(client, settings):
    from app.videos.pipeline import EXHAUSTED_MESSAGE

    user = await make_user(credits=500)
    busy = await make_video(user.id, status="failed", error_message=EXHAUSTED_MESSAGE, credits_charged=100)
    await sign_in(client, user)
    html = (await client.get(f"/videos/{busy.id}")).text
    actions = html.split('class="result-actions', 1)[1].split("</div>", 1)[0]
    first = re.search(r"<(a|button)[^>]*>([^<]+)<", actions)
    assert first.group(2) == "Try again (100 credits)"
    assert "would most likely fail the same way" not in html


async def test_the_variations_page_names_model_and_size_as_the_studio_does(client, settings):
    user = await make_user(plan="pro")
    for _ in range(2):
        await make_video(
            user.id,
            model="sora-2-pro",
            resolution="720x1280",
            group_id="g-1",
            prompt="A glass of iced tea on a picnic table. Summer.",
        )
    await sign_in(client, user)
    html = (await client.get("/videos/group/g-1")).text
    assert "Sora 2 Pro · 4 s · 720×1280 portrait" in html and "sora-2-pro" not in html
