"""The results collector ``elmo-report``: run rows in, tables and plots out.

``rows`` (the run-row schema, reading rows and their per-example scores), ``stats`` (cells,
their statistics and the comparisons between them), ``significance`` (intervals, tests and
Holm's correction), ``tables`` (markdown and CSV), ``plots``, ``paper`` (the ELMo paper's
reference figures) and ``cli`` (the command).
"""
