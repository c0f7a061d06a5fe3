"""Prometheus metrics on ``GET /metrics``; one registry per app so that tests can run two apps."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.metrics_core import Metric

Samples = list[list[Any]]
"""A process's counters and histograms, as JSON: ``[[family, type, help, [[sample, labels, value], …]], …]``."""

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

    def render(self, others: Sequence[Samples] = ()) -> bytes:
        """The exposition text; with ``others`` (a worker process's :meth:`samples`), their counts added in."""
        if not others:
            return generate_latest(self.registry)
        return generate_latest(_Families(_merged(self.registry.collect(), others)))

    def samples(self) -> Samples:
        """The counters and histograms (not the gauges, which say what one process sees) for another
        process to add to its own: what a worker process reports to the process that serves /metrics."""
        return [
            [f.name, f.type, f.documentation, [[s.name, s.labels, s.value] for s in f.samples if _summed(s.name)]]
            for f in self.registry.collect()
            if f.type in {"counter", "histogram"}
        ]


def _summed(sample: str) -> bool:
    return not sample.endswith("_created")  # a creation time, not a count


def _merged(mine: Iterable[Metric], others: Sequence[Samples]) -> list[Metric]:
    families: dict[str, Metric] = {}
    values: dict[str, dict[tuple[str, tuple[tuple[str, str], ...]], float]] = {}
    for family in mine:
        families[family.name] = family
        values[family.name] = {(s.name, tuple(sorted(s.labels.items()))): s.value for s in family.samples}
    for samples in others:
        for name, kind, documentation, rows in samples:
            if name not in families:
                families[name] = Metric(name, documentation, kind)
                values[name] = {}
            for sample, labels, value in rows:
                key = (sample, tuple(sorted(labels.items())))
                values[name][key] = values[name].get(key, 0.0) + float(value)
    merged = []
    for name, family in families.items():
        copy = Metric(family.name, family.documentation, family.type, family.unit)
        for (sample, labels), value in values[name].items():
            copy.add_sample(sample, dict(labels), value)
        merged.append(copy)
    return merged


class _Families:
    """A collector of ready-made families, for ``generate_latest``."""

    def __init__(self, families: list[Metric]) -> None:
        self._families = families

    def collect(self) -> list[Metric]:
        return self._families
