"""The pure diagnosis core: scan, decode, check. No Slack, no Redis, no network."""
