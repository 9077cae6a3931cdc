"""Span tag schemes: IOB1 (CoNLL-2003), IOB2 (BIO) and BIOES, and converting between them."""

from __future__ import annotations

import re
from collections.abc import Sequence

_TAG = re.compile(r"([BIES])-(.+)")


def split_tag(tag: str, position: int) -> tuple[str, str]:
    """``B-PER`` -> ``("B", "PER")``; ``O`` -> ``("O", "")``."""
    if tag == "O":
        return "O", ""
    match = _TAG.fullmatch(tag)
    if match is None:
        raise ValueError(
            f"tag {tag!r} at position {position} is neither O nor B-, I-, E- or S- plus a type"
        )
    return match.group(1), match.group(2)


def iob1_to_iob2(tags: Sequence[str]) -> list[str]:
    """Convert IOB1 tags (CoNLL-2003) to IOB2 (BIO): every entity starts with ``B-``.

    In IOB1 an entity starts with ``I-`` unless it directly follows one of the same type,
    so an ``I-X`` after ``O``, after another type, or first in the sentence becomes ``B-X``.
    """
    converted = []
    previous_type = ""
    for position, tag in enumerate(tags):
        prefix, entity_type = split_tag(tag, position)
        if prefix in ("E", "S"):
            raise ValueError(f"tag {tag!r} at position {position} is not IOB1")
        if prefix == "I" and entity_type != previous_type:
            prefix = "B"
        converted.append("O" if prefix == "O" else f"{prefix}-{entity_type}")
        previous_type = entity_type
    return converted


def iob2_to_bioes(tags: Sequence[str]) -> list[str]:
    """Convert IOB2 tags to BIOES: single-token entities become ``S-``, last tokens ``E-``."""
    converted = []
    for position, tag in enumerate(tags):
        prefix, entity_type = split_tag(tag, position)
        if prefix in ("E", "S"):
            raise ValueError(f"tag {tag!r} at position {position} is not IOB2")
        if prefix == "I" and (
            position == 0 or split_tag(tags[position - 1], position - 1)[1] != entity_type
        ):
            raise ValueError(
                f"tag {tag!r} at position {position} does not continue an entity, so the tags "
                "are not IOB2 (convert IOB1 with iob1_to_iob2 first)"
            )
        if prefix == "O":
            converted.append("O")
            continue
        following = tags[position + 1] if position + 1 < len(tags) else "O"
        continues = following == f"I-{entity_type}"
        if prefix == "B":
            converted.append(f"{'B' if continues else 'S'}-{entity_type}")
        else:
            converted.append(f"{'I' if continues else 'E'}-{entity_type}")
    return converted


def iob1_to_bioes(tags: Sequence[str]) -> list[str]:
    """Convert IOB1 tags (CoNLL-2003) to BIOES."""
    return iob2_to_bioes(iob1_to_iob2(tags))
