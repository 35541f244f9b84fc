"""The forum site through HTTP: pages show the seeded data by the rules in `rules.py`,
forms change the namespace's state, and namespaces stay isolated."""

from __future__ import annotations

import pytest
from selectolax.lexbor import LexborHTMLParser
from starlette.testclient import TestClient

from domplay.sites.app import SitesApp
from domplay.sites.forum import ForumSite, rules
from domplay.sites.forum.data import BASE_DATETIME, generate_forum


@pytest.fixture(scope="module")
def app() -> SitesApp:
    return SitesApp(seed=0, names=["forum"])


@pytest.fixture
def site(app: SitesApp) -> ForumSite:
    return app.sites["forum"]


@pytest.fixture
def client(app: SitesApp) -> TestClient:
    return TestClient(app.asgi)


def html(resp) -> LexborHTMLParser:
    return LexborHTMLParser(resp.text)


def thread_ids(resp) -> list[int]:
    return [int(n.attributes["data-thread-id"]) for n in html(resp).css("tr.thread-row")]


def state(app: SitesApp, client: TestClient) -> dict:
    return app.state_json(client.cookies["dp_ns"])["forum"]


def login(client: TestClient, site: ForumSite, username: str) -> None:
    user = site.data.user(username)
    r = client.post(
        "/forum/login",
        data={"username": username, "password": user.password, "next": "/forum/"},
        follow_redirects=False,
    )
    assert r.status_code == 303


# -- data ----------------------------------------------------------------------------------
def test_generation_is_deterministic_and_varied():
    a, b, c = generate_forum(0), generate_forum(0), generate_forum(1)
    assert a == b
    assert a != c
    assert len(a.users) == 40 and len(a.boards) == 6 and len(a.threads) == 150
    assert 450 <= len(a.posts) <= 900
    assert len({u.username for u in a.users}) == 40
    assert all(u.password for u in a.users)
    assert all(p.created <= BASE_DATETIME for p in a.posts)
    # ids follow creation time, and threads start with their author's opening post
    assert [t.id for t in sorted(a.threads, key=lambda t: t.created)] == [t.id for t in a.threads]
    assert all(a.opening_post(t.id).author == t.author for t in a.threads)
    assert any(a.reply_count(t.id) >= rules.POSTS_PER_PAGE for t in a.threads)
    assert all(p.author not in p.voters for p in a.posts)


def test_search_rule_needs_every_term():
    forum = generate_forum(0)
    t = forum.threads[0]
    word = t.title.split()[-1].strip("?:").lower()
    assert rules.thread_matches(forum, t, rules.ThreadQuery(q=word.upper()))
    assert not rules.thread_matches(forum, t, rules.ThreadQuery(q=f"{word} zzzqqq"))
    assert not rules.thread_matches(forum, t, rules.ThreadQuery(board="nope"))


# -- reading pages -------------------------------------------------------------------------
def test_home_lists_boards_with_thread_counts(client, site):
    doc = html(client.get("/forum/"))
    rows = {n.attributes["data-board"]: int(n.css_first(".thread-count").text()) for n in doc.css("tr.board-row")}
    assert rows == {b.slug: len(site.data.threads_in(b.slug)) for b in site.data.boards}


def test_board_page_is_sorted_and_paginated(client, site):
    board = max(site.data.boards, key=lambda b: len(site.data.threads_in(b.slug))).slug
    expected = rules.search_threads(site.data, rules.ThreadQuery(board=board, sort="replies"))
    assert len(expected) > rules.THREADS_PER_PAGE
    r1 = client.get(f"/forum/b/{board}?sort=replies")
    assert thread_ids(r1) == [t.id for t in expected[: rules.THREADS_PER_PAGE]]
    nxt = html(r1).css_first("a[rel=next]").attributes["href"]
    assert thread_ids(client.get(nxt)) == [t.id for t in expected[rules.THREADS_PER_PAGE : 2 * rules.THREADS_PER_PAGE]]


@pytest.mark.parametrize(
    "params",
    [
        {"q": "tips"},
        {"tag": "beginner", "sort": "votes"},
        {"board": "travel", "sort": "oldest"},
        {"q": "sourdough", "sort": "activity"},
    ],
)
def test_search_page_matches_rules(client, site, params):
    query = rules.ThreadQuery(**params)
    expected = [t.id for t in rules.search_threads(site.data, query)]
    r = client.get("/forum/search", params=params)
    assert thread_ids(r) == expected[: rules.THREADS_PER_PAGE]
    assert int(html(r).css_first(".result-count").attributes["data-total"]) == len(expected)


def test_search_by_author_is_case_insensitive(client, site):
    author = site.data.threads[0].author
    r = client.get("/forum/search", params={"author": author.upper()})
    assert set(thread_ids(r)) == {t.id for t in site.data.threads_by(author)}


def test_thread_pages_show_posts_in_order(client, site):
    long = next(t for t in site.data.threads if site.data.reply_count(t.id) >= rules.POSTS_PER_PAGE)
    posts = site.data.posts_of(long.id)
    r = client.get(f"/forum/t/{long.id}?page=2")
    ids = [int(n.attributes["data-post-id"]) for n in html(r).css("article.post")]
    assert ids == [p.id for p in posts[rules.POSTS_PER_PAGE : 2 * rules.POSTS_PER_PAGE]]
    assert client.get("/forum/t/99999").status_code == 404


def test_profile_counts(client, site):
    user = site.data.users[3]
    doc = html(client.get(f"/forum/u/{user.username}"))
    assert int(doc.css_first("#post-count").text()) == len(site.data.posts_by(user.username))
    assert int(doc.css_first("#thread-count").text()) == len(site.data.threads_by(user.username))


# -- login and writing ---------------------------------------------------------------------
def test_login_rejects_wrong_password_and_accepts_the_seeded_one(app, client, site):
    user = site.data.users[0]
    bad = client.post("/forum/login", data={"username": user.username, "password": "wrong", "next": "/forum/"})
    assert bad.status_code == 422 and html(bad).css_first(".error") is not None
    assert state(app, client)["user"] is None
    ok = client.post(
        "/forum/login",
        data={"username": user.username, "password": user.password, "next": "/forum/b/cooking"},
        follow_redirects=False,
    )
    assert ok.headers["location"] == "/forum/b/cooking"
    assert state(app, client)["user"] == user.username
    assert html(client.get("/forum/")).css_first("#current-user").attributes["data-username"] == user.username


def test_new_thread_needs_login_and_validates(app, client, site):
    r = client.get("/forum/b/cooking/new", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/forum/login?next=")
    author = site.data.users[1].username
    login(client, site, author)
    bad = client.post("/forum/b/cooking/new", data={"title": "Hey", "body": "  ", "tags": "ok, Bad Tag"})
    assert bad.status_code == 422
    doc = html(bad)
    assert {n.attributes["id"] for n in doc.css(".error")} == {"title-error", "body-error", "tags-error"}
    assert doc.css_first("#title").attributes["value"] == "Hey"
    good = client.post(
        "/forum/b/cooking/new",
        data={"title": "Brand new pancake thread", "body": "Fluffy?", "tags": "baking, quick"},
        follow_redirects=False,
    )
    assert good.status_code == 303
    st = state(app, client)
    new_id = st["new_threads"][0]["id"]
    assert good.headers["location"] == f"/forum/t/{new_id}"
    assert (
        st["new_threads"][0] | {"author": author, "board": "cooking", "tags": ["baking", "quick"]}
        == st["new_threads"][0]
    )
    assert st["new_posts"] == [
        {"id": st["new_threads"][0]["post_id"], "thread_id": new_id, "author": author, "body": "Fluffy?"}
    ]
    assert new_id in thread_ids(client.get("/forum/search", params={"q": "pancake thread"}))
    assert html(client.get(f"/forum/t/{new_id}")).css_first("#thread-title").text() == "Brand new pancake thread"


def test_reply_validates_and_lands_on_last_page(app, client, site):
    thread = next(t for t in site.data.threads if site.data.reply_count(t.id) >= rules.POSTS_PER_PAGE)
    assert client.post(f"/forum/t/{thread.id}/reply", data={"body": "x"}, follow_redirects=False).status_code == 303
    login(client, site, site.data.users[2].username)
    bad = client.post(f"/forum/t/{thread.id}/reply", data={"body": "   "})
    assert bad.status_code == 422 and html(bad).css_first("#body-error") is not None
    r = client.post(f"/forum/t/{thread.id}/reply", data={"body": "My two cents"}, follow_redirects=False)
    new_post = state(app, client)["new_posts"][0]
    assert new_post["thread_id"] == thread.id and new_post["body"] == "My two cents"
    last_page = (len(site.data.posts_of(thread.id))) // rules.POSTS_PER_PAGE + 1
    assert r.headers["location"] == f"/forum/t/{thread.id}?page={last_page}#post-{new_post['id']}"
    page = html(client.get(r.headers["location"]))
    assert page.css_first(f"#post-{new_post['id']} .body").text() == "My two cents"


def test_upvote_once_per_user_and_not_own_post(app, client, site):
    post = next(p for p in site.data.posts if p.votes == 0)
    voter = next(u.username for u in site.data.users if u.username != post.author)
    assert (
        client.post(f"/forum/post/{post.id}/upvote", follow_redirects=False)
        .headers["location"]
        .startswith("/forum/login")
    )
    login(client, site, voter)
    r = client.post(f"/forum/post/{post.id}/upvote")
    assert html(r).css_first(f"#post-{post.id} .votes").attributes["data-votes"] == "1"
    again = client.post(f"/forum/post/{post.id}/upvote")
    assert html(again).css_first("#notice").text() == rules.VOTE_REFUSALS["already-voted"]
    assert html(again).css_first(f"#post-{post.id} .votes").attributes["data-votes"] == "1"
    assert state(app, client)["votes"] == [{"post_id": post.id, "user": voter}]
    own = site.data.posts_by(voter)[0]
    r = client.post(f"/forum/post/{own.id}/upvote")
    assert html(r).css_first("#notice").text() == rules.VOTE_REFUSALS["own-post"]
    assert len(state(app, client)["votes"]) == 1


def test_only_the_author_can_edit_a_post(app, client, site):
    post = site.data.posts[5]
    other = next(u.username for u in site.data.users if u.username != post.author)
    login(client, site, other)
    assert client.get(f"/forum/post/{post.id}/edit").status_code == 403
    assert client.post(f"/forum/post/{post.id}/edit", data={"body": "hijack"}).status_code == 403
    login(client, site, post.author)
    assert client.post(f"/forum/post/{post.id}/edit", data={"body": ""}).status_code == 422
    r = client.post(f"/forum/post/{post.id}/edit", data={"body": "Edited text"})
    node = html(r).css_first(f"#post-{post.id}")
    assert node.css_first(".body").text() == "Edited text" and node.css_first(".edited") is not None
    assert state(app, client)["edited_posts"] == {str(post.id): "Edited text"}
    assert site.data.post(post.id).body != "Edited text"  # the seeded data is untouched


def test_namespaces_are_isolated(app, site):
    a, b = TestClient(app.asgi), TestClient(app.asgi)
    login(a, site, site.data.users[0].username)
    a.post("/forum/b/travel/new", data={"title": "Only in namespace A", "body": "hi", "tags": ""})
    assert state(app, a)["new_threads"] and state(app, a)["user"] is not None
    b.get("/forum/")
    assert state(app, b) == {"user": None, "new_threads": [], "new_posts": [], "edited_posts": {}, "votes": []}
    assert "Only in namespace A" not in b.get("/forum/search", params={"q": "namespace"}).text
    assert "Only in namespace A" in a.get("/forum/search", params={"q": "namespace"}).text
