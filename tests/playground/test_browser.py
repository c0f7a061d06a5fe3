"""The playground in a real browser (Debian's Chromium, headless, driven by Playwright): a pasted token
gets its card in the thread, buttons update it in place, hostile claims stay text, the console stays clean.

Set PLAYGROUND_SCREENSHOTS=<folder> to keep screenshots of what the tests saw.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from playwright.async_api import expect

from bot.demo import SAMPLES
from bot.playground.server import Playground
from tests.playground.conftest import Tab, signature_of, skewed_token, token


async def shoot(tab: Tab, name: str, element: Any = None) -> None:
    folder = os.environ.get("PLAYGROUND_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        await (element or tab.page).screenshot(path=str(Path(folder) / f"{name}.png"))


async def send(tab: Tab, text: str, where: str = "#channel-composer") -> None:
    box = tab.page.locator(f"{where} textarea")
    await box.fill(text)
    await box.press("Enter")
    await expect(box).to_have_value("")


def card_in_thread(tab: Tab) -> Any:
    return tab.page.locator("#thread-messages article.msg").filter(has=tab.page.locator(".bk-header")).first


def assert_clean(tab: Tab) -> None:
    assert tab.errors == [], tab.errors
    assert tab.dialogs == [], tab.dialogs


async def test_a_pasted_skewed_token_gets_its_card_in_the_thread_and_show_fix_expands_it(tab: Tab) -> None:
    raw = skewed_token()
    await send(tab, f"our API says 401, token: Bearer {raw}")
    mine = tab.page.locator("#channel-messages article.msg[data-author=me]")
    await expect(mine).to_contain_text("Bearer")
    await mine.get_by_role("button", name="1 reply").click()

    card = card_in_thread(tab)
    await expect(card.locator(".bk-header")).to_contain_text(re.compile("clock skew", re.IGNORECASE))
    await expect(card).to_contain_text("What fixes it")
    await expect(card.locator(".bk-section").filter(has_text=re.compile(r"\d+%")).first).to_be_visible()
    await expect(card).to_contain_text("Don't bother")
    await expect(card.locator("b").first).to_be_visible()  # mrkdwn *bold* drawn as bold, not as asterisks
    await expect(card.locator(".mk-pre")).to_have_count(0)  # no snippet before a click

    await card.get_by_role("button", name="Show fix: PyJWT").click()
    snippet = card_in_thread(tab).locator(".mk-pre").first
    await expect(snippet).to_contain_text("jwt.decode(")
    await expect(snippet).to_contain_text("leeway=")
    pressed = card_in_thread(tab).get_by_role("button", name="Show fix: PyJWT")
    await expect(pressed).to_have_class(re.compile("bk-primary"))
    await shoot(tab, "card-after-show-fix")
    if os.environ.get("PLAYGROUND_SCREENSHOTS"):  # the whole card, in a window tall enough to hold it
        await tab.page.set_viewport_size({"width": 1500, "height": 2400})
        await shoot(tab, "card-after-show-fix-whole", card_in_thread(tab))

    thread_text = await tab.page.locator("#thread-messages").inner_text()
    assert signature_of(raw) not in thread_text  # the bot's card never shows the signature
    assert_clean(tab)


async def test_a_stack_picked_in_other_stacks_expands_its_fix(tab: Tab) -> None:
    await send(tab, f"401 again: Bearer {skewed_token()}")
    await (
        tab.page.locator("#channel-messages article.msg[data-author=me]")
        .last.get_by_role("button", name="1 reply")
        .click()
    )
    more = card_in_thread(tab).get_by_role("combobox", name="Other stacks…")
    await expect(more).to_be_visible()
    await more.select_option(label="golang-jwt")
    snippet = card_in_thread(tab).locator(".mk-pre").first
    await expect(snippet).to_contain_text("jwt.WithLeeway(")
    await expect(card_in_thread(tab).get_by_role("combobox", name="Other stacks…")).to_have_value(
        re.compile(r"\|golang-jwt$")
    )
    assert_clean(tab)


async def test_hostile_claims_render_as_text_and_run_nothing(tab: Tab) -> None:
    raw = token(
        sub="<img src=x onerror=alert(1)>",
        iss="<script>alert(2)</script>",
        aud="<!channel>",
        name="<a href=javascript:alert(3)>x</a>",
    )
    await send(tab, f"{raw} aud=orders-api")
    await send(tab, "<img src=x onerror=alert(4)> <!here> *not a tag* <script>alert(5)</script>")
    await tab.page.locator("#channel-messages").get_by_role("button", name="1 reply").click()

    card = card_in_thread(tab)
    await expect(card.locator(".bk-header")).to_be_visible()
    await expect(card).to_contain_text("<img src=x onerror=alert(1)>")
    await expect(card).to_contain_text("<script>alert(2)</script>")
    await expect(card).to_contain_text("<!channel>")
    await shoot(tab, "hostile-claims")

    typed = tab.page.locator("#channel-messages article.msg[data-author=me]").last
    await expect(typed).to_contain_text("<img src=x onerror=alert(4)>")
    await expect(typed).to_contain_text("<script>alert(5)</script>")
    assert await tab.page.locator(".msg-content img, .msg-content script, .msg-content iframe").count() == 0
    assert await tab.page.locator("script").count() == 1  # the page's own module, nothing injected
    assert await tab.page.locator(".msg-content a").count() == 0  # no link came out of a claim
    assert await tab.page.evaluate("() => document.querySelectorAll('[onerror], [onclick], [onload]').length") == 0
    assert_clean(tab)


async def test_slash_command_from_a_sample_votes_update_in_place_and_json_shows(tab: Tab) -> None:
    page = tab.page
    await page.locator("#channel-composer").get_by_role("button", name="Samples ▾").click()
    await expect(page.get_by_role("menuitem")).to_have_count(len(SAMPLES))
    await shoot(tab, "samples-menu")
    await page.get_by_role("menuitem", name=re.compile("Clock skew")).click()
    box = page.locator("#channel-composer textarea")
    await expect(box).to_have_value(re.compile(r"^eyJ"))
    await box.fill("/jwtcheck " + await box.input_value())
    await box.press("Enter")

    summary = page.locator("#channel-messages article.msg[data-author=bot]").first
    await expect(summary).to_contain_text("@you ran /jwtcheck")
    await expect(summary.locator(".mk-code")).to_have_text("/jwtcheck")
    await summary.get_by_role("button", name="1 reply").click()
    card = card_in_thread(tab)
    await expect(card.locator(".bk-header")).to_contain_text(re.compile("clock skew", re.IGNORECASE))

    await card.get_by_role("button", name="This fixed it").first.click()
    await expect(card_in_thread(tab)).to_contain_text("1 of 1 here")
    await card_in_thread(tab).get_by_role("button", name="Didn't help").first.click()
    await expect(card_in_thread(tab)).to_contain_text("0 of 1 here")

    await page.locator("#json-all").check()
    raw_json = card_in_thread(tab).locator("pre.json")
    await expect(raw_json).to_contain_text('"type": "header"')
    await expect(raw_json).to_contain_text('"type": "actions"')
    await shoot(tab, "json-view")
    assert_clean(tab)


async def test_thread_replies_mentions_and_unknown_commands(tab: Tab, playground: Playground) -> None:
    page = tab.page
    await send(tab, "/deploy now")
    await expect(page.locator("#channel-messages article.msg-ephemeral")).to_contain_text("is not a valid command")

    await send(tab, "the orders API refuses this since the deploy")
    await page.locator("#channel-messages article.msg[data-author=me]").last.hover()
    await (
        page.locator("#channel-messages article.msg[data-author=me]")
        .last.get_by_role("button", name="Reply in thread")
        .click()
    )
    await send(tab, f"here it is: {token(exp=-7200)}", where="#thread-composer")
    await expect(card_in_thread(tab).locator(".bk-header")).to_contain_text(re.compile("expired", re.IGNORECASE))
    await send(tab, "@jwtcheck what about this one?", where="#thread-composer")
    await expect(page.locator("#thread-messages article.msg[data-author=bot]")).to_have_count(2)
    await playground.settle()
    await expect(page.locator("#thread-messages article.msg[data-author=bot]")).to_have_count(2)
    assert_clean(tab)


async def test_the_renderer_turns_mrkdwn_into_nodes_and_never_into_markup(tab: Tab) -> None:
    cases: dict[str, str] = await tab.page.evaluate("""async () => {
        const { renderMrkdwn, renderPlain } = await import('/static/mrkdwn.js');
        const { renderBlocks } = await import('/static/blocks.js');
        const html = (node) => { const d = document.createElement('div'); d.append(node); return d.innerHTML; };
        const text = (node) => { const d = document.createElement('div'); d.append(node); return d.textContent; };
        const blocks = renderBlocks([
          {type: 'header', text: {type: 'plain_text', text: '⛔ A &amp; B &lt;img src=x onerror=alert(1)&gt;'}},
          {type: 'section', block_id: 's', text: {type: 'mrkdwn', text: '*Why*'},
           fields: [{type: 'mrkdwn', text: '_one_'}, {type: 'plain_text', text: ':warning: two'}]},
          {type: 'divider'},
          {type: 'context', elements: [{type: 'mrkdwn', text: 'ctx `x`'},
                                       {type: 'image', image_url: 'https://x.test/a.png', alt_text: 'alt'}]},
          {type: 'actions', block_id: 'a', elements: [
             {type: 'button', text: {type: 'plain_text', text: 'Go'}, action_id: 'go', style: 'primary'},
             {type: 'static_select', action_id: 'sel', placeholder: {type: 'plain_text', text: 'Other stacks…'},
              options: [{text: {type: 'plain_text', text: '<b>opt</b>'}, value: 'v'}]},
             {type: 'overflow', action_id: 'more'}]},
          {type: 'rich_text', elements: [{type: 'rich_text_section', elements: [
             {type: 'text', text: '<b>raw</b>', style: {bold: true}},
             {type: 'link', url: 'javascript:alert(1)', text: 'js'},
             {type: 'emoji', name: 'tada'}, {type: 'broadcast', range: 'channel'}]},
             {type: 'rich_text_list', style: 'bullet', elements: [
                {type: 'rich_text_section', elements: [{type: 'text', text: 'item'}]}]},
             {type: 'rich_text_preformatted', elements: [{type: 'text', text: 'pre <i>'}]}]},
          {type: 'video', title: {type: 'plain_text', text: 'v'}},
        ], {});
        return {
          entities: html(renderMrkdwn('&lt;img src=x onerror=alert(1)&gt; &amp;lt;')),
          raw_tag: html(renderMrkdwn('<img src=x onerror=alert(1)>')),
          broadcast: html(renderMrkdwn('<!channel> <!here> <@U0JWTCHECK>',
                                       {members: {U0JWTCHECK: {name: 'jwtcheck'}}})),
          js_link: html(renderMrkdwn('<javascript:alert(1)|click me> <data:text/html,x|d>')),
          link: html(renderMrkdwn('<https://example.test/a?b=1&amp;c=2|the docs> <http://example.test>')),
          styles: html(renderMrkdwn('*bold* _it_ ~gone~ `co*de*` snake_case_name 2*3*4')),
          nested: html(renderMrkdwn('*bold _and italic_*')),
          fence: html(renderMrkdwn('before\\n```\\nx = "<b>y</b>" &amp; *z*\\n```\\nafter')),
          quote: html(renderMrkdwn('> quoted\\n&gt; typed *quote*\\nplain &gt; text')),
          emoji: text(renderMrkdwn(':warning: :white_check_mark: :not_an_emoji:')),
          plain: text(renderPlain('&lt;b&gt; :tada:', true)) + '|' + text(renderPlain(':tada:', false)),
          blocks: blocks.outerHTML,
        };
    }""")
    assert cases["entities"] == "&lt;img src=x onerror=alert(1)&gt; &amp;lt;"
    assert cases["raw_tag"] == "&lt;img src=x onerror=alert(1)&gt;"
    assert cases["broadcast"] == (
        '<span class="mk-mention mk-broadcast">@channel</span> '
        '<span class="mk-mention mk-broadcast">@here</span> '
        '<span class="mk-mention">@jwtcheck</span>'
    )
    assert "<a" not in cases["js_link"] and "javascript:alert(1)|click me" in cases["js_link"]
    assert cases["link"].count("<a ") == 2
    assert 'href="https://example.test/a?b=1&amp;c=2"' in cases["link"] and ">the docs</a>" in cases["link"]
    assert 'rel="noopener noreferrer"' in cases["link"]
    assert cases["styles"] == (
        '<b>bold</b> <i>it</i> <s>gone</s> <code class="mk-code">co*de*</code> snake_case_name 2*3*4'
    )
    assert cases["nested"] == "<b>bold <i>and italic</i></b>"
    assert cases["fence"] == 'before<pre class="mk-pre">x = "&lt;b&gt;y&lt;/b&gt;" &amp; *z*</pre>after'
    assert cases["quote"] == '<blockquote class="mk-quote">quoted\ntyped <b>quote</b></blockquote>plain &gt; text'
    assert cases["emoji"] == "⚠️ ✅ :not_an_emoji:"
    assert cases["plain"] == "<b> 🎉|:tada:"
    blocks = cases["blocks"]
    for kind in ("header", "section", "divider", "context", "actions", "rich_text"):
        assert f'data-block-type="{kind}"' in blocks
    assert "A &amp; B &lt;img src=x onerror=alert(1)&gt;" in blocks and "<img" not in blocks
    assert "<b>Why</b>" in blocks and "<i>one</i>" in blocks and "⚠️ two" in blocks
    assert 'class="bk-button bk-primary"' in blocks and "overflow element is not drawn" in blocks
    assert 'class="bk-select"' in blocks and "&lt;b&gt;opt&lt;/b&gt;" in blocks  # an option's text is text
    assert "<b>&lt;b&gt;raw&lt;/b&gt;</b>" in blocks and "javascript:" not in blocks.replace(">js<", "")
    assert "🎉" in blocks and "@channel" in blocks and "<li>" in blocks and "pre &lt;i&gt;" in blocks
    assert "video block is not drawn" in blocks and "x.test/a.png" not in blocks
    assert_clean(tab)


# --- the private check, the message shortcut, the App Home, a second channel ------------------------


def modal(tab: Tab) -> Any:
    return tab.page.locator("#modal")


async def test_jwtcheck_alone_opens_the_private_check_errors_show_inline_and_the_card_appears_in_it(
    tab: Tab, playground: Playground
) -> None:
    page = tab.page
    await send(tab, "/jwtcheck")
    form = modal(tab)
    await expect(form).to_be_visible()
    await expect(form.locator("#modal-title")).to_have_text("Private JWT check")
    await expect(form.get_by_role("button", name="Check")).to_be_visible()

    await form.get_by_role("button", name="Check").click()  # empty: Slack's own "required" error
    await expect(form.locator(".bk-input-error")).to_have_text("Please complete this required field.")
    await form.get_by_label("Token, header, log line or error text").fill("nothing to see here")
    await form.get_by_label("Leeway in seconds").fill("soon")
    await form.get_by_role("button", name="Check").click()
    leeway_error = form.locator(".bk-input").filter(has_text="Leeway in seconds").locator(".bk-input-error")
    await expect(leeway_error).to_contain_text("seconds")
    await expect(form.get_by_label("Token, header, log line or error text")).to_have_value("nothing to see here")
    await shoot(tab, "private-check-errors")

    raw = skewed_token()
    await form.get_by_label("Token, header, log line or error text").fill(raw)
    await form.get_by_label("Leeway in seconds").fill("")
    await form.get_by_role("button", name="Check").click()
    await expect(form.locator(".bk-header")).to_contain_text(re.compile("clock skew", re.IGNORECASE))
    await expect(form).to_contain_text("Only you can see this check")
    await form.get_by_role("button", name="Show fix: PyJWT").click()
    await expect(form.locator(".mk-pre").first).to_contain_text("jwt.decode(")
    await shoot(tab, "private-check-card")
    assert signature_of(raw) not in await form.inner_text()
    assert await page.locator("#channel-messages article.msg[data-author=bot]").count() == 0  # nothing posted

    await form.get_by_role("button", name="Done").click()
    await expect(form).to_be_hidden()
    assert_clean(tab)


async def test_the_shortcuts_menu_opens_the_private_check(tab: Tab) -> None:
    page = tab.page
    await page.locator("#channel-composer").get_by_role("button", name="Shortcuts").click()
    await page.get_by_role("menuitem", name="Check a token privately").click()
    await expect(modal(tab)).to_be_visible()
    await expect(modal(tab).get_by_label("Token, header, log line or error text")).to_be_focused()
    await modal(tab).get_by_role("button", name="Cancel").click()
    await expect(modal(tab)).to_be_hidden()
    assert_clean(tab)


async def test_diagnose_with_jwtcheck_on_a_messages_menu_answers_in_its_thread(tab: Tab) -> None:
    page = tab.page
    await send(tab, "/jwtcheck help")  # something in the channel first, so the message is not the first
    raw = token(exp=-7200)
    await send(tab, f"the gateway logged {raw}")
    mine = page.locator("#channel-messages article.msg[data-author=me]").last
    await mine.hover()
    await mine.get_by_role("button", name="More actions").click()
    await shoot(tab, "message-menu")
    await page.get_by_role("menuitem", name="Diagnose with jwtcheck").click()
    await expect(mine.locator(".replies")).to_have_text(re.compile(r"[2-9] replies"))  # the paste's, the shortcut's
    await mine.locator(".replies").click()
    cards = page.locator("#thread-messages article.msg[data-author=bot]").filter(has=page.locator(".bk-header"))
    await expect(cards.last.locator(".bk-header")).to_contain_text(re.compile("expired", re.IGNORECASE))
    assert signature_of(raw) not in await page.locator("#thread-messages").inner_text()
    assert_clean(tab)


async def test_the_home_tab_shows_the_published_home_and_its_button_opens_the_private_check(
    tab: Tab, playground: Playground
) -> None:
    page = tab.page
    await page.locator("#side-app").click()
    home = page.locator("#home-body")
    await expect(home.locator(".bk-header").first).to_contain_text("jwtcheck")
    await expect(home).to_contain_text(re.compile("last 30 days|diagnos", re.IGNORECASE))
    await expect(page.locator("#channel")).to_be_hidden()
    await shoot(tab, "app-home")
    await home.get_by_role("button", name="Check a token privately").click()
    await expect(modal(tab)).to_be_visible()
    await expect(modal(tab).locator("#modal-title")).to_have_text("Private JWT check")
    await modal(tab).get_by_role("button", name="Cancel").click()

    await page.locator("#side-channels").get_by_role("button", name="# payments").click()
    await expect(page.locator("#channel-name")).to_have_text("payments")
    await send(tab, "/jwtcheck help")
    await expect(page.locator("#channel-messages article.msg")).to_have_count(1)
    await page.locator("#side-channels").get_by_role("button", name="# incident").click()
    await expect(page.locator("#channel-messages article.msg")).to_have_count(0)
    assert_clean(tab)
