"""The forum's page rules as plain functions: search, sort, pagination, validation, permissions.

Route handlers and task templates call the same functions, so a task's ground truth is
computed exactly as the page computes it, e.g.

    >>> from domplay.sites.forum.data import generate_forum
    >>> forum = generate_forum(0)
    >>> hits = search_threads(forum, ThreadQuery(q="sourdough", sort="votes"))
    >>> [t.board for t in hits][:1]
    ['cooking']
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

from domplay.sites.forum.data import ForumData, Post, Thread
from domplay.sites.paging import Paged, paginate  # noqa: F401 (re-exported for templates)

THREADS_PER_PAGE = 20
POSTS_PER_PAGE = 10
TITLE_MIN_CHARS = 5
TITLE_MAX_CHARS = 120
BODY_MAX_CHARS = 5000
MAX_TAGS = 3
TAG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,23}$")

SORTS: dict[str, str] = {
    "newest": "Newest first",
    "oldest": "Oldest first",
    "activity": "Latest activity",
    "replies": "Most replies",
    "votes": "Most votes",
}
"""Sort keys of thread lists. Ties always break by newest thread id first."""
DEFAULT_SORT = "newest"

T = TypeVar("T")


@dataclass(frozen=True)
class ThreadQuery:
    """What `/forum/search` filters on (empty string = no filter).

    `q`: every whitespace-separated term must occur (case-insensitive substring) in the
    thread title or its opening post. `board`, `tag`: exact slug/tag. `author`: exact
    username of the thread starter, case-insensitive.
    """

    q: str = ""
    board: str = ""
    tag: str = ""
    author: str = ""
    sort: str = DEFAULT_SORT


def thread_matches(forum: ForumData, thread: Thread, query: ThreadQuery) -> bool:
    if query.board and thread.board != query.board:
        return False
    if query.tag and query.tag not in thread.tags:
        return False
    if query.author and thread.author.lower() != query.author.strip().lower():
        return False
    text = f"{thread.title}\n{forum.opening_post(thread.id).body}".lower()
    return all(term in text for term in query.q.lower().split())


def sort_threads(forum: ForumData, threads: Sequence[Thread], sort: str) -> list[Thread]:
    """`threads` in the order of sort key `sort` (unknown keys fall back to newest)."""
    newest = sorted(threads, key=lambda t: t.id, reverse=True)
    if sort == "oldest":
        return newest[::-1]
    if sort == "activity":
        return sorted(newest, key=lambda t: forum.last_activity(t.id), reverse=True)
    if sort == "replies":
        return sorted(newest, key=lambda t: forum.reply_count(t.id), reverse=True)
    if sort == "votes":
        return sorted(newest, key=lambda t: forum.thread_votes(t.id), reverse=True)
    return newest


def search_threads(forum: ForumData, query: ThreadQuery) -> list[Thread]:
    """All threads matching `query`, sorted by `query.sort` (before pagination)."""
    hits = [t for t in forum.threads if thread_matches(forum, t, query)]
    return sort_threads(forum, hits, query.sort)


# -- pagination: see domplay.sites.paging ---------------------------------------------
def parse_page(raw: str | None) -> int:
    """A `?page=` value as an int; anything unparsable is page 1."""
    try:
        return int(raw) if raw is not None else 1
    except ValueError:
        return 1


def page_of_post(forum: ForumData, post: Post) -> int:
    """The thread page (1-based) on which `post` is shown."""
    ids = [p.id for p in forum.posts_of(post.thread_id)]
    return ids.index(post.id) // POSTS_PER_PAGE + 1


# -- validation --------------------------------------------------------------------------
def parse_tags(text: str) -> tuple[str, ...]:
    """Comma-separated tags, lower-cased, blanks and duplicates dropped, order kept."""
    seen: list[str] = []
    for raw in text.split(","):
        tag = raw.strip().lower()
        if tag and tag not in seen:
            seen.append(tag)
    return tuple(seen)


def validate_body(body: str) -> str | None:
    """The error for a post body, or None when it is valid."""
    if not body.strip():
        return "Post body must not be empty."
    if len(body) > BODY_MAX_CHARS:
        return f"Post body must be at most {BODY_MAX_CHARS} characters."
    return None


def validate_thread(title: str, body: str, tags_text: str) -> dict[str, str]:
    """Errors of a new-thread form keyed by field name ("title", "body", "tags"); empty if valid."""
    errors: dict[str, str] = {}
    n = len(title.strip())
    if not TITLE_MIN_CHARS <= n <= TITLE_MAX_CHARS:
        errors["title"] = f"Title must be {TITLE_MIN_CHARS} to {TITLE_MAX_CHARS} characters (got {n})."
    body_error = validate_body(body)
    if body_error is not None:
        errors["body"] = body_error
    tags = parse_tags(tags_text)
    bad = [t for t in tags if not TAG_RE.match(t)]
    if bad:
        errors["tags"] = f"Invalid tag {bad[0]!r}: use lowercase letters, digits and hyphens."
    elif len(tags) > MAX_TAGS:
        errors["tags"] = f"At most {MAX_TAGS} tags (got {len(tags)})."
    return errors


# -- permissions -------------------------------------------------------------------------
def can_edit(post: Post, username: str | None) -> bool:
    """Only a post's author may edit it."""
    return username is not None and post.author == username


VOTE_REFUSALS: dict[str, str] = {
    "own-post": "You cannot upvote your own post.",
    "already-voted": "You have already upvoted this post.",
}


def vote_refusal(post: Post, username: str) -> str | None:
    """Why `username` may not upvote `post` (a key of `VOTE_REFUSALS`), or None when the vote counts."""
    if post.author == username:
        return "own-post"
    if username in post.voters:
        return "already-voted"
    return None
