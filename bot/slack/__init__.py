"""The Slack bot: a thin Bolt app over the diagnosis service. Listeners ack, then work in tracked tasks."""
