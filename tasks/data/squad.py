"""SQuAD v1.1: questions over paragraphs, answers as character offsets, and article splits."""

from __future__ import annotations

import json
import logging
import random
import re
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Literal

from elmo.errors import ConfigError
from tasks.data.files import (
    DataFormatError,
    PathLike,
    check_max_samples,
    collect,
    decode_utf8,
    open_data_file,
)

logger = logging.getLogger(__name__)

_WORD_OR_PUNCT = re.compile(r"\w+|[^\w\s]")


def tokenize_with_offsets(text: str) -> list[tuple[str, int, int]]:
    """Split text into runs of word characters and single other non-space characters.

    Returns:
        ``(token, start, end)`` triples with ``text[start:end] == token``.
    """
    return [(match.group(), match.start(), match.end()) for match in _WORD_OR_PUNCT.finditer(text)]


@dataclass(frozen=True)
class SquadExample:
    """One SQuAD question with its paragraph and gold answers.

    ``answers[i]`` starts at character ``answer_starts[i]`` of ``context``. The token
    properties use :func:`tokenize_with_offsets`; token spans are inclusive.
    """

    question_id: str
    article_title: str
    context: str
    question: str
    answers: list[str]
    answer_starts: list[int]

    @cached_property
    def _context_tokens(self) -> list[tuple[str, int, int]]:
        return tokenize_with_offsets(self.context)

    @property
    def context_tokens(self) -> list[str]:
        """The context's tokens."""
        return [token for token, _, _ in self._context_tokens]

    @property
    def context_offsets(self) -> list[tuple[int, int]]:
        """``(start, end)`` character offsets of each context token."""
        return [(start, end) for _, start, end in self._context_tokens]

    @property
    def question_tokens(self) -> list[str]:
        """The question's tokens."""
        return [token for token, _, _ in tokenize_with_offsets(self.question)]

    @property
    def answer_token_spans(self) -> list[tuple[int, int]]:
        """For each answer, the first and last context token it overlaps (inclusive)."""
        starts = [start for _, start, _ in self._context_tokens]
        ends = [end for _, _, end in self._context_tokens]
        return [
            (bisect_right(ends, start), bisect_left(starts, start + len(text)) - 1)
            for text, start in zip(self.answers, self.answer_starts, strict=True)
        ]

    def span_text(self, first_token: int, last_token: int) -> str:
        """The context text from the start of one token to the end of another (inclusive)."""
        return self.context[
            self._context_tokens[first_token][1] : self._context_tokens[last_token][2]
        ]


def read_squad(
    path: PathLike,
    *,
    max_samples: int | None = None,
    member: str | None = None,
    on_misaligned: Literal["raise", "drop"] = "raise",
) -> list[SquadExample]:
    """Read a SQuAD v1.1 JSON file (such as ``dev-v1.1.json.zip``), one example per question.

    Every answer must sit at its ``answer_start``: ``context[start:start + len(text)] == text``.
    With ``on_misaligned="raise"`` a mismatch raises DataFormatError naming the question;
    with ``"drop"`` the answer is dropped (and a question left without answers too), and one
    warning logs how many were.

    Args:
        path: The file (plain, gzip or zip).
        max_samples: Read at most this many questions.
        member: The file inside a zip archive holding several.
        on_misaligned: What to do with an answer whose offset does not match its text.
    """
    check_max_samples(max_samples)
    if on_misaligned not in ("raise", "drop"):
        raise ValueError(f"on_misaligned must be 'raise' or 'drop', got {on_misaligned!r}")
    with open_data_file(path, member) as (stream, source):
        raw = stream.read()
    text = decode_utf8(raw, source, 1).removeprefix("\ufeff")
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise DataFormatError(
            source, f"invalid JSON: {error.msg} (column {error.colno})", error.lineno
        ) from None
    dropped: Counter[str] = Counter()
    examples = _squad_examples(document, source, on_misaligned, dropped)
    result = collect(
        examples, max_samples, source, "SQuAD v1.1 JSON: data / paragraphs / qas with answers"
    )
    log_dropped(dropped, source)
    logger.info("read %d questions from %s", len(result), source)
    return result


def _squad_examples(
    document: Any, source: str, on_misaligned: str, dropped: Counter[str]
) -> Iterator[SquadExample]:
    for a, article in enumerate(_json_field(document, "data", list, source, "the top level")):
        title = _json_field(article, "title", str, source, f"data[{a}]")
        for p, paragraph in enumerate(
            _json_field(article, "paragraphs", list, source, f"data[{a}]")
        ):
            where = f"data[{a}].paragraphs[{p}]"
            context = _json_field(paragraph, "context", str, source, where)
            for q, qa in enumerate(_json_field(paragraph, "qas", list, source, where)):
                qa_where = f"{where}.qas[{q}]"
                answers = _json_field(qa, "answers", list, source, qa_where)
                places = [f"{qa_where}.answers[{i}]" for i in range(len(answers))]
                example = squad_example(
                    source,
                    qa_where,
                    question_id=_json_field(qa, "id", str, source, qa_where),
                    article_title=title,
                    context=context,
                    question=_json_field(qa, "question", str, source, qa_where),
                    texts=[
                        _json_field(answer, "text", str, source, at)
                        for answer, at in zip(answers, places, strict=True)
                    ],
                    starts=[
                        _json_field(answer, "answer_start", int, source, at)
                        for answer, at in zip(answers, places, strict=True)
                    ],
                    on_misaligned=on_misaligned,
                    dropped=dropped,
                )
                if example is not None:
                    yield example


def _json_field(node: Any, key: str, kind: type, source: str, where: str) -> Any:
    if not isinstance(node, dict) or not isinstance(node.get(key), kind):
        raise DataFormatError(
            source, f"{where}: expected a key {key!r} holding a {kind.__name__} (SQuAD v1.1 layout)"
        )
    return node[key]


def squad_example(
    source: str,
    where: str,
    *,
    question_id: str,
    article_title: str,
    context: str,
    question: str,
    texts: list[str],
    starts: list[int],
    on_misaligned: str,
    dropped: Counter[str],
) -> SquadExample | None:
    """Check one question's answers against the context; None if all its answers were dropped."""
    where = f"{where} (question {question_id!r}, article {article_title!r})"
    if len(texts) != len(starts):
        raise DataFormatError(
            source, f"{where}: {len(texts)} answer texts but {len(starts)} starts"
        )
    if not texts:
        raise DataFormatError(
            source, f"{where}: no answers (SQuAD v2.0 unanswerable questions are not supported)"
        )
    kept_texts, kept_starts = [], []
    for text, start in zip(texts, starts, strict=True):
        if not text.strip():
            raise DataFormatError(source, f"{where}: an answer text is empty")
        found = context[start : start + len(text)] if start >= 0 else ""
        if found == text:
            kept_texts.append(text)
            kept_starts.append(start)
        elif on_misaligned == "raise":
            raise DataFormatError(
                source,
                f"{where}: answer {text!r} is not at answer_start={start}; the context there "
                f"reads {found!r} (pass on_misaligned='drop' to drop such answers)",
            )
        else:
            dropped["answers"] += 1
    if not kept_texts:
        dropped["questions"] += 1
        return None
    return SquadExample(question_id, article_title, context, question, kept_texts, kept_starts)


def log_dropped(dropped: Counter[str], source: str) -> None:
    """One warning with the counts :func:`squad_example` dropped, if it dropped any."""
    if dropped:
        logger.warning(
            "%s: dropped %d answers whose answer_start does not match their text, "
            "and %d questions left without one",
            source,
            dropped["answers"],
            dropped["questions"],
        )


def split_by_article(
    examples: Sequence[SquadExample],
    fractions: tuple[float, float, float] = (0.8, 0.1, 0.1),
    seed: int = 0,
) -> tuple[list[SquadExample], list[SquadExample], list[SquadExample]]:
    """Split SQuAD questions into train, dev and test by article, never by question.

    The distinct article titles are sorted, shuffled with ``random.Random(seed)`` and cut by
    ``fractions`` of the article count (train and dev rounded, test the rest), so no article
    has questions on two sides and the split does not depend on the input order. Questions
    keep their input order inside a split.

    Raises:
        ValueError: If the fractions are not three non-negative numbers summing to 1, or a
            split with a positive fraction would get no article.
    """
    if len(fractions) != 3 or min(fractions) < 0 or abs(sum(fractions) - 1.0) > 1e-6:
        raise ConfigError(
            f"fractions must be three non-negative numbers summing to 1, got {fractions}"
        )
    titles = sorted({example.article_title for example in examples})
    random.Random(seed).shuffle(titles)
    n_train = round(fractions[0] * len(titles))
    n_dev = min(round(fractions[1] * len(titles)), len(titles) - n_train)
    side = {
        title: 0 if i < n_train else 1 if i < n_train + n_dev else 2
        for i, title in enumerate(titles)
    }
    splits: tuple[list[SquadExample], list[SquadExample], list[SquadExample]] = ([], [], [])
    for example in examples:
        splits[side[example.article_title]].append(example)
    empty = [
        name
        for name, fraction, part in zip(("train", "dev", "test"), fractions, splits, strict=True)
        if fraction and not part
    ]
    if empty:
        raise ConfigError(
            f"{len(titles)} articles are too few for fractions {fractions}: "
            f"the {' and '.join(empty)} split would be empty"
        )
    logger.info(
        "split %d articles (seed %d) into %d / %d / %d train / dev / test questions",
        len(titles),
        seed,
        *(len(part) for part in splits),
    )
    return splits
