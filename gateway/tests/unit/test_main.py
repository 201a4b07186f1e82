"""`python -m bridge_gateway`: a bad configuration stops start-up with exit code 2."""

from __future__ import annotations

import pytest

from bridge_gateway.__main__ import main


def test_a_bad_variable_exits_with_code_2(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("BRIDGE_GATEWAY_PORT", "not-a-port")

    with pytest.raises(SystemExit) as exited:
        main(["serve"])

    assert exited.value.code == 2
    assert "BRIDGE_GATEWAY_PORT" in capsys.readouterr().err


def test_a_command_is_required() -> None:
    with pytest.raises(SystemExit) as exited:
        main([])

    assert exited.value.code == 2
