"""Progress bars: drawn on stderr only for a terminal unless ``ELMO_PROGRESS`` says otherwise."""

from __future__ import annotations

import pytest

from elmo.progress import progress_bar


def count_to(total: int) -> None:
    with progress_bar(total, "counting", unit="tok") as progress:
        for _ in range(total):
            progress.update(1)


def test_hidden_when_stderr_is_not_a_terminal(capsys, monkeypatch):
    monkeypatch.delenv("ELMO_PROGRESS", raising=False)
    count_to(3)
    assert capsys.readouterr() == ("", "")


def test_forced_on_draws_to_stderr_with_the_total(capsys, monkeypatch):
    monkeypatch.setenv("ELMO_PROGRESS", "1")
    count_to(3)
    out, err = capsys.readouterr()
    assert out == ""
    assert "counting" in err and "100%" in err and "tok/s" in err


@pytest.mark.parametrize("setting", ["0", "anything else"])
def test_forced_off_or_unknown_setting_stays_quiet(capsys, monkeypatch, setting):
    monkeypatch.setenv("ELMO_PROGRESS", setting)
    count_to(3)
    assert capsys.readouterr() == ("", "")
