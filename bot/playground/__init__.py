"""``python -m bot playground``: the real bot, a small Slack emulator and a Slack-like page, in one process.

- ``workspace``: the emulated workspace's state (one channel, its messages and threads), in memory;
- ``emulator``: the Slack Web API methods the bot calls, and ``response_url`` hooks;
- ``payloads`` / ``delivery``: what a person does in the page, as the signed requests Slack would send;
- ``page``: the page, its static assets and its small JSON + WebSocket API;
- ``server``: all of it around ``bot.slack.app.Runtime`` on one port.
"""
