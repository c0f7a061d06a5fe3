"""``python -m bot.cli``: what the ``jwtcheck`` console script runs."""

from bot.cli import main

raise SystemExit(main())
