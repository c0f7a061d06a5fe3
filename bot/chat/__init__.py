"""What any chat platform's bot does, whatever the platform: the services behind an edge.

- ``answer``: :class:`Chat`, the orchestration of an answer: diagnose through the service, record the
  clock evidence, build each card's state and options, draw the cards with the renderer the edge hands
  it (Block Kit for Slack) and save their state;
- ``claims``: at-most-once work per delivery (retries, twin events), across replicas;
- ``cards``: a card's state for clicks, and the workspace's votes on its fixes;
- ``clocks``: the clock book (clock evidence per channel), the service probe, and which estimate a
  card's 🕒 note shows.

Nothing here imports a chat SDK (slack_bolt, slack_sdk): an edge such as ``bot/slack/`` translates its
platform's payloads into these calls and posts what they return. A second platform adds an edge.
"""
