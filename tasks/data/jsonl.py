"""JSON lines of multi-label texts: ``{"tokens": [...], "labels": [...]}`` per line.

``text`` (split on whitespace) may stand in for ``tokens``; ``labels`` may be empty.
"""

from __future__ import annotations

import json
import logging

from tasks.data.examples import MultiLabeledText
from tasks.data.files import DataFormatError, PathLike, check_max_samples, read_lines

logger = logging.getLogger(__name__)


def read_multilabel_jsonl(path: PathLike, *, max_samples: int | None = None) -> list[MultiLabeledText]:
    """Read one JSON object per non-blank line into :class:`MultiLabeledText`.

    Raises:
        DataFormatError: naming the file and line of invalid JSON or a missing field.
    """
    check_max_samples(max_samples)
    examples: list[MultiLabeledText] = []
    for number, line in read_lines(path):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise DataFormatError(str(path), f"invalid JSON: {error.msg}", number) from None
        tokens = record.get("tokens") if isinstance(record, dict) else None
        if tokens is None and isinstance(record, dict) and isinstance(record.get("text"), str):
            tokens = record["text"].split()
        labels = record.get("labels") if isinstance(record, dict) else None
        if not isinstance(tokens, list) or not tokens or not all(isinstance(t, str) for t in tokens):
            raise DataFormatError(str(path), 'expected "tokens" (a non-empty list of strings) or "text"', number)
        if not isinstance(labels, list) or not all(isinstance(label, str) for label in labels):
            raise DataFormatError(str(path), 'expected "labels": a list of strings', number)
        examples.append(MultiLabeledText(tokens, tuple(dict.fromkeys(labels))))
        if len(examples) == max_samples:
            break
    if not examples:
        raise DataFormatError(str(path), 'no examples; expected JSON lines {"tokens": [...], "labels": [...]}')
    logger.info("read %d texts from %s", len(examples), path)
    return examples
