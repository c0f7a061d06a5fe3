"""The Slack edge: a thin Bolt app over the chat services (``bot.chat``). ``ingress`` verifies the raw bytes;
listeners ack and submit their work (``work``: inline, or in the worker process); ``answer`` reads Slack's
payloads (``text`` undoes Slack's escaping) and puts what to post in the outbox, which ``sender`` delivers."""
