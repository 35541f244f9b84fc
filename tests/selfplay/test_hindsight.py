from selectolax.lexbor import LexborHTMLParser

from domplay.env.dom import DomEnv, DomEnvConfig
from domplay.selfplay.config import HindsightConfig
from domplay.selfplay.hindsight import DomRelabeller, TemplateRelabeller, labelled_values, url_path
from domplay.sites.app import SitesApp
from domplay.tasks.templates import all_templates
from domplay.verify.value_checks import AnswerCheck, UrlCheck

SITES = SitesApp(0, names=["shop", "forum"])


def relabeller(**kw):
    return TemplateRelabeller(SITES, all_templates(), HindsightConfig(drafts_per_template=60, **kw), seed=0)


def first_draft(tr: TemplateRelabeller, family: str):
    """(start page, draft) of the first goal of `family` the relabeller drew."""
    return next((start, d) for start, drafts in tr._by_start.items() for t, d in drafts if t.name == family)


def test_a_template_family_recognises_its_goal_after_the_click_that_reached_it():
    tr = relabeller()
    start, draft = first_draft(tr, "product_price")
    env = DomEnv(DomEnvConfig(max_steps=20), sites=SITES)
    obs, _ = env.reset(options={"start_url": start})
    before = env.snapshot()
    product = next(s for s in draft.plan if s.kind == "click").name  # the product the goal names
    target = next(e for e in obs.elements if e.role == "link" and e.name == product)
    env.step(f"click({target.id})")
    goals = [g for g in tr.goals(before, env.snapshot()) if g.family == "product_price"]
    assert any(g.intent == draft.intent or g.checks == tuple(draft.checks) for g in goals)
    goal = next(g for g in goals if g.checks == tuple(draft.checks))
    assert goal.answer is not None and goal.answer in env.snapshot().html
    # nothing is achieved by staying on the start page
    assert [g for g in tr.goals(before, before) if g.family == "product_price"] == []


def test_held_out_only_families_are_never_goals():
    tr = relabeller()
    families = {t.name for drafts in tr._by_start.values() for t, _ in drafts}
    heldout_only = {t.name for t in all_templates() if t.heldout_only}
    assert families and not families & heldout_only


def test_labelled_values_from_text_tables_and_lists_ambiguous_labels_left_out():
    html = (
        "<body><p>Price: $5.00</p><p>Maker: Acme</p><div><p>Colour: red</p><p>Colour: blue</p></div>"
        "<table><tr><th>Lead</th><td>Ada</td></tr></table><dl><dt>Office</dt><dd>Room 42</dd></dl>"
        "<p>Dumplings, what am I doing wrong: a long thread title</p></body>"
    )
    assert labelled_values(LexborHTMLParser(html)) == [
        ("Price", "$5.00"),
        ("Maker", "Acme"),
        ("Office", "Room 42"),
        ("Lead", "Ada"),
    ]


def test_dom_goals_name_the_page_reached_and_values_read_there():
    env = DomEnv(DomEnvConfig(max_steps=20), sites=SITES)
    obs, _ = env.reset(options={"start_url": "/shop/category/knitwear"})
    before = env.snapshot()
    first = next(e for e in obs.elements if e.role == "link" and "/shop/product/" in (e.href or ""))
    env.step(f"click({first.id})")
    now = env.snapshot()
    goals = DomRelabeller(HindsightConfig()).goals(before, now)
    page = next(g for g in goals if g.family == "dom.page")
    assert page.checks == (UrlCheck(expected=url_path(now.url)),)
    rating = next(g for g in goals if g.params.get("label") == "Rating")
    assert isinstance(rating.checks[1], AnswerCheck) and rating.answer and "/5" in rating.answer
    # the price is on the category page already: reading it there is not a goal of this click
    assert not [g for g in goals if g.params.get("label") == "Price"]
    assert DomRelabeller(HindsightConfig()).goals(before, before) == []


def test_a_walk_started_behind_a_login_redirect_is_relabelled_by_where_it_started():
    sites = SitesApp(0, names=["admin"])
    tr = TemplateRelabeller(sites, all_templates(), HindsightConfig(drafts_per_template=200), seed=0)
    ((username, password),) = sites.sites["admin"].accounts()
    env = DomEnv(DomEnvConfig(max_steps=20), sites=sites)
    obs, _ = env.reset(options={"start_url": "/admin/"})
    before = env.snapshot()
    assert "/admin/login" in before.url  # the start page redirected
    box = {e.name: e.id for e in obs.elements}
    for step in (f'fill({box["Username"]}, "{username}")', f'fill({box["Password"]}, "{password}")'):
        env.step(step)
    env.step(f"click({next(e.id for e in obs.elements if e.role == 'button')})")
    now = env.snapshot()
    assert tr.goals(before, now) == []  # keyed by the login page, no goal starts there
    goals = [g for g in tr.goals(before, now, "/admin/") if g.family == "admin_dashboard_stat"]
    assert goals and all(g.answer and g.answer in now.html for g in goals)


def test_a_number_is_a_goal_only_on_a_page_about_what_the_intent_names():
    tr = relabeller()
    start, draft = first_draft(tr, "product_rating")
    env = DomEnv(DomEnvConfig(max_steps=20), sites=SITES)
    obs, _ = env.reset(options={"start_url": start})
    page = env.snapshot()
    # the product page answers its rating question: a goal with no step but the answer
    goals = [g for g in tr.goals(page, page, start) if g.checks == tuple(draft.checks)]
    assert len(goals) == 1 and goals[0].answer and goals[0].answer in page.html
    # the same number read on a page that names another product is no goal
    other = next(e for e in obs.elements if e.role == "link" and "/shop/category/" in (e.href or ""))
    env.step(f"click({other.id})")
    elsewhere = env.snapshot()
    assert not [g for g in tr.goals(elsewhere, elsewhere) if g.family == "product_rating"]
