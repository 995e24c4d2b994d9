"""Managers' analytics: the metric registry, the daily rows, periods, charts, exports, the screen.

Imports run one way: ``admin`` (the screen, the exports' views) → ``screen``/``exports``/
``charts`` → ``daily`` (the only writer of ChatAnalytics) and the readers ``periods``,
``current`` and ``conversations`` → ``registry``/``units``/``sql``/``days`` → chat.models.
A new metric is a model field plus one entry in ``registry.py``.
"""
