"""The baseline for ack latency: a bare Bolt AsyncApp that acks a no-op /jwtcheck, on the same aiohttp stack."""

from __future__ import annotations

import os

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.web.async_client import AsyncWebClient


def main() -> None:
    client = AsyncWebClient(token=os.environ["SLACK_BOT_TOKEN"], base_url=os.environ["SLACK_API_URL"])
    app = AsyncApp(client=client, signing_secret=os.environ["SLACK_SIGNING_SECRET"])

    @app.command("/jwtcheck")
    async def noop(ack: AsyncAck) -> None:
        await ack()

    app.start(port=int(os.environ["PORT"]), path="/slack/events")


if __name__ == "__main__":
    main()
