"""A worker's counters and histograms are added into the serving process's /metrics; gauges are not."""

from __future__ import annotations

import json

from bot.slack.metrics import Metrics


def test_a_worker_s_counts_are_added_to_the_serving_process_s_and_gauges_stay_its_own() -> None:
    serving, worker = Metrics(), Metrics()
    serving.slack_errors.labels("auth.test", "http_500").inc()
    serving.redis_up.set(1)
    serving.ack_latency.observe(0.002)
    worker.slack_errors.labels("auth.test", "http_500").inc(2)
    worker.diagnoses.labels("expired").inc(3)
    worker.redis_up.set(0)
    reported = json.loads(json.dumps(worker.samples()))  # as it crosses the pipe
    text = serving.render([reported]).decode()
    assert 'jwtcheck_slack_api_errors_total{error="http_500",method="auth.test"} 3.0' in text
    assert 'jwtcheck_diagnoses_total{cause="expired"} 3.0' in text
    assert "jwtcheck_redis_up 1.0" in text and "jwtcheck_ack_latency_seconds_count 1.0" in text
    assert text.count("# TYPE jwtcheck_diagnoses_total counter") + text.count("# TYPE jwtcheck_diagnoses counter") == 1
