"""How the CLI reports failures: a user's mistake in one line, a bug as a bug."""

from __future__ import annotations

from typing import Any

import pytest

import search.cli.space_cmd as space_cmd
from search.cli import BUG_STATUS, main


def _raise(error: Exception) -> Any:
    def fail(*args: Any, **kwargs: Any) -> Any:
        raise error

    return fail


def test_a_programming_error_is_reported_as_a_bug(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("HWNAS_DEBUG", raising=False)
    monkeypatch.setattr(space_cmd, "info_data", _raise(TypeError("'NoneType' is not iterable")))
    assert main(["space", "info"]) == BUG_STATUS == 70
    err = capsys.readouterr().err
    assert err == (
        "hwnas: bug: TypeError: 'NoneType' is not iterable (this is a bug in hwnas, not in your "
        "input; set HWNAS_DEBUG=1 for the traceback)\n"
    )


def test_a_bug_shows_its_traceback_under_hwnas_debug(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HWNAS_DEBUG", "1")
    monkeypatch.setattr(space_cmd, "info_data", _raise(KeyError("settings")))
    with pytest.raises(KeyError, match="settings"):
        main(["space", "info"])


def test_a_user_error_is_one_line_with_status_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("HWNAS_DEBUG", raising=False)
    error = ValueError("bad value 3: expected 1-2\nmore")
    monkeypatch.setattr(space_cmd, "info_data", _raise(error))
    assert main(["space", "info"]) == 2
    assert capsys.readouterr().err == "hwnas: error: bad value 3: expected 1-2\n"
