"""The durable outbox: answers kept until they are delivered, by any replica (see ``outbox.py``)."""

from __future__ import annotations

from bot.outbox.deliver import Refused, Retry, Sender, deliver, progress_key
from bot.outbox.delivery import Call, Delivery, delivery_id
from bot.outbox.outbox import DEAD, GROUP, STREAM, Outbox

__all__ = [
    "DEAD",
    "GROUP",
    "STREAM",
    "Call",
    "Delivery",
    "Outbox",
    "Refused",
    "Retry",
    "Sender",
    "deliver",
    "delivery_id",
    "progress_key",
]
