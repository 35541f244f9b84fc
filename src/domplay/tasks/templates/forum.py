"""Task templates of the built-in `forum` site.

Ground truth comes from `site.data` through the forum's own rule functions
(`domplay.sites.forum.rules`), never from pages. Plans follow the UI from the start page:
the nav links, the search form, thread links, the login form. Information tasks are checked
by the answer and, where the intent asks to open a page, by an element of that page;
actions are checked on the backend state (`snapshot.state["forum"]`, schema in
`domplay.sites.forum.state`).
"""

from __future__ import annotations

import random
from datetime import date
from functools import lru_cache

from domplay.sites.base import Site
from domplay.sites.forum import corpus, rules
from domplay.sites.forum.data import ForumData, Post, Thread, User
from domplay.tasks.templates.base import Draft, Step, Template
from domplay.verify.checks import AnswerCheck, AttributeCheck, ElementPresentCheck, Normalize, StateCheck

_CACHED_FORUMS = 4
"""Search-derived pools are cached per seeded forum (a frozen, hashable value)."""
MIN_POSTS_FOR_VOTE_QUESTION = 3
"""A "most upvoted post" question needs a few posts to choose between."""
_LOOSE = Normalize(punctuation=True)
"""Titles and free text: case, whitespace and punctuation do not matter."""

_REPLIES = (
    "Thanks for sharing, I will try this next weekend and report back.",
    "Great question. What worked for me was starting small and keeping notes.",
    "I ran into the same thing last month; patience fixed most of it.",
    "Following this thread, I would love to hear more experiences.",
    "Has anyone compared this with the advice in the pinned wiki?",
    "Good point about the basics, that is where most of my trouble came from.",
)
_EDITS = (
    "Update: I solved it, thanks everyone for the advice.",
    "Edit: after a few more tries this finally works for me.",
    "Update: ignore my earlier question, the pinned wiki answered it.",
    "Edit: I found a local club that helped me sort this out.",
)


# -- shared pieces -----------------------------------------------------------------------
def _forum(site: Site) -> ForumData:
    return site.data


def _login(user: User) -> list[Step]:
    """From any forum page: the nav "Log in" link, the form, back to that page."""
    return [
        Step.click("Log in"),
        Step.fill("Username", user.username),
        Step.fill("Password", user.password),
        Step.button("Log in"),
    ]


def _search(q: str) -> list[Step]:
    """From any forum page: the search page, keywords, submit."""
    return [Step.click("Search"), Step.fill("Keywords", q), Step.button("Search")]


def _unique_titles(forum: ForumData) -> list[Thread]:
    """Threads whose title no other thread has (so a title names one thread)."""
    counts: dict[str, int] = {}
    for t in forum.threads:
        counts[t.title] = counts.get(t.title, 0) + 1
    return [t for t in forum.threads if counts[t.title] == 1]


@lru_cache(maxsize=_CACHED_FORUMS)
def _findable(forum: ForumData) -> tuple[Thread, ...]:
    """Threads with a unique title that searching for that title shows on the first result page."""
    out = []
    for t in _unique_titles(forum):
        hits = rules.search_threads(forum, rules.ThreadQuery(q=t.title))
        if t in hits[: rules.THREADS_PER_PAGE]:
            out.append(t)
    return tuple(out)


def _first_page(forum: ForumData, thread: Thread) -> tuple[Post, ...]:
    return forum.posts_of(thread.id)[: rules.POSTS_PER_PAGE]


def _on_thread(thread: Thread) -> ElementPresentCheck:
    return ElementPresentCheck(css=f'h1#thread-title[data-thread-id="{thread.id}"]')


def _searched_for(q: str) -> AttributeCheck:
    """The final page is a search for `q` (its keyword box still holds it)."""
    return AttributeCheck(css="form#search-form input#q", attribute="value", value=q, case_sensitive=False)


def _quoted(title: str) -> str:
    return f"\u201c{title}\u201d"


def _date_forms(day: date) -> str:
    """A date as the alternatives an answer may use (ISO, "March 4, 2024", "4 March 2024")."""
    month = day.strftime("%B")
    return "|OR|".join([day.isoformat(), f"{month} {day.day}, {day.year}", f"{day.day} {month} {day.year}"])


# -- easy --------------------------------------------------------------------------------
class LastReplyAuthor(Template):
    """Open a thread from its board and name the author of its latest reply."""

    name = "forum_last_reply_author"
    site = "forum"
    difficulty = "easy"

    def draft(self, site: Site, rng: random.Random) -> Draft | None:
        forum = _forum(site)
        pool = []
        unique = set(_unique_titles(forum))
        for board in forum.boards:
            shown = rules.search_threads(forum, rules.ThreadQuery(board=board.slug))[: rules.THREADS_PER_PAGE]
            pool += [t for t in shown if t in unique and 1 <= forum.reply_count(t.id) < rules.POSTS_PER_PAGE]
        if not pool:
            return None
        thread = rng.choice(pool)
        last = forum.posts_of(thread.id)[-1]
        thread_board = forum.board(thread.board)
        assert thread_board is not None
        intent = self.phrase(
            rng,
            "Open the thread {t} on the {b} board and tell me who wrote the most recent reply.",
            "In the {b} board, who posted the latest reply in {t}? Open the thread to find out.",
            "Go to the thread {t} ({b} board) and report the username of the last person who replied.",
            t=_quoted(thread.title),
            b=thread_board.name,
        )
        return Draft(
            intent=intent,
            start_url=f"/forum/b/{thread_board.slug}",
            checks=[AnswerCheck(expected=last.author), _on_thread(thread)],
            plan=[Step.click(thread.title), Step.answer(last.author)],
            params={"thread_id": thread.id, "post_id": last.id},
        )


class UserBio(Template):
    """Open a member's profile from the user list and read its "About" line."""

    name = "forum_user_bio"
    site = "forum"
    difficulty = "easy"

    def draft(self, site: Site, rng: random.Random) -> Draft | None:
        forum = _forum(site)
        user = rng.choice(forum.users)
        intent = self.phrase(
            rng,
            "Open {u}'s profile and tell me what their About section says.",
            "What does the member {u} write about themselves? Check their profile page.",
            "Visit the profile of {u} and report their bio.",
            u=user.username,
        )
        return Draft(
            intent=intent,
            start_url="/forum/users",
            checks=[
                AnswerCheck(expected=user.bio, mode="contains", normalize=_LOOSE),
                ElementPresentCheck(css=f'h1#profile-username[data-username="{user.username}"]'),
            ],
            plan=[Step.click(user.username), Step.answer(user.bio)],
            params={"username": user.username},
        )


class UserActivityCount(Template):
    """Read a member's post or thread count, or join date, from the user list."""

    name = "forum_user_activity"
    site = "forum"
    difficulty = "easy"

    def draft(self, site: Site, rng: random.Random) -> Draft | None:
        forum = _forum(site)
        user = rng.choice(forum.users)
        metric = rng.choice(("posts", "threads", "joined"))
        if metric == "joined":
            check = AnswerCheck(expected=_date_forms(user.joined), mode="contains")
            value = user.joined.isoformat()
            intent = self.phrase(
                rng,
                "When did {u} join the forum?",
                "What is the join date of the member {u}?",
                "Look up when the user {u} became a member.",
                u=user.username,
            )
        else:
            n = len(forum.posts_by(user.username) if metric == "posts" else forum.threads_by(user.username))
            check, value = AnswerCheck(expected=str(n), mode="numeric"), str(n)
            intent = self.phrase(
                rng,
                "How many {m} has {u} written on the forum?"
                if metric == "posts"
                else "How many threads has {u} started?",
                "Tell me the number of {m} by the member {u}.",
                "Count the {m} of the user {u} and report the number.",
                u=user.username,
                m=metric,
            )
        return Draft(
            intent=intent,
            start_url="/forum/users",
            checks=[check],
            plan=[Step.answer(value)],
            params={"username": user.username, "metric": metric},
        )


# -- medium ------------------------------------------------------------------------------
@lru_cache(maxsize=_CACHED_FORUMS)
def _subjects_with_hits(forum: ForumData) -> tuple[tuple[str, tuple[Thread, ...]], ...]:
    """Every corpus subject that finds threads, with its hits (newest first)."""
    out = []
    for board in sorted(corpus.SUBJECTS):
        for subject in corpus.SUBJECTS[board]:
            hits = rules.search_threads(forum, rules.ThreadQuery(q=subject))
            if hits:
                out.append((subject, tuple(hits)))
    return tuple(out)


@lru_cache(maxsize=_CACHED_FORUMS)
def _clear_leaders(forum: ForumData, sort: str) -> tuple[tuple[str, Thread], ...]:
    """(subject, top thread) where the subject's results sorted by `sort` have a single leader."""
    metric = forum.thread_votes if sort == "votes" else forum.reply_count
    out = []
    for subject, _ in _subjects_with_hits(forum):
        hits = rules.search_threads(forum, rules.ThreadQuery(q=subject, sort=sort))
        if len(hits) >= 2 and metric(hits[0].id) > metric(hits[1].id):
            out.append((subject, hits[0]))
    return tuple(out)


class SearchCount(Template):
    """Search by keyword, filter by a tag, and report how many threads match."""

    name = "forum_search_count"
    site = "forum"
    difficulty = "medium"

    def draft(self, site: Site, rng: random.Random) -> Draft | None:
        forum = _forum(site)
        subject, hits = rng.choice(_subjects_with_hits(forum))
        # Only tags that narrow the result, so the tag filter matters.
        tags = sorted({tag for t in hits for tag in t.tags if 0 < sum(tag in h.tags for h in hits) < len(hits)})
        plan = [Step.click("Search"), Step.fill("Keywords", subject)]
        tag = rng.choice(tags) if tags and rng.random() < 0.5 else ""
        if tag:
            plan.append(Step.select("Tag", tag))
        n = len(rules.search_threads(forum, rules.ThreadQuery(q=subject, tag=tag)))
        plan += [Step.button("Search"), Step.answer(str(n))]
        scope = f" tagged #{tag}" if tag else ""
        intent = self.phrase(
            rng,
            'Search the forum for "{q}"{s} and tell me how many threads match.',
            'How many forum threads{s} mention "{q}"? Use the search page.',
            'Use the thread search with the keyword "{q}"{s}. How many results are there?',
            q=subject,
            s=scope,
        )
        return Draft(
            intent=intent,
            start_url="/forum/",
            checks=[
                AnswerCheck(expected=str(n), mode="numeric"),
                _searched_for(subject),
                ElementPresentCheck(css=f'p.result-count[data-total="{n}"]'),
            ],
            plan=plan,
            params={"q": subject, "tag": tag, "count": n},
        )


class SearchTopThread(Template):
    """Search, sort the results by votes or replies, and name the top thread."""

    name = "forum_search_top"
    site = "forum"
    difficulty = "medium"

    def draft(self, site: Site, rng: random.Random) -> Draft | None:
        forum = _forum(site)
        sort = rng.choice(("votes", "replies"))
        pool = _clear_leaders(forum, sort)
        if not pool:
            return None
        subject, top = rng.choice(pool)
        label = rules.SORTS[sort]
        intent = self.phrase(
            rng,
            'Search for "{q}", sort the results by {w} and tell me the title of the top thread.',
            'Which thread about "{q}" has the {w}? Search for it, sort by {w}, and give me its title.',
            'Find the threads matching "{q}", order them by {w}, and report the first title.',
            q=subject,
            w=label.lower(),
        )
        return Draft(
            intent=intent,
            start_url="/forum/",
            checks=[
                AnswerCheck(expected=top.title, normalize=_LOOSE),
                _searched_for(subject),
                ElementPresentCheck(css=f'select#sort option[value="{sort}"][selected]'),
                ElementPresentCheck(css=f'table.threads tbody tr.thread-row:first-child[data-thread-id="{top.id}"]'),
            ],
            plan=[
                Step.click("Search"),
                Step.fill("Keywords", subject),
                Step.select("Sort by", label),
                Step.button("Search"),
                Step.answer(top.title),
            ],
            params={"q": subject, "sort": sort, "thread_id": top.id},
        )


class MostUpvotedPost(Template):
    """Find a thread by search and name the author of its most upvoted post."""

    name = "forum_most_upvoted"
    site = "forum"
    difficulty = "medium"
    heldout_only = True

    def draft(self, site: Site, rng: random.Random) -> Draft | None:
        forum = _forum(site)
        pool = []
        for t in _findable(forum):
            posts = forum.posts_of(t.id)
            if not MIN_POSTS_FOR_VOTE_QUESTION <= len(posts) <= rules.POSTS_PER_PAGE:
                continue
            ranked = sorted(posts, key=lambda p: p.votes, reverse=True)
            if ranked[0].votes > ranked[1].votes:
                pool.append((t, ranked[0]))
        if not pool:
            return None
        thread, best = rng.choice(pool)
        intent = self.phrase(
            rng,
            "In the thread {t}, which post has the most upvotes? Tell me who wrote it.",
            "Find the thread {t} and report the author of its most upvoted post (the opening post counts too).",
            "Who wrote the highest-voted post in the discussion {t}?",
            t=_quoted(thread.title),
        )
        return Draft(
            intent=intent,
            start_url="/forum/",
            checks=[AnswerCheck(expected=best.author), _on_thread(thread)],
            plan=_search(thread.title) + [Step.click(thread.title), Step.answer(best.author)],
            params={"thread_id": thread.id, "post_id": best.id},
        )


class LogIn(Template):
    """Log in with the credentials given in the intent."""

    name = "forum_login"
    site = "forum"
    difficulty = "medium"

    def draft(self, site: Site, rng: random.Random) -> Draft | None:
        forum = _forum(site)
        user = rng.choice(forum.users)
        start = rng.choice(["/forum/", "/forum/users", "/forum/tags", f"/forum/b/{rng.choice(forum.boards).slug}"])
        intent = self.phrase(
            rng,
            "Log in to the forum as {u} with the password {p}.",
            "Sign in using username {u} and password {p}.",
            "Please log into the forum. Username: {u}, password: {p}.",
            u=user.username,
            p=user.password,
        )
        return Draft(
            intent=intent,
            start_url=start,
            checks=[StateCheck(path="forum.user", op="equals", expected=user.username)],
            plan=_login(user),
            params={"username": user.username},
        )


# -- hard --------------------------------------------------------------------------------
class ReplyToThread(Template):
    """Log in, find a thread by search, and post a given reply."""

    name = "forum_reply"
    site = "forum"
    difficulty = "hard"

    def draft(self, site: Site, rng: random.Random) -> Draft | None:
        forum = _forum(site)
        if not _findable(forum):
            return None
        thread = rng.choice(_findable(forum))
        user = rng.choice(forum.users)
        text = rng.choice(_REPLIES)
        intent = self.phrase(
            rng,
            'Log in as {u} (password {p}), find the thread {t} and reply with: "{r}"',
            'Using the account {u} / {p}, post the reply "{r}" in the thread {t}.',
            'Sign in as {u} with password {p}. Then search for the thread {t} and answer it with the text "{r}".',
            u=user.username,
            p=user.password,
            t=_quoted(thread.title),
            r=text,
        )
        return Draft(
            intent=intent,
            start_url="/forum/",
            checks=[
                StateCheck(
                    path="forum.new_posts",
                    op="any_match",
                    expected={"thread_id": thread.id, "author": user.username, "body": text},
                ),
                StateCheck(path="forum.new_posts", op="length_eq", expected=1),
            ],
            plan=_login(user)
            + _search(thread.title)
            + [Step.click(thread.title), Step.fill("Your reply", text), Step.button("Post reply")],
            params={"thread_id": thread.id, "username": user.username},
        )


class NewThread(Template):
    """Log in and start a thread with a given title, message and tags on a board."""

    name = "forum_new_thread"
    site = "forum"
    difficulty = "hard"

    def draft(self, site: Site, rng: random.Random) -> Draft | None:
        forum = _forum(site)
        user = rng.choice(forum.users)
        board = rng.choice(forum.boards)
        subject = rng.choice(corpus.SUBJECTS[board.slug])
        title = rng.choice(corpus.TITLE_PATTERNS).format(s=subject, S=subject[0].upper() + subject[1:])
        body = f"{rng.choice(corpus.OPENING_SENTENCES).format(s=subject)} Any tips?"
        tags = sorted(rng.sample(corpus.TAGS[board.slug], rng.randint(1, rules.MAX_TAGS)))
        intent = self.phrase(
            rng,
            'Log in as {u} (password {p}) and start a new thread on the {b} board titled "{t}" with the '
            'message "{m}" and the tags {g}.',
            'As {u} / {p}, create a thread in {b}. Title: "{t}". Message: "{m}". Tags: {g}.',
            'Sign in with username {u} and password {p}, then post a new {b} thread called "{t}" saying '
            '"{m}", tagged {g}.',
            u=user.username,
            p=user.password,
            b=board.name,
            t=title,
            m=body,
            g=", ".join(tags),
        )
        return Draft(
            intent=intent,
            start_url="/forum/",
            checks=[
                StateCheck(path="forum.new_threads", op="length_eq", expected=1),
                StateCheck(
                    path="forum.new_threads",
                    op="any_match",
                    expected={"board": board.slug, "title": title, "author": user.username},
                ),
                StateCheck(path="forum.new_threads.0.tags", op="equals", expected=tags),
                StateCheck(path="forum.new_posts", op="any_match", expected={"author": user.username, "body": body}),
            ],
            plan=_login(user)
            + [
                Step.click(board.name),
                Step.click("Start a new thread"),
                Step.fill("Title", title),
                Step.fill("Message", body),
                Step.fill(f"Tags (comma-separated, at most {rules.MAX_TAGS})", ", ".join(tags)),
                Step.button("Create thread"),
            ],
            params={"board": board.slug, "username": user.username, "title": title},
        )


class UpvotePost(Template):
    """Log in, find a thread, and upvote one member's post in it."""

    name = "forum_upvote"
    site = "forum"
    difficulty = "hard"

    def draft(self, site: Site, rng: random.Random) -> Draft | None:
        forum = _forum(site)
        pool = []
        for t in _findable(forum):
            posts = _first_page(forum, t)
            authors = [p.author for p in forum.posts_of(t.id)]
            pool += [(t, p) for p in posts if authors.count(p.author) == 1]
        if not pool:
            return None
        thread, post = rng.choice(pool)
        voters = [u for u in forum.users if rules.vote_refusal(post, u.username) is None]
        user = rng.choice(voters)
        which = "opening post" if post.id == forum.opening_post(thread.id).id else "reply"
        intent = self.phrase(
            rng,
            "Log in as {u} (password {p}) and upvote the {w} by {a} in the thread {t}.",
            "Sign in with {u} / {p}, open the thread {t} and give {a}'s {w} an upvote.",
            "As the user {u} (password: {p}), find {t} and upvote the {w} written by {a}.",
            u=user.username,
            p=user.password,
            t=_quoted(thread.title),
            a=post.author,
            w=which,
        )
        return Draft(
            intent=intent,
            start_url="/forum/",
            checks=[
                StateCheck(path="forum.votes", op="equals", expected=[{"post_id": post.id, "user": user.username}])
            ],
            plan=_login(user)
            + _search(thread.title)
            + [Step.click(thread.title), Step.button(f"Upvote post {post.id} by {post.author}")],
            params={"thread_id": thread.id, "post_id": post.id, "username": user.username},
        )


class EditOwnPost(Template):
    """Log in as a post's author, find the thread, and rewrite the post."""

    name = "forum_edit_post"
    site = "forum"
    difficulty = "hard"
    heldout_only = True

    def draft(self, site: Site, rng: random.Random) -> Draft | None:
        forum = _forum(site)
        pool = []
        for t in _findable(forum):
            authors = [p.author for p in forum.posts_of(t.id)]
            pool += [(t, p) for p in _first_page(forum, t) if authors.count(p.author) == 1]
        if not pool:
            return None
        thread, post = rng.choice(pool)
        user = forum.user(post.author)
        assert user is not None
        text = rng.choice(_EDITS)
        intent = self.phrase(
            rng,
            'Log in as {u} (password {p}) and edit your post in the thread {t} so that it reads: "{e}"',
            'You are {u} (password {p}). Change the text of your post in {t} to "{e}"',
            'Sign in as {u} / {p}, open the thread {t}, and replace your post\'s text with "{e}".',
            u=user.username,
            p=user.password,
            t=_quoted(thread.title),
            e=text,
        )
        return Draft(
            intent=intent,
            start_url="/forum/",
            checks=[StateCheck(path="forum.edited_posts", op="equals", expected={str(post.id): text})],
            plan=_login(user)
            + _search(thread.title)
            + [
                Step.click(thread.title),
                Step.click(f"Edit post {post.id}"),
                Step.fill("Message", text),
                Step.button("Save changes"),
            ],
            params={"thread_id": thread.id, "post_id": post.id, "username": user.username},
        )


TEMPLATES = [
    LastReplyAuthor,
    UserBio,
    UserActivityCount,
    SearchCount,
    SearchTopThread,
    MostUpvotedPost,
    LogIn,
    ReplyToThread,
    NewThread,
    UpvotePost,
    EditOwnPost,
]
