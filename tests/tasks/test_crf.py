"""The CRF against brute force: every tag sequence of tiny cases enumerated."""

from __future__ import annotations

import itertools
import math

import pytest
import torch

from tasks.crf import ConditionalRandomField, allowed_transitions

BIO_LABELS = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]
BIOES_LABELS = ["O", "B-PER", "I-PER", "E-PER", "S-PER"]
LENGTHS = [3, 1, 4, 2]


def random_crf(num_tags: int, seed: int, allowed: torch.Tensor | None = None) -> ConditionalRandomField:
    crf = ConditionalRandomField(num_tags, allowed)
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in crf.parameters():
            p.copy_(torch.randn(p.shape, generator=generator))
    return crf


def random_batch(num_tags: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Emissions ``(batch, 4, tags)`` and the mask of rows of ``LENGTHS`` tokens."""
    generator = torch.Generator().manual_seed(seed + 100)
    emissions = 2 * torch.randn(len(LENGTHS), max(LENGTHS), num_tags, generator=generator)
    mask = torch.arange(max(LENGTHS)) < torch.tensor(LENGTHS).unsqueeze(1)
    return emissions, mask


def path_score(crf: ConditionalRandomField, emissions: torch.Tensor, path: tuple[int, ...]) -> float:
    """``score(x, y)`` of one row, written out term by term (no penalties)."""
    score = crf.start_scores[path[0]].item() + crf.end_scores[path[-1]].item()
    for t, tag in enumerate(path):
        score += emissions[t, tag].item()
        if t > 0:
            score += crf.transitions[path[t - 1], tag].item()
    return score


def is_valid(labels: list[str], scheme: str) -> bool:
    """Whether a tag sequence reads as whole entities, parsed span by span."""
    i = 0
    while i < len(labels):
        prefix, _, kind = labels[i].partition("-")
        if prefix in ("O", "S"):
            i += 1
            continue
        if prefix != "B":  # an I- or E- that starts nothing
            return False
        i += 1
        while i < len(labels) and labels[i] == f"I-{kind}":
            i += 1
        if scheme == "BIOES":
            if i == len(labels) or labels[i] != f"E-{kind}":
                return False
            i += 1
    return True


def brute_force(crf, emissions, length, keep=lambda path: True) -> tuple[float, tuple[int, ...], dict]:
    """``log Z``, the best path and every path's score over the paths ``keep`` accepts."""
    scores = {
        path: path_score(crf, emissions, path)
        for path in itertools.product(range(crf.num_tags), repeat=length)
        if keep(path)
    }
    log_z = math.log(sum(math.exp(s) for s in scores.values()))
    return log_z, max(scores, key=scores.get), scores


@pytest.mark.parametrize("num_tags", [3, 4])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_nll_and_decode_equal_brute_force(num_tags, seed):
    crf = random_crf(num_tags, seed)
    emissions, mask = random_batch(num_tags, seed)
    gold = torch.randint(num_tags, mask.shape, generator=torch.Generator().manual_seed(seed))
    expected_nll, expected_paths = [], []
    for row, length in enumerate(LENGTHS):
        log_z, best, scores = brute_force(crf, emissions[row], length)
        expected_nll.append(log_z - scores[tuple(gold[row, :length].tolist())])
        expected_paths.append(list(best))
    nll = crf(emissions, gold, mask)
    assert nll.shape == ()
    assert nll.item() == pytest.approx(sum(expected_nll) / len(LENGTHS), abs=1e-5)
    assert crf.decode(emissions, mask) == expected_paths


def test_padding_is_ignored():
    crf = random_crf(3, seed=5)
    emissions, mask = random_batch(3, seed=5)
    gold = torch.randint(3, mask.shape, generator=torch.Generator().manual_seed(5))
    noisy_emissions = emissions.masked_fill(~mask.unsqueeze(2), 1e3)
    ignored_tags = gold.masked_fill(~mask, -100)
    expected = crf(emissions, gold, mask).item()
    assert crf(noisy_emissions, ignored_tags, mask).item() == pytest.approx(expected, abs=1e-5)
    assert crf.decode(noisy_emissions, mask) == crf.decode(emissions, mask)


@pytest.mark.parametrize(("labels", "scheme"), [(BIO_LABELS, "BIO"), (BIOES_LABELS, "BIOES")])
def test_allowed_transitions_accept_exactly_the_well_formed_sequences(labels, scheme):
    allowed = allowed_transitions(labels, scheme)
    start, end = len(labels), len(labels) + 1
    assert allowed.shape == (len(labels) + 2, len(labels) + 2) and allowed.dtype == torch.bool
    for length in range(1, 5):
        for path in itertools.product(range(len(labels)), repeat=length):
            chain = [start, *path, end]
            by_matrix = all(allowed[a, b] for a, b in itertools.pairwise(chain))
            assert by_matrix == is_valid([labels[i] for i in path], scheme), [labels[i] for i in path]


def test_bio_rules_named_in_the_scheme():
    allowed = allowed_transitions(BIO_LABELS, "BIO")
    tag = {label: i for i, label in enumerate(BIO_LABELS)}
    start = len(BIO_LABELS)
    assert not allowed[tag["O"], tag["I-PER"]]
    assert not allowed[tag["B-LOC"], tag["I-PER"]]
    assert not allowed[start, tag["I-PER"]]
    assert allowed[tag["B-PER"], tag["I-PER"]] and allowed[tag["I-PER"], tag["I-PER"]]
    assert allowed[tag["I-PER"], tag["B-LOC"]] and allowed[tag["B-PER"], tag["O"]]


def test_bioes_rules_named_in_the_scheme():
    allowed = allowed_transitions(BIOES_LABELS, "BIOES")
    tag = {label: i for i, label in enumerate(BIOES_LABELS)}
    start, end = len(BIOES_LABELS), len(BIOES_LABELS) + 1
    assert not allowed[tag["B-PER"], tag["O"]] and not allowed[tag["B-PER"], end]
    assert not allowed[tag["O"], tag["E-PER"]] and not allowed[start, tag["E-PER"]]
    assert not allowed[tag["E-PER"], tag["I-PER"]] and not allowed[tag["S-PER"], tag["E-PER"]]
    assert allowed[tag["B-PER"], tag["E-PER"]] and allowed[tag["S-PER"], tag["B-PER"]]
    assert allowed[tag["E-PER"], end] and allowed[start, tag["S-PER"]]


@pytest.mark.parametrize(("labels", "scheme"), [(BIO_LABELS, "BIO"), (BIOES_LABELS, "BIOES")])
@pytest.mark.parametrize("seed", [0, 1])
def test_constrained_nll_and_decode_equal_brute_force_over_valid_paths(labels, scheme, seed):
    crf = random_crf(len(labels), seed, allowed_transitions(labels, scheme))
    emissions, mask = random_batch(len(labels), seed)
    emissions[:, :, [labels.index("I-PER")]] += 6  # the emissions alone favour ill-formed paths

    def valid(path: tuple[int, ...]) -> bool:
        return is_valid([labels[i] for i in path], scheme)

    gold_rows, expected_nll, expected_paths = [], [], []
    for row, length in enumerate(LENGTHS):
        log_z, best, scores = brute_force(crf, emissions[row], length, valid)
        gold = sorted(scores)[(seed * 7 + row) % len(scores)]  # some valid path
        gold_rows.append(list(gold) + [0] * (max(LENGTHS) - length))
        expected_nll.append(log_z - scores[gold])
        expected_paths.append(list(best))
    nll = crf(emissions, torch.tensor(gold_rows), mask)
    assert nll.item() == pytest.approx(sum(expected_nll) / len(LENGTHS), abs=1e-5)
    decoded = crf.decode(emissions, mask)
    assert decoded == expected_paths
    assert all(valid(path) for path in decoded)


def test_decode_never_breaks_the_scheme_against_strong_emissions():
    labels = BIOES_LABELS
    crf = ConditionalRandomField(len(labels), allowed_transitions(labels, "BIOES"))
    generator = torch.Generator().manual_seed(0)
    emissions = 50 * torch.randn(64, 6, len(labels), generator=generator)
    lengths = torch.randint(1, 7, (64,), generator=generator)
    mask = torch.arange(6) < lengths.unsqueeze(1)
    for path in crf.decode(emissions, mask):
        assert is_valid([labels[i] for i in path], "BIOES")


def test_bad_labels_and_shapes_are_rejected():
    with pytest.raises(ValueError, match="'E-PER' is not a BIO tag"):
        allowed_transitions(["O", "B-PER", "E-PER"], "BIO")
    with pytest.raises(ValueError, match="'PER'"):
        allowed_transitions(["O", "PER"], "BIO")
    with pytest.raises(ValueError, match="IOB1"):
        allowed_transitions(["O"], "IOB1")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"\(5, 5\)"):
        ConditionalRandomField(3, torch.ones(3, 3, dtype=torch.bool))


def test_training_lowers_the_nll():
    torch.manual_seed(0)
    crf = ConditionalRandomField(4, allowed_transitions(["O", "B-X", "I-X", "B-Y"], "BIO"))
    emissions = torch.nn.Parameter(torch.randn(3, 5, 4))
    gold = torch.tensor([[1, 2, 2, 0, 3], [0, 3, 1, 0, 0], [3, 0, 1, 2, 0]])
    mask = torch.tensor([[True] * 5, [True] * 3 + [False] * 2, [True] * 4 + [False]])
    optimizer = torch.optim.Adam([emissions, *crf.parameters()], lr=0.1)
    losses = []
    for _ in range(20):
        optimizer.zero_grad()
        loss = crf(emissions, gold, mask)
        loss.backward()
        assert crf.transitions.grad.abs().sum() > 0 and crf.start_scores.grad.abs().sum() > 0
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]
    assert crf.decode(emissions, mask) == [row[: int(m.sum())] for row, m in zip(gold.tolist(), mask)]
