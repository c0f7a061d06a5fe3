"""The drills of issue 14: real bot processes, a real Redis of their own, a mock Slack with outages."""
