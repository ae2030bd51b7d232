"""Generate the labelled reply corpus from the hand-written phrasings in `en/de/fr/es.py`.

    python -m messaging.categorise.corpus.generate   # writes ../data/corpus.jsonl

Each reply is assembled like a real one: an optional greeting, a neutral opener, the core
sentence that carries the category (sometimes led in by another: "Not interested. Remove me."),
extra sentences, a sign-off, a name, a signature, a mobile footer and the quoted pitch, with
casing and punctuation noise. Machine replies (absence notices, receipts, bounces) are built
from their own parts. Everything shared is shared by all categories, so the model can only
learn the category from the words that carry it. The split is by core phrasing: every fourth
core of each category and language is held out, so the held-out replies are worded in ways
the model never saw. A fixed seed makes the file identical on every run.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import re
import unicodedata
from pathlib import Path

from . import de, en, es, fr

SEED = 20241202
PER_CELL = 64  # replies per language and category
HELDOUT_EVERY = 4  # every fourth phrasing is held out
BANKS = (en, de, fr, es)
HUMAN_CATEGORIES = (
    "interested", "meeting_request", "information_request", "not_interested",
    "do_not_contact", "wrong_person",
)  # fmt: skip
LEAD_INS = {"meeting_request": "interested", "information_request": "interested",
            "do_not_contact": "not_interested"}  # fmt: skip
OUT = Path(__file__).resolve().parent.parent / "data" / "corpus.jsonl"


def split_of(index: int) -> str:
    return "heldout" if index % HELDOUT_EVERY == HELDOUT_EVERY - 1 else "train"


def _in_split(items: list[str], split: str) -> list[tuple[int, str]]:
    return [(i, item) for i, item in enumerate(items) if split_of(i) == split]


def _ascii(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", _ascii(text).lower())[:14] or "mail"


def _context(rng: random.Random, bank, reference: dt.date) -> dict:
    """Names, companies, dates and addresses for one reply."""
    me_first, me_last = rng.choice(bank.FIRST_NAMES), rng.choice(bank.LAST_NAMES)
    ref_first, ref_last = rng.choice(bank.FIRST_NAMES), rng.choice(bank.LAST_NAMES)
    rep, rep_last = rng.choice(en.FIRST_NAMES + bank.FIRST_NAMES), rng.choice(bank.LAST_NAMES)
    company, our = rng.choice(bank.COMPANIES), rng.choice(bank.OUR_COMPANIES)
    domain = _slug(company.split()[0]) + rng.choice(
        [".com", ".de", ".fr", ".es", ".co.uk", ".io", ".net", ".eu"]
    )
    our_domain = _slug(our) + ".com"
    returns = reference + dt.timedelta(days=rng.randint(1, 45))
    start = reference - dt.timedelta(days=rng.randint(0, 12))
    weekday, weekday2 = rng.sample(bank.WEEKDAYS[:5], 2)
    user_style = rng.choice(["{f}.{l}", "{f}", "{fi}{l}", "{f}_{l}", "{l}"])
    email_of = lambda first, last: (  # noqa: E731
        user_style.format(f=_slug(first), l=_slug(last), fi=_slug(first)[0]) + "@" + domain
    )
    return {
        "rep": rep, "rep_last": rep_last, "rep_email": f"{_slug(rep)}@{our_domain}",
        "me": f"{me_first} {me_last}", "me_first": me_first,
        "me_email": email_of(me_first, me_last), "me_slug": f"{_slug(me_first)}-{_slug(me_last)}",
        "name": rng.choice([f"{me_first} {me_last}", me_first, f"{me_first[0]}. {me_last}"]),
        "title": rng.choice(bank.TITLES), "company": company, "our": our,
        "phone": rng.choice(["+44 20 7946 0{n}", "+49 89 1234 5{n}", "+33 1 42 68 5{n}",
                             "+34 91 123 4{n}", "+1 415 555 0{n}"]).format(
                                 n=rng.randint(100, 999)),
        "web": f"www.{domain}", "address": rng.choice(bank.ADDRESSES),
        "ceo": f"{rng.choice(bank.FIRST_NAMES)} {rng.choice(bank.LAST_NAMES)}",
        "weekday": weekday, "weekday2": weekday2,
        "ref_name": f"{ref_first} {ref_last}", "ref_first": ref_first, "ref_last": ref_last,
        "ref_email": email_of(ref_first, ref_last),
        "generic_email": rng.choice(["info", "hello", "contact", "office"]) + "@" + domain,
        "ticket": f"{rng.choice(['', 'SR-', 'CS', 'INC'])}{rng.randint(10000, 999999)}",
        "addr": email_of(me_first, me_last), "user": _slug(me_first), "domain": domain,
        "mx": rng.choice([f"mx{rng.randint(1, 9)}.{domain}", f"mail.{domain}",
                          f"{domain.split('.')[0]}-mail.protection.outlook.com"]),
        "qdate": bank.quote_date(start - dt.timedelta(days=rng.randint(1, 20))),
        "qtime": f"{rng.randint(7, 19)}:{rng.choice(['00', '05', '17', '30', '42', '58'])}",
        "_returns": returns, "_start": start,
    }  # fmt: skip


def _fill(template: str, ctx: dict, rng: random.Random, bank) -> str:
    """Fill slots; dates in one of the language's written forms."""
    fmt = rng.choice(bank.DATE_FORMATS)
    values = {k: v for k, v in ctx.items() if not k.startswith("_")}
    values["date"] = fmt(ctx["_returns"])
    values["start"] = fmt(ctx["_start"])
    return template.format(**values)


def _pitch(rng: random.Random, bank, ctx: dict) -> tuple[str, str]:
    subject, body = rng.choice(bank.PITCHES)
    return subject.format(**ctx), body.format(**ctx)


def _quote(rng: random.Random, bank, ctx: dict, pitch_body: str) -> str:
    header = rng.choice(bank.QUOTE_HEADERS).format(**ctx)
    if rng.random() < 0.5 and "\n" not in header:
        pitch_body = "\n".join(f"> {line}" if line else ">" for line in pitch_body.split("\n"))
    return f"{header}\n\n{pitch_body}"


def _noise(rng: random.Random, text: str, language: str) -> str:
    """How people really type: lower case, no accents, no final full stop, one line."""
    if rng.random() < 0.08:
        text = text.lower()
    if language != "en" and rng.random() < 0.06:
        text = _ascii(text)
    if rng.random() < 0.1:
        text = text.rstrip(".")
    if rng.random() < 0.1:
        text = re.sub(r"\s*\n\s*", " ", text)
    return text


def _human(rng, bank, category, split, ctx) -> tuple[str, str, str]:
    """(template id, subject, text) of a reply a person wrote."""
    index, core = rng.choice(_in_split(bank.HUMAN[category], split))
    sentences = []
    if rng.random() < 0.35:
        sentences.append(rng.choice(bank.OPENERS))
    lead_in = LEAD_INS.get(category)
    if lead_in and rng.random() < 0.2:
        sentences.append(rng.choice(_in_split(bank.HUMAN[lead_in], split))[1])
    sentences.append(core)
    extras = _in_split(bank.EXTRAS[category], split)
    for chance in (0.45, 0.15):
        if rng.random() < chance:
            sentences.append(rng.choice(extras)[1])
    if rng.random() < 0.15:
        sentences.append(rng.choice(bank.CLOSERS))
    body = _fill(" ".join(dict.fromkeys(sentences)), ctx, rng, bank)
    if rng.random() < 0.25:  # some people write one sentence per line
        body = body.replace(". ", ".\n").replace("? ", "?\n")
    body = _noise(rng, body, bank.LANGUAGE)
    parts = []
    if rng.random() < 0.75:
        parts.append(rng.choice(bank.GREETINGS).format(**ctx))
    parts.append(body)
    tail = []
    if rng.random() < 0.7:
        tail.append(rng.choice(bank.SIGN_OFFS))
    if rng.random() < 0.8:
        tail.append(ctx["name"])
    if tail:
        parts.append("\n".join(tail))
    if rng.random() < 0.35:
        parts.append(rng.choice(bank.SIGNATURES).format(**ctx))
    if rng.random() < 0.1:
        parts.append(rng.choice(bank.MOBILE_FOOTERS))
    pitch_subject, pitch_body = _pitch(rng, bank, ctx)
    if rng.random() < 0.55:
        parts.append(_quote(rng, bank, {**ctx, "pitch_subject": pitch_subject}, pitch_body))
    subject = rng.choice(bank.REPLY_PREFIXES) + pitch_subject if rng.random() < 0.92 else ""
    return f"{bank.LANGUAGE}.{category}.{index}", subject, "\n\n".join(parts)


def _out_of_office(rng, bank, split, ctx) -> tuple[str, str, str, bool, bool]:
    """(template, subject, text, gives a return date, gives a referral)."""
    ooo = bank.OOO
    index, absence = rng.choice(_in_split(ooo["absences"], split))
    pitch_subject, _ = _pitch(rng, bank, ctx)
    subject = rng.choice(ooo["subjects"])
    # One date format for the whole notice, as an autoresponder writes it.
    fmt = rng.choice(bank.DATE_FORMATS)
    values = {k: v for k, v in ctx.items() if not k.startswith("_")}
    values.update(date=fmt(ctx["_returns"]), start=fmt(ctx["_start"]), pitch_subject=pitch_subject)
    lines = [rng.choice(ooo["openers"]), absence, rng.choice(ooo["responses"])]
    referral = rng.random() < 0.4
    if referral:
        lines.append(rng.choice(ooo["referrals"]))
    text = "\n\n".join(line for line in lines if line)
    closing = rng.choice(ooo["closings"])
    text += f"\n\n{closing}\n{ctx['name']}" if closing else f"\n\n{ctx['name']}"
    if rng.random() < 0.3:
        text += "\n" + rng.choice(bank.SIGNATURES).format(**ctx)
    if bank is not en and rng.random() < 0.2:  # bilingual notices are common in Europe
        en_index = index % len(en.OOO["absences"])
        text += "\n\n---\n\n" + en.OOO["absences"][en_index] + " " + en.OOO["responses"][0]
    has_date = "{date}" in text or "{date}" in subject
    text, subject = text.format(**values), subject.format(**values)
    if rng.random() < 0.15:
        text += "\n\n" + _quote(
            rng, bank, {**ctx, "pitch_subject": pitch_subject}, _pitch(rng, bank, ctx)[1]
        )
    return f"{bank.LANGUAGE}.out_of_office.{index}", subject, text, has_date, referral


def _machine_reply(rng, bank, parts: dict, split, ctx) -> tuple[int, str, str, str, dict]:
    """(phrasing index, subject, text, pitch body, slot values) of an automatic message."""
    index, body = rng.choice(_in_split(parts["bodies"], split))
    pitch_subject, pitch_body = _pitch(rng, bank, ctx)
    values = {**{k: v for k, v in ctx.items() if not k.startswith("_")},
              "pitch_subject": pitch_subject}  # fmt: skip
    subject = rng.choice(parts["subjects"]).format(**values)
    return index, subject, body.format(**values), pitch_body, values


def _auto_reply(rng, bank, split, ctx) -> tuple[str, str, str]:
    index, subject, text, pitch_body, values = _machine_reply(rng, bank, bank.AUTO, split, ctx)
    if rng.random() < 0.4:
        text = rng.choice(bank.GREETINGS).format(**ctx) + "\n\n" + text
    if rng.random() < 0.5:
        text += f"\n\n{ctx['company']}\n{ctx['web']}"
    if rng.random() < 0.25:
        text += "\n\n" + _quote(rng, bank, values, pitch_body)
    return f"{bank.LANGUAGE}.auto_reply.{index}", subject, text


def _bounce(rng, bank, split, ctx) -> tuple[str, str, str]:
    index, subject, text, pitch_body, values = _machine_reply(rng, bank, bank.BOUNCE, split, ctx)
    pitch_subject = values["pitch_subject"]
    if rng.random() < 0.65:  # the original email, attached or quoted below the report
        header = rng.choice([
            "----- Original message -----", "Original message headers:",
            "---------- Forwarded message ----------", "------ This is a copy of the message, "
            "including all the headers. ------", "-----Ursprüngliche Nachricht-----",
            "-----Message d'origine-----", "-----Mensaje original-----",
        ])  # fmt: skip
        text += (
            f"\n\n{header}\nFrom: {ctx['rep']} <{ctx['rep_email']}>\nTo: {ctx['addr']}\n"
            f"Subject: {pitch_subject}\n\n{pitch_body}"
        )
    return f"{bank.LANGUAGE}.bounce.{index}", subject, text


def generate(seed: int = SEED) -> list[dict]:
    rng = random.Random(seed)
    records, seen = [], set()
    for bank in BANKS:
        for category in (*HUMAN_CATEGORIES, "out_of_office", "auto_reply", "bounce"):
            held = PER_CELL // HELDOUT_EVERY
            for split, count in (("train", PER_CELL - held), ("heldout", held)):
                made = attempts = 0
                while made < count and attempts < count * 20:
                    attempts += 1
                    record = _record(rng, bank, category, split)
                    key = (record["subject"], record["text"])
                    if key in seen:
                        continue
                    seen.add(key)
                    record["id"] = f"{bank.LANGUAGE}-{category}-{split}-{made:03d}"
                    records.append(record)
                    made += 1
    return records


def _record(rng, bank, category, split) -> dict:
    reference = dt.date(2024, 1, 1) + dt.timedelta(days=rng.randint(0, 1000))
    ctx = _context(rng, bank, reference)
    returns_on = referral = None
    if category in HUMAN_CATEGORIES:
        template, subject, text = _human(rng, bank, category, split, ctx)
        if category == "wrong_person":
            core = bank.HUMAN[category][int(template.rsplit(".", 1)[1])]
            referral = _expected_referral(core, ctx)
    elif category == "out_of_office":
        template, subject, text, has_date, _ = _out_of_office(rng, bank, split, ctx)
        returns_on = ctx["_returns"].isoformat() if has_date else None
    elif category == "auto_reply":
        template, subject, text = _auto_reply(rng, bank, split, ctx)
    else:
        template, subject, text = _bounce(rng, bank, split, ctx)
    return {
        "id": "", "language": bank.LANGUAGE, "category": category, "split": split,
        "template": template, "reference_date": reference.isoformat(), "subject": subject,
        "text": text, "returns_on": returns_on, "referral": referral,
    }  # fmt: skip


def _expected_referral(core: str, ctx: dict) -> dict | None:
    name = (
        ctx["ref_name"] if "{ref_name}" in core else ctx["ref_last"] if "{ref_last}" in core else ""
    )
    email = ctx["ref_email"] if "{ref_email}" in core else ""
    return {"name": name, "email": email} if name or email else None


def main() -> None:
    records = generate()
    with OUT.open("w", encoding="utf-8") as out:
        for record in records:
            out.write(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n")
    print(f"{len(records)} replies -> {OUT}")


if __name__ == "__main__":
    main()
