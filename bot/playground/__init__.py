"""``python -m bot playground``: the real bot, a small Slack emulator and a Slack-like page, in one process.

- ``workspace``: the emulated workspace's state (two channels, their messages and threads, the person's
  open modals and Home tab), in memory;
- ``emulator``: the Slack Web API methods the bot calls (messages and views), ``response_url`` hooks and
  trigger_ids;
- ``payloads`` / ``delivery``: what a person does in the page, as the signed requests Slack would send;
- ``page``: the page, its static assets and its small JSON + WebSocket API;
- ``server``: all of it around ``bot.slack.app.Runtime`` on one port.
"""
