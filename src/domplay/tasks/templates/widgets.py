"""Task templates of the built-in `widgets` site (every page needs JavaScript: `needs_js`).

Ground truth comes from `site.data` and the widgets' rule functions (`suggest_cities`,
`date_allowed`, `validate_contact`, `TOPICS`), never from rendered pages. Action tasks are
checked on the backend state the widgets post to (`widgets.city`, `widgets.contacts`,
`widgets.date`); the tab question checks the answer and that the tab was really opened,
so an answer guessed without using the widget fails.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from datetime import date

from domplay.sites.base import Site
from domplay.sites.widgets.data import TOPICS, WidgetsData, date_allowed, suggest_cities, validate_contact
from domplay.tasks.templates.base import Draft, Step, Template
from domplay.verify.checks import AnswerCheck, Check, StateCheck

ROOT = "/widgets"
RATING_ABS_TOL = 0.005
"""The rating is shown with one decimal; another rating fails."""
PREFIX_LENGTHS: tuple[int, ...] = (2, 3, 4)
"""How many leading letters of a city the autocomplete plan types."""
MIN_SUGGESTIONS = 2
"""Prefixes are drawn so that the target is one of several suggestions (picking matters)."""
MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
FIRST_NAMES = ("Ada", "Bruno", "Chloe", "Dmitri", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jonas")
LAST_NAMES = ("Lindqvist", "Okoye", "Marchetti", "Nakamura", "Duarte", "Kowalski", "Haddad", "Byrne")
MESSAGES: dict[str, tuple[str, ...]] = {
    "Billing": ("I was charged twice for order {n}.", "Please send me an invoice for order {n}."),
    "Shipping": ("Order {n} has not arrived yet.", "Can I change the delivery address of order {n}?"),
    "Returns": ("I would like to return order {n}.", "The refund for order {n} is still missing."),
    "Technical": ("The checkout page shows an error for order {n}.", "I cannot log in to track order {n}."),
}
MIN_ORDER_NUMBER, MAX_ORDER_NUMBER = 1000, 9999


def _data(site: Site) -> WidgetsData:
    return site.data


# -- easy --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _TabFact:
    """A number stated in a non-default tab's text, and how to ask for it."""

    tab: str
    pattern: str
    """Regex over the tab's body whose first group is the number."""
    questions: tuple[str, ...]
    abs_tol: float = 0.0


_TAB_FACTS: tuple[_TabFact, ...] = (
    _TabFact(
        "reviews",
        r"Rated (\d+\.\d) out of 5",
        (
            "What is the average customer rating of the {p}? It is in the Reviews tab.",
            "Open the Reviews tab and tell me the {p}'s rating out of 5.",
            "How well do customers rate the {p}? Answer with the rating shown under Reviews.",
        ),
        RATING_ABS_TOL,
    ),
    _TabFact(
        "reviews",
        r"by (\d+) customers",
        (
            "How many customers have rated the {p}? Check the Reviews tab.",
            "Open the Reviews tab: how many customer ratings does the {p} have?",
            "Tell me the number of customers who reviewed the {p}.",
        ),
    ),
    _TabFact(
        "shipping",
        r"Ships in (\d+) business days",
        (
            "In how many business days does the {p} ship? See the Shipping tab.",
            "Open the Shipping tab and tell me how many business days shipping of the {p} takes.",
            "How long (in business days) until the {p} ships?",
        ),
    ),
)


class TabFact(Template):
    """A number from a tab that is hidden until its tab button is clicked."""

    name, site, difficulty = "widgets_tab_fact", "widgets", "easy"
    needs_js = True

    def draft(self, site: Site, rng: random.Random) -> Draft | None:
        data = _data(site)
        fact = rng.choice(_TAB_FACTS)
        tab = data.tab(fact.tab)
        if tab is None or tab.key == data.tabs[0].key:  # the default tab needs no widget
            return None
        found = re.search(fact.pattern, tab.body)
        if found is None:
            return None
        value = found.group(1)
        intent = self.phrase(rng, *fact.questions, p=data.product)
        checks: list[Check] = [
            AnswerCheck(expected=value, mode="numeric", abs_tol=fact.abs_tol),
            StateCheck(path="widgets.tabs_opened", op="contains", expected=tab.key),
        ]
        return Draft(
            intent,
            f"{ROOT}/tabs",
            checks,
            [Step.button(tab.title), Step.answer(value)],
            {"tab": tab.key, "value": value},
        )


# -- medium ------------------------------------------------------------------------------------


class PickCity(Template):
    """Type the first letters of a city, pick it among the suggestions, save it."""

    name, site, difficulty = "widgets_pick_city", "widgets", "medium"
    needs_js = True

    def draft(self, site: Site, rng: random.Random) -> Draft | None:
        cities = _data(site).cities
        pool = [(c, ps) for c in cities if (ps := _ambiguous_prefixes(cities, c))]
        if not pool:
            return None
        city, prefixes = rng.choice(pool)
        prefix = rng.choice(prefixes)
        intent = self.phrase(
            rng,
            'Set my home city to {c}: type "{p}" in the City box, pick {c} from the suggestions and save.',
            "Use the autocomplete to choose {c} as the home city, then save it.",
            "Save {c} as the home city (start typing it and select it from the suggestion list).",
            c=city,
            p=prefix,
        )
        return Draft(
            intent,
            f"{ROOT}/autocomplete",
            [StateCheck(path="widgets.city", op="equals", expected=city)],
            [Step.fill("City", prefix), Step.click(city, role="option"), Step.button("Save city")],
            {"city": city, "prefix": prefix},
        )


def _ambiguous_prefixes(cities: tuple[str, ...], city: str) -> list[str]:
    """Leading letters of `city` whose suggestions include it among others."""
    out = []
    for n in PREFIX_LENGTHS:
        found = suggest_cities(cities, city[:n])
        if n < len(city) and city in found and len(found) >= MIN_SUGGESTIONS:
            out.append(city[:n])
    return out


# -- hard --------------------------------------------------------------------------------------


class ContactSupport(Template):
    """Open the contact dialog, fill every field, choose the topic and send it."""

    name, site, difficulty = "widgets_contact_support", "widgets", "hard"
    needs_js = True

    def draft(self, site: Site, rng: random.Random) -> Draft | None:
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        name, email = f"{first} {last}", f"{first.lower()}.{last.lower()}@example.com"
        topic = rng.choice(TOPICS)
        message = rng.choice(MESSAGES[topic]).format(n=rng.randint(MIN_ORDER_NUMBER, MAX_ORDER_NUMBER))
        if validate_contact(name, email, topic, message):
            return None
        intent = self.phrase(
            rng,
            'Contact support as {n} ({e}) about {t}, with the message "{m}"',
            'Send a {t} message to support through the contact form. Name: {n}. Email: {e}. Message: "{m}"',
            'Open the support dialog and write to them: topic {t}, from {n} <{e}>, saying "{m}"',
            n=name,
            e=email,
            t=topic,
            m=message,
        )
        record = {"id": 1, "name": name, "email": email, "topic": topic, "message": message}
        return Draft(
            intent,
            f"{ROOT}/modal",
            [StateCheck(path="widgets.contacts", op="equals", expected=[record])],
            [
                Step.button("Contact support"),
                Step.fill("Name", name),
                Step.fill("Email", email),
                Step.select("Topic", topic),
                Step.fill("Message", message),
                Step.button("Send message"),
            ],
            {"topic": topic, "email": email},
        )


class DeliveryDate(Template):
    """Book a delivery date given in words, by paging the calendar to its month (held out)."""

    name, site, difficulty = "widgets_delivery_date", "widgets", "hard"
    needs_js = True
    heldout_only = True

    def draft(self, site: Site, rng: random.Random) -> Draft | None:
        data = _data(site)
        span = (data.max_date - data.min_date).days
        allowed = [
            d
            for d in (date.fromordinal(data.min_date.toordinal() + i) for i in range(span + 1))
            if date_allowed(d, data)
        ]
        if not allowed:
            return None
        day = rng.choice(allowed)
        months_ahead = (day.year - data.min_date.year) * len(MONTHS) + day.month - data.min_date.month
        spoken = f"{WEEKDAYS[day.weekday()]}, {MONTHS[day.month - 1]} {day.day}, {day.year}"
        intent = self.phrase(
            rng,
            "Book the delivery for {d} using the calendar.",
            "Choose {d} as the delivery date and confirm it.",
            "I want my delivery on {d}. Pick that day in the date picker and confirm.",
            d=spoken,
        )
        plan = (
            [Step.button("Open calendar")]
            + [Step.button("Next month")] * months_ahead
            + [Step.button(day.isoformat()), Step.button("Confirm date")]
        )
        return Draft(
            intent,
            f"{ROOT}/datepicker",
            [StateCheck(path="widgets.date", op="equals", expected=day.isoformat())],
            plan,
            {"date": day.isoformat(), "months_ahead": months_ahead},
        )


TEMPLATES: list[type[Template]] = [TabFact, PickCity, ContactSupport, DeliveryDate]
