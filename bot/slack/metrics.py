"""Prometheus metrics on ``GET /metrics``; one registry per app so that tests can run two apps."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

__all__ = ["CONTENT_TYPE_LATEST", "Metrics"]


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.diagnoses = Counter(
            "jwtcheck_diagnoses", "Diagnoses made, by cause (valid has cause none)", ["cause"], registry=self.registry
        )
        self.cache = Counter("jwtcheck_cache_requests", "Diagnosis cache lookups", ["result"], registry=self.registry)
        self.slack_errors = Counter(
            "jwtcheck_slack_api_errors",
            "Slack Web API calls that failed, by method",
            ["method", "error"],
            registry=self.registry,
        )
        self.redis_up = Gauge(
            "jwtcheck_redis_up", "1 when Redis answers, 0 when degraded, -1 when not configured", registry=self.registry
        )
        self.ack_latency = Histogram(
            "jwtcheck_ack_latency_seconds",
            "Time from request to HTTP response on /slack/events",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0),
            registry=self.registry,
        )
        self.outbox = Counter(
            "jwtcheck_outbox",
            "Outbox events: delivered, retry, dead (dead-lettered), handed_back, memory (kept in process), "
            "dropped, lost",
            ["event", "detail"],
            registry=self.registry,
        )
        self.cards = Counter("jwtcheck_cards_posted", "Cards posted or updated", ["kind"], registry=self.registry)

    def render(self) -> bytes:
        return generate_latest(self.registry)
