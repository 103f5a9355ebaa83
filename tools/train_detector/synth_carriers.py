"""Synthetic carriers for indirect injection: e-mails, tables, web pages, FAQ and how-to text.

Written by this project (Apache-2.0), filled with Faker (MIT). Every carrier is used twice: alone
as a benign tool result (label 0) and with an injection planted in it (label 1), so the model
learns the planted instruction, not the genre. `HARD_BENIGN` holds what real mail and pages say to
their human readers that resembles an injection ("reply with your order number", "use code SAVE20",
"explain your reasoning in the comment box", "translate the contract by Monday"); it is planted
in carriers as benign text the same way injections are.
"""

from __future__ import annotations

import random

from faker import Faker
from synth_attacks import _parts
from synth_words import COUNTRIES, LANGUAGES, PRODUCTS

HARD_BENIGN = _parts(
    "Please reply with your availability for next week.¦Include your order number in your reply so we can find "
    "your account.¦When you respond, please attach the signed form.¦Add a short bio to your profile before Friday.¦"
    "Please answer the survey questions below.¦Write your name at the top of the form.¦Feel free to add a link to "
    "your portfolio in your application.¦Kindly confirm by replying YES.¦Click the link below to track your "
    "package.¦Use code SAVE20 for 20% off your next order.¦Follow us on social media for updates.¦Visit our "
    "website for more information.¦Explain your reasoning in the comment box.¦Translate the attached contract "
    "into {lang} by Monday, please.¦Can you explain how the new billing process works?¦What is the status of "
    "the {company} account?¦Could you write a short summary of the meeting for the newsletter?¦Please include "
    "the invoice number in the subject line of your answer.¦Reply to this email to unsubscribe.¦Don't forget "
    "to add your dietary requirements to the sign-up sheet.¦Answers must be written in {lang}; the exam lasts "
    "two hours.¦Students should submit their essays in {lang}.¦Please respond in English or {lang}.¦Insert "
    "the USB key and restart the machine.¦Add the following to your calendar: team lunch, Friday 12:30.¦"
    "Remember to mention the reference number when you call us.¦Our new {product} is now 30% off for members.¦"
    "Recommended for you: {product}.¦Questions? Simply reply to this message.¦Write a review and "
    "get 10% off your next stay.¦Tell us how we did: rate your experience from 1 to 5.¦Please keep your answer "
    "under 200 words.¦Use emojis sparingly in customer-facing messages.¦Do not use punctuation in file names.¦"
    "Reverse the cable if the light does not turn on.¦To get a better answer, add more details to your "
    "question.¦Paste the error message into your reply so I can help.¦Let me know what you think of the draft.¦"
    "Please share this invitation with your colleagues.¦Could you send me the slides from the talk?¦"
    "Make sure to include screenshots when reporting a bug.¦Add a link to the dashboard in the wiki page.¦"
    "What is the capital expenditure for Q3?¦Explain the variance in the comments column.¦Who is presenting "
    "on Thursday?¦Write your answers in the space provided.¦Append your initials to the file name.¦"
    "Please respond within 48 hours to keep your reservation.¦You can reply to this message in any language."
)
CHAT = _parts(
    "Thanks so much!¦Give me a call when you're free!¦Would you be able to send me the numbers by Friday?¦"
    "Let me know if you need anything else!¦Can't wait to see you all there!¦Great work, everyone!¦"
    "Could you give me a hand with the move on Saturday?¦I'd love to hear what you think.¦Happy birthday!!¦"
    "Sorry for the late reply, it's been a busy week.¦Just a quick reminder about tomorrow's call.¦"
    "Any chance you could cover my shift?¦I've attached the photos from the trip, enjoy!¦"
    "Please find the minutes below. Every action item has an owner now.¦Looking forward to it!¦"
    "Do you want me to book the table for eight?¦Here's the link to the shared folder: {url}¦"
    "Let's brainstorm ideas for the offsite next week.¦Could you evaluate the two offers and tell me which is better?¦"
    "Give me a shout if the user numbers look off.¦Remember: every team should send one slide.¦"
    "You should get an email from the landlord soon.¦Make sure to update your records with the new address.¦"
    "Click here to view the order details.¦Hope you had a great weekend!¦Thank you for your patience!"
)
_GREET = _parts("Hi {n},¦Hello {n},¦Dear {n},¦Hey {n}!¦{n},¦Good morning {n},¦Hi all,¦Hello team,¦Dear customer,")
_SIGN = _parts("Best,¦Thanks,¦Regards,¦Cheers,¦Kind regards,¦Sincerely,¦Thank you,¦— ")
_TRANSACTIONAL = _parts(
    "Your {bank} debit card ending {d4} was charged {amt} by {merchant}.¦We received your payment of {amt}. "
    "Thank you!¦Your order #{num} has shipped and should arrive on {date}.¦Your subscription to {merchant} "
    "renews on {date} for {amt}.¦We noticed a new sign-in to your account from {city}. If this was you, no "
    "action is needed.¦Someone requested a password reset for your account. If you did not request this, you "
    "can ignore this email.¦Invoice {num} for {amt} is due on {date}.¦Your booking at {hotel} is confirmed "
    "for {date}.¦Reminder: your appointment with Dr. {last} is on {date} at {time}.¦Your refund of {amt} "
    "has been processed and will appear in 3-5 business days.¦Your statement for {month} is ready to view.¦"
    "The transfer of {amt} to {name} was completed.¦Your package was delivered to the front door at {time}."
)
_TAILS = _parts(
    "Questions? Simply reply to this message.¦If this transaction is in error, you can raise a "
    "dispute in the app.¦This is an automated message, please do not reply.¦Need help? Visit our help center."
    "¦You are receiving this because you signed up for notifications.¦Manage your preferences in Settings.¦"
    "Thanks for being a customer.¦"
)


def _ctx(fake: Faker, rng: random.Random) -> dict[str, str]:
    return {
        "n": fake.first_name(),
        "name": fake.name(),
        "last": fake.last_name(),
        "bank": rng.choice(["Mercury", "Chase", "Monzo", "Revolut", "Wells Fargo", "N26", "Barclays"]),
        "d4": str(rng.randint(1000, 9999)),
        "amt": f"${rng.randint(5, 4000)}.{rng.randint(0, 99):02d}",
        "merchant": rng.choice([fake.company(), "AMAZON.COM", "ZAPIER.COM", "UBER *TRIP", "GOOGLE *CLOUD"]),
        "num": str(rng.randint(10000, 999999)),
        "date": fake.date(pattern="%b %d, %Y"),
        "city": fake.city(),
        "hotel": f"{fake.last_name()} {rng.choice(['Hotel', 'Inn', 'Suites', 'Lodge'])}",
        "time": fake.time(pattern="%H:%M"),
        "month": fake.month_name(),
        "company": fake.company(),
        "lang": rng.choice(LANGUAGES[:12]),
        "product": rng.choice(PRODUCTS),
        "country": rng.choice(COUNTRIES),
    }


def hard_benign(fake: Faker, rng: random.Random) -> str:
    """One benign sentence that resembles an instruction to whoever answers."""
    return rng.choice(HARD_BENIGN).format(**_ctx(fake, rng))


def email(fake: Faker, rng: random.Random) -> str:
    """A benign e-mail: transactional, work or personal, with one of several header formats."""
    c = _ctx(fake, rng)
    kind = rng.choice(["transactional", "work", "work", "personal", "newsletter"])
    lines: list[str] = []
    if kind == "transactional":
        lines = [rng.choice(_TRANSACTIONAL).format(**c) for _ in range(rng.randint(1, 2))]
        lines.append(rng.choice(_TAILS))
    elif kind == "newsletter":
        lines = [f"{fake.catch_phrase()}!", fake.paragraph(nb_sentences=2)]
        lines += [hard_benign(fake, rng) for _ in range(rng.randint(1, 2))]
        lines.append(f"Unsubscribe: {fake.url()}unsubscribe")
    else:
        lines = [fake.paragraph(nb_sentences=rng.randint(1, 3)) for _ in range(rng.randint(1, 3))]
        for _ in range(rng.randint(0, 2)):
            lines.insert(rng.randint(0, len(lines)), hard_benign(fake, rng))
        for _ in range(rng.randint(0, 3)):
            lines.insert(rng.randint(0, len(lines)), rng.choice(CHAT).format(url=fake.url()))
    body = "\n".join(x for x in lines if x)
    if kind != "transactional" or rng.random() < 0.5:
        body = rng.choice(_GREET).format(**c) + "\n" + body + f"\n{rng.choice(_SIGN)}\n{fake.name()}"
    subject = fake.sentence(nb_words=rng.randint(3, 7)).rstrip(".")
    sender = f"{fake.company()} <{fake.email()}>" if rng.random() < 0.5 else fake.email()
    fmt = rng.randint(0, 3)
    if fmt == 0:
        return f"From: {sender}\nTo: {fake.email()}\nDate: {fake.date_time_this_year()}\nSubject: {subject}\n\n{body}"
    if fmt == 1:
        received = fake.date_time_this_year().strftime("%a, %d %b %Y %H:%M:%S +0000")
        return f"SUBJECT: {subject}|EMAIL_FROM: {sender}|RECEIVED DATE: {received}|CONTENT: {body}"
    if fmt == 2:
        return f"Subject: {subject}\n{body}"
    return body.replace("\n", rng.choice(["\n", " ", "\n\n"]))


_TABLES = {
    "league": (
        ["Club", "City", "Home stadium", "Capacity", "Average attendance"],
        lambda f, r: [
            f"{f.city()} {r.choice(['FC', 'United', 'City', 'Rovers'])}",
            f.city(),
            f"{f.last_name()} Stadium",
            f"{r.randint(5, 90) * 1000:,}",
            f"{r.randint(2000, 60000):,}",
        ],
    ),
    "election": (
        ["Candidate", "Party", "Votes", "%"],
        lambda f, r: [
            f.name(),
            r.choice(["Liberal", "Labour", "Green", "Conservative", "Independent"]),
            f"{r.randint(100, 90000):,}",
            f"{r.uniform(0.5, 60):.2f}",
        ],
    ),
    "films": (
        ["Title", "Year", "Director", "Gross"],
        lambda f, r: [f.catch_phrase().title(), str(r.randint(1950, 2024)), f.name(), f"${r.randint(1, 900)}M"],
    ),
    "countries": (
        ["Country", "Capital", "Population", "Area (km²)"],
        lambda f, r: [f.country(), f.city(), f"{r.randint(1, 200) * 100000:,}", f"{r.randint(300, 9000000):,}"],
    ),
    "results": (
        ["Rank", "Athlete", "Nation", "Time", "Notes"],
        lambda f, r: [
            str(r.randint(1, 20)),
            f.name(),
            f.country_code(),
            f"{r.randint(9, 59)}.{r.randint(10, 99)}",
            r.choice(["", "Q", "PB", "SB", "NR", "DNF"]),
        ],
    ),
    "episodes": (
        ["No.", "Title", "Directed by", "Written by", "Original air date"],
        lambda f, r: [
            str(r.randint(1, 200)),
            f'"{f.sentence(nb_words=3).rstrip(".")}"',
            f.name(),
            f.name(),
            f.date(pattern="%B %d, %Y"),
        ],
    ),
    "products": (
        ["Product", "Price", "Stock", "Rating"],
        lambda f, r: [
            f.word().title() + " " + r.choice(["Pro", "Mini", "X", "Plus"]),
            f"${r.randint(5, 999)}",
            str(r.randint(0, 500)),
            f"{r.uniform(1, 5):.1f}",
        ],
    ),
    "schedule": (
        ["Date", "Opponent", "Venue", "Result"],
        lambda f, r: [
            f.date(pattern="%d %b"),
            f.city(),
            r.choice(["Home", "Away"]),
            f"{r.choice('WLD')} {r.randint(0, 5)}-{r.randint(0, 5)}",
        ],
    ),
}


def table(fake: Faker, rng: random.Random) -> str:
    """A benign table (Markdown, padded pipes, CSV or tab-separated), sometimes with a title and a note."""
    cols, row = _TABLES[rng.choice(sorted(_TABLES))]
    rows = [row(fake, rng) for _ in range(rng.randint(3, 20))]
    fmt = rng.choice(["md", "md", "pad", "csv", "tsv"])
    if fmt in ("md", "pad"):
        widths = [max(len(x) for x in col) for col in zip(cols, *rows, strict=True)] if fmt == "pad" else None

        def line(cells: list[str]) -> str:
            return "| " + " | ".join(c.ljust(widths[i]) if widths else c for i, c in enumerate(cells)) + " |"

        out = [line(cols)] + (
            ["|" + "|".join("-" * (w + 2) for w in widths) + "|"] if widths else ["|---" * len(cols) + "|"]
        )
        text = "\n".join(out + [line(r) for r in rows])
    else:
        sep = "," if fmt == "csv" else "\t"
        text = "\n".join(sep.join(r) for r in [cols, *rows])
    if rng.random() < 0.4:
        text = f"{fake.sentence(nb_words=5).rstrip('.')}\n\n{text}"
    if rng.random() < 0.3:
        text += "\n" + rng.choice(
            ["Source: official results.", "Notes: figures are provisional.", hard_benign(fake, rng)]
        )
    return text


_HOWTO = _parts(
    "Preheat the oven to 180°C.¦Add the flour and mix until smooth.¦Insert the key and turn it clockwise.¦"
    "Write down the serial number before you start.¦Remove the cover and reverse the battery.¦"
    "Answer each question honestly; there are no wrong answers.¦Translate each sentence into {lang}.¦"
    "Include a photo of the receipt with your claim.¦Explain your choice in one sentence.¦"
    "Add a pinch of salt and stir.¦Put the lid back on and wait five minutes.¦Share the result with your group.¦"
    "Click Save, then close the window.¦Paste the code from the confirmation email into the form."
)


def web_page(fake: Faker, rng: random.Random) -> str:
    """A benign web page: article, FAQ, how-to or announcement, as text or Markdown."""
    kind = rng.choice(["article", "faq", "howto", "announcement"])
    title = fake.catch_phrase().title()
    if kind == "faq":
        qs = [
            (f"How do I {fake.bs()}?", fake.paragraph(nb_sentences=2)),
            ("Can I get a refund?", "Yes, within 30 days. " + hard_benign(fake, rng)),
            (f"What is {fake.word()}?", fake.paragraph(nb_sentences=2)),
        ]
        body = "\n\n".join(f"Q: {q}\nA: {a}" for q, a in rng.sample(qs, k=rng.randint(2, 3)))
    elif kind == "howto":
        steps = [rng.choice(_HOWTO).format(lang=rng.choice(LANGUAGES[:10])) for _ in range(rng.randint(3, 7))]
        body = "\n".join(f"{i}. {s}" for i, s in enumerate(steps, 1))
    else:
        paras = [fake.paragraph(nb_sentences=rng.randint(2, 5)) for _ in range(rng.randint(1, 4))]
        if rng.random() < 0.5:
            paras.insert(rng.randint(0, len(paras)), hard_benign(fake, rng))
        body = "\n\n".join(paras)
    head = f"# {title}" if rng.random() < 0.5 else title
    meta = f"{fake.date(pattern='%B %d, %Y')} · {fake.name()}" if rng.random() < 0.5 else ""
    return "\n\n".join(x for x in (head, meta, body) if x)


def carrier(fake: Faker, rng: random.Random) -> tuple[str, str]:
    """(text, generator name) of one synthetic carrier."""
    kind = rng.choices(["email", "table", "web"], weights=[4, 3, 3])[0]
    fn = {"email": email, "table": table, "web": web_page}[kind]
    return fn(fake, rng), kind
