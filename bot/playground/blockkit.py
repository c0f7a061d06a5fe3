"""What Slack would refuse in ``blocks``, checked with slack_sdk's own models (types, lengths, counts).

The playground answers ``invalid_blocks`` as Slack does, so a card change that Slack would reject fails
in the preview too, not only in a workspace.
"""

from __future__ import annotations

from typing import Any

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block

MAX_BLOCKS = 50


def block_problems(blocks: Any) -> list[str]:
    """Slack-style error strings (``… [json-pointer:/blocks/3/text]``); empty when Slack would take them."""
    if not isinstance(blocks, list):
        return ["blocks must be an array [json-pointer:/blocks]"]
    problems: list[str] = []
    if len(blocks) > MAX_BLOCKS:
        problems.append(f"no more than {MAX_BLOCKS} items allowed [json-pointer:/blocks]")
    seen: set[str] = set()
    for index, block in enumerate(blocks):
        where = f"[json-pointer:/blocks/{index}]"
        if not isinstance(block, dict):
            problems.append(f"must be an object {where}")
            continue
        block_id = block.get("block_id")
        if isinstance(block_id, str):
            if block_id in seen:
                problems.append(f"duplicate block_id {block_id[:64]!r} {where}")
            seen.add(block_id)
        try:
            parsed = Block.parse(block)
            if parsed is None:
                problems.append(f"unsupported type {str(block.get('type'))[:40]!r} {where}")
                continue
            parsed.to_dict()  # slack_sdk validates lengths and required fields here
        except SlackObjectFormationError as failure:
            problems.append(f"{failure} {where}")
        except (KeyError, TypeError, ValueError, AttributeError) as failure:
            problems.append(f"invalid block ({type(failure).__name__}) {where}")
    return problems
