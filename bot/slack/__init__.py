"""The Slack edge: a thin Bolt app over the chat services (``bot.chat``). Listeners ack, then work in tracked
tasks; ``answer`` reads Slack's payloads (``text`` undoes Slack's escaping) and makes the Web API calls."""
