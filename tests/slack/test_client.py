"""The Slack clients send no signature, whatever the caller hands them: checked at the fake Slack's end."""

from __future__ import annotations

import base64
import json
import random
from typing import Any
from urllib.parse import unquote_plus

import pytest
from slack_sdk.models.blocks import ContextBlock, MarkdownTextObject, SectionBlock

from bot.diagnosis.redact import REDACTION_MARKER
from bot.slack.client import RedactingWebClient, RedactingWebhookClient, scrubbed
from tests.support.slack_api import BOT_TOKEN, MockSlack
from tests.support.tokens import make_token, signature_of

FRAGMENT = 12
BREAKS = ("\n", "\r\n", "\n  ", "\n> ", "\r\n> > ", "\n\t")


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def generated_tokens(count: int, seed: int = 14) -> list[tuple[str, str]]:
    """(a token, as written with line breaks in it; its signature), random JSON and signature bytes."""
    draw = random.Random(seed)
    made = []
    for _ in range(count):
        header = {"alg": draw.choice(["RS256", "HS256", "ES256"]), "kid": draw.randbytes(4).hex()}
        payload = {"sub": draw.randbytes(6).hex(), "exp": draw.randrange(2**31), "n": [draw.random()]}
        signature = b64(draw.randbytes(draw.choice([32, 64, 256])))
        token = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(payload).encode())}.{signature}"
        for _ in range(draw.randrange(4)):
            at = draw.randrange(1, len(token))
            token = token[:at] + draw.choice(BREAKS) + token[at:]
        made.append((token, signature))
    return made


def pieces(signature: str) -> set[str]:
    return {signature[i : i + FRAGMENT] for i in range(len(signature) - FRAGMENT + 1)}


def sent(mock: MockSlack) -> str:
    """Everything that reached the fake Slack: bodies (raw and URL-decoded), query parameters, headers."""
    calls = mock.calls
    return "\n".join(
        [mock.everything_sent(), unquote_plus(mock.everything_sent())]
        + [json.dumps(call.params) + json.dumps(call.headers) for call in calls]
    )


# ------------------------------------------------------------------------------------------ scrubbed


def test_scrubbed_is_a_deep_copy_with_every_string_redacted_keys_included() -> None:
    token = make_token()
    value: dict[str, Any] = {
        "text": f"Bearer {token}",
        token: [token, (token, 3, None), {"nested": {"deeper": token}}],
        "n": 1.5,
        "ok": True,
        "none": None,
    }
    copy = scrubbed(value)
    assert signature_of(token) not in json.dumps(copy)
    assert value["text"] == f"Bearer {token}"  # the original is untouched
    key = next(key for key in copy if key.endswith(REDACTION_MARKER))
    assert isinstance(copy[key][1], tuple) and copy[key][1][1:] == (3, None)
    assert copy["n"] == 1.5 and copy["ok"] is True and copy["none"] is None


def test_scrubbed_turns_sdk_models_into_redacted_dicts() -> None:
    token = make_token()
    block = SectionBlock(text=MarkdownTextObject(text=f"*error* {token}"))
    copy = scrubbed({"blocks": [block, ContextBlock(elements=[MarkdownTextObject(text=token)])]})
    assert copy["blocks"][0]["type"] == "section" and signature_of(token) not in json.dumps(copy)


def test_scrubbed_survives_hostile_depth() -> None:
    token = make_token()
    deep: Any = token
    for _ in range(20_000):
        deep = [deep]
    copy = scrubbed(deep)
    for _ in range(20_000):
        copy = copy[0]
    assert copy == f"{token.rsplit('.', 1)[0]}.{REDACTION_MARKER}"


# ------------------------------------------------------------------------------- the Web API client


async def test_the_web_client_sends_no_signature_whatever_it_is_given(slack: MockSlack) -> None:
    client = RedactingWebClient(token=BOT_TOKEN, base_url=slack.api_url)
    tokens = generated_tokens(24)
    for token, _ in tokens:
        text = f"401 Unauthorized: jwt expired token={token}\n  (see logs)"
        await client.chat_postMessage(
            channel="C1",
            text=text,
            blocks=[
                SectionBlock(text=MarkdownTextObject(text=f"`{text}`")),
                {"type": "context", "elements": [{"type": "mrkdwn", "text": token}]},
            ],
            metadata={"event_type": "jwtcheck", "event_payload": {token: token}},
        )
        await client.chat_update(channel="C1", ts="1.2", text=text, blocks=[])
        await client.api_call("conversations.replies", http_verb="GET", params={"channel": "C1", "ts": token})
        await client.api_call("chat.postEphemeral", data={"channel": "C1", "user": "U1", "text": text})
        await client.api_call("chat.postMessage", json={"channel": "C1", "text": [text, {"k": token}]})
    everything = sent(slack)
    assert len(slack.of("chat.postMessage")) == 2 * len(tokens)
    assert all(call.ok for call in slack.calls)  # the bot token was kept: every call authenticated
    for _, signature in tokens:
        assert not {piece for piece in pieces(signature) if piece in everything}


async def test_the_web_client_keeps_the_credential_it_is_given(slack: MockSlack) -> None:
    client = RedactingWebClient(token="xoxb-wrong", base_url=slack.api_url)
    response = await client.auth_test(token=BOT_TOKEN)  # a per-call token goes in the Authorization header
    assert response["ok"] and slack.of("auth.test")[-1].headers["Authorization"] == f"Bearer {BOT_TOKEN}"


async def test_an_uploaded_texts_content_is_scrubbed_too(slack: MockSlack) -> None:
    client = RedactingWebClient(token=BOT_TOKEN, base_url=slack.api_url)
    token = make_token()
    await client._upload_file(
        url=slack.response_url("upload"),
        data=f"log line {token}\n".encode(),
        logger=client.logger,
        timeout=5,
        proxy=None,
        ssl=None,
    )
    await client._upload_file(
        url=slack.response_url("binary"),
        data=b"\xff\xfe" + token.encode(),
        logger=client.logger,
        timeout=5,
        proxy=None,
        ssl=None,
    )
    [upload] = slack.of("response:upload")
    assert signature_of(token) not in upload.raw and "log line" in upload.raw


# ---------------------------------------------------------------------------- the response_url client


async def test_the_webhook_client_sends_no_signature_whatever_it_is_given(slack: MockSlack) -> None:
    tokens = generated_tokens(24, seed=15)
    for index, (token, _) in enumerate(tokens):
        webhook = RedactingWebhookClient(slack.response_url(f"r{index}"))
        text = f"Signature has expired\n> Bearer {token}"
        response = await webhook.send(
            text=text,
            blocks=[
                SectionBlock(text=MarkdownTextObject(text=text)),
                {"type": "section", "text": {"type": "mrkdwn", "text": token}},
            ],
            response_type="ephemeral",
            replace_original=True,
        )
        assert response.status_code == 200
        await webhook.send_dict({"text": token, "thread": {token: [token]}})
    everything = sent(slack)
    assert len(slack.calls) == 2 * len(tokens)
    for _, signature in tokens:
        assert not {piece for piece in pieces(signature) if piece in everything}


@pytest.mark.parametrize("shape", ["plain", "wrapped"])
async def test_what_is_sent_keeps_the_readable_parts(slack: MockSlack, shape: str) -> None:
    token = make_token()
    text = token if shape == "plain" else token[:-10] + "\n  " + token[-10:]
    await RedactingWebhookClient(slack.response_url("keep")).send(text=f"jwt expired {text} (see logs)")
    [call] = slack.of("response:keep")
    assert call.params["text"].startswith(f"jwt expired {token.rsplit('.', 1)[0]}.{REDACTION_MARKER}")
    assert call.params["text"].endswith("(see logs)")
