"""The leads CSV never hands a spreadsheet a formula (CSV injection, issue 10 finding 4).

Spreadsheets run a cell as a formula when it starts with `=`, `+`, `-` or `@`; Excel in German
locales also splits on `;`, tab and carriage return start DDE payloads, and Unicode full-width
and small forms (`＝`, `﹦`) are folded to the ASCII sign by some importers.
"""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse

from accounts.tenancy import staff_scope
from campaigns.models import Contact, Lead
from campaigns.views.leads import spreadsheet_cell
from testkit import build_org_dataset

DANGEROUS = [
    "=1+1",
    "+cmd",
    "-2+3",
    "@SUM(A1)",
    ";=1+1",
    "\t=1+1",
    "\r=1+1",
    "\n=1+1",
    "＝1+1",  # full-width equals
    "＋cmd",  # full-width plus
    "－2",  # full-width hyphen-minus
    "＠SUM(A1)",  # full-width commercial at
    "；=1+1",  # full-width semicolon
    "﹦1+1",  # small equals
    "  =1+1",  # leading blanks are trimmed by some importers
    "\u00a0=1+1",  # no-break space
]


@pytest.mark.parametrize("text", DANGEROUS)
def test_cells_that_a_spreadsheet_would_run_are_quoted(text):
    assert spreadsheet_cell(text) == "'" + text


@pytest.mark.parametrize("text", ["Acme", "jane@example.com", "", "1+1", "O'Brien", "Ünal"])
def test_ordinary_cells_are_left_alone(text):
    assert spreadsheet_cell(text) == text


def test_none_is_an_empty_cell():
    assert spreadsheet_cell(None) == ""


@pytest.mark.django_db
def test_export_quotes_semicolon_and_full_width_formulas(client, alice, org_a):
    data = build_org_dataset(org_a, campaigns=1, leads_per_campaign=1, replies_per_campaign=0)
    with staff_scope():
        contact = Contact.objects.create(
            organization=org_a,
            email="formula@example.com",
            first_name=";=1+1",
            last_name="＝HYPERLINK(1)",
            company_name="\t=cmd",
        )
        Lead.objects.create(organization=org_a, campaign=data.campaigns[0], contact=contact)
    client.force_login(alice)
    response = client.get(reverse("portal:leads-export"), {"q": "formula"})
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[1][1:4] == ["';=1+1", "'＝HYPERLINK(1)", "'\t=cmd"]
