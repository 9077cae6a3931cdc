"""The results collector ``elmo-report``: run rows in, tables and plots out.

``rows`` (the run-row schema and reading rows), ``stats`` (cells and their statistics),
``tables`` (markdown and CSV), ``plots``, ``paper`` (the ELMo paper's reference figures)
and ``cli`` (the command).
"""
