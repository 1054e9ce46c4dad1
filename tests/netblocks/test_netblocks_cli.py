"""The operator's commands: output format, exit status, and no Django."""

import subprocess
import sys

import pytest

from vpnregistry.netblocks.cli import aggregate_main, check_main, validate_main


def test_validate(capsys):
    rc = validate_main(["--category", "freelancer", "8.8.8.8", "8.8.8.0/24", "10.0.0.1", "2400:cb00::/64"])
    out = capsys.readouterr().out.splitlines()
    assert rc == 1
    assert out[0] == "8.8.8.8\tok\t8.8.8.8/32"
    assert out[1] == "8.8.8.0/24\terror\t/24 is broader than the /32 this category allows"
    assert out[2] == "10.0.0.1\terror\t'10.0.0.1/32' is in 10.0.0.0/8, private-use"
    assert out[3] == "2400:cb00::/64\tok\t2400:cb00::/64"
    assert validate_main(["8.8.8.0/24"]) == 0


def test_aggregate(tmp_path, capsysbinary):
    f = tmp_path / "in.txt"
    f.write_text("# comment\n10.0.1.0/24\n\n10.0.0.0/24\n2001:db8:8000::/33\n2001:DB8::/33\n1.2.3.4\n")
    assert aggregate_main([str(f)]) == 0
    assert capsysbinary.readouterr().out == b"1.2.3.4/32\n10.0.0.0/23\n2001:db8::/32\n"


def test_aggregate_refuses_bad_lines(tmp_path, capsysbinary):
    f = tmp_path / "in.txt"
    f.write_text("10.0.0.0/24\n10.0.0.1/24\n")
    assert aggregate_main([str(f)]) == 2
    captured = capsysbinary.readouterr()
    assert captured.out == b""
    assert b"in.txt:2: '10.0.0.1/24' has host bits set; did you mean 10.0.0.0/24?" in captured.err
    assert aggregate_main(["--skip-invalid", str(f)]) == 0
    assert capsysbinary.readouterr().out == b"10.0.0.0/24\n"


@pytest.fixture
def allowlist(tmp_path):
    f = tmp_path / "latest.txt"
    f.write_text("# serial 7\n10.0.0.0/23\n2001:db8::/32\n")
    return f


def test_check_in_input_order(tmp_path, allowlist, capsysbinary):
    q = tmp_path / "q.txt"
    q.write_text("10.0.1.255\n10.0.2.0\n2001:db8::1\n")
    assert check_main(["--allowlist", str(allowlist), str(q)]) == 0
    assert capsysbinary.readouterr().out == b"10.0.1.255\tyes\n10.0.2.0\tno\n2001:db8::1\tyes\n"
    q.write_text("\n".join(["10.0.0.1", "8.8.8.8"] * 1000))  # the vectorised path, no final newline
    assert check_main(["--allowlist", str(allowlist), str(q)]) == 0
    assert capsysbinary.readouterr().out == b"10.0.0.1\tyes\n8.8.8.8\tno\n" * 1000


def test_check_bad_lines_csv_and_summary(tmp_path, allowlist, capsysbinary):
    q = tmp_path / "q.csv"
    q.write_text("when,address\n2026-01-01,10.0.0.9\n2026-01-01,8.8.8.8\n2026-01-02,::ffff:10.0.1.1\n")
    assert check_main(["--allowlist", str(allowlist), "--column", "2", "--summary", str(q)]) == 1
    captured = capsysbinary.readouterr()
    assert captured.out == b"addresses\t3\nyes\t2\nno\t1\ninvalid\t1\n"
    assert b"q.csv:1: 'address'" in captured.err


def test_commands_need_no_django():
    code = (
        "import sys; from vpnregistry.cli import main; main(['validate', '192.0.2.1']);"
        "assert not any(m.startswith('django') for m in sys.modules), 'django imported'"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "documentation" in proc.stdout
