"""Seeded forum content: users, boards, threads, posts, tags.

Everything is generated from `random.Random(seed)` against a fixed "now"
(`BASE_DATETIME`), so the same seed gives the same forum on every machine. Thread and
post ids follow creation time: a larger id is always newer. Each user's password is in
the data (`ForumData.user(name).password`), so tasks that need a login can state it.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from domplay.sites.forum import corpus

BASE_DATETIME = datetime(2024, 6, 1, 12, 0)
"""The forum's fixed "now": every seeded date is before it, every new post is stamped with it."""

N_USERS = 40
N_THREADS = 150
MAX_REPLIES_PER_THREAD = 4
LONG_THREAD_SHARE = 0.08
"""Share of threads that are long discussions (several pages of posts)."""
LONG_THREAD_REPLIES = (12, 30)
MAX_SEEDED_VOTES = 12
THREAD_AGE_MAX_DAYS = 365
REPLY_WINDOW_MAX_DAYS = 10
USER_AGE_MIN_DAYS = 400
USER_AGE_MAX_DAYS = 1500
HOME_BOARD_AUTHOR_SHARE = 0.6
"""Share of a board's threads started by users whose home board it is (so profiles differ)."""


@dataclass(frozen=True)
class User:
    username: str
    password: str
    joined: date
    bio: str
    home_board: str


@dataclass(frozen=True)
class Board:
    slug: str
    name: str
    description: str


@dataclass(frozen=True)
class Thread:
    id: int
    board: str
    """Slug of the board the thread is in."""
    title: str
    author: str
    created: datetime
    tags: tuple[str, ...]


@dataclass(frozen=True)
class Post:
    id: int
    thread_id: int
    author: str
    body: str
    created: datetime
    voters: tuple[str, ...] = ()
    """Usernames that upvoted the post (one vote per user)."""
    edited: bool = False

    @property
    def votes(self) -> int:
        return len(self.voters)


@dataclass(frozen=True)
class ForumData:
    """The whole forum with lookups. Also used for a namespace's merged view (see state.py)."""

    users: tuple[User, ...]
    boards: tuple[Board, ...]
    threads: tuple[Thread, ...]
    posts: tuple[Post, ...]
    _users: dict[str, User] = field(init=False, repr=False, compare=False)
    _boards: dict[str, Board] = field(init=False, repr=False, compare=False)
    _threads: dict[int, Thread] = field(init=False, repr=False, compare=False)
    _posts: dict[int, Post] = field(init=False, repr=False, compare=False)
    _thread_posts: dict[int, tuple[Post, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_thread: dict[int, list[Post]] = {t.id: [] for t in self.threads}
        for p in self.posts:
            by_thread[p.thread_id].append(p)
        set_ = object.__setattr__  # frozen dataclass: indexes are derived once here
        set_(self, "_users", {u.username: u for u in self.users})
        set_(self, "_boards", {b.slug: b for b in self.boards})
        set_(self, "_threads", {t.id: t for t in self.threads})
        set_(self, "_posts", {p.id: p for p in self.posts})
        set_(
            self, "_thread_posts", {k: tuple(sorted(v, key=lambda p: (p.created, p.id))) for k, v in by_thread.items()}
        )

    # -- lookups (None when absent) ------------------------------------------------------
    def user(self, username: str) -> User | None:
        return self._users.get(username)

    def board(self, slug: str) -> Board | None:
        return self._boards.get(slug)

    def thread(self, thread_id: int) -> Thread | None:
        return self._threads.get(thread_id)

    def post(self, post_id: int) -> Post | None:
        return self._posts.get(post_id)

    # -- relations ---------------------------------------------------------------------
    def posts_of(self, thread_id: int) -> tuple[Post, ...]:
        """Posts of a thread, oldest first; the first one is the opening post."""
        return self._thread_posts.get(thread_id, ())

    def opening_post(self, thread_id: int) -> Post:
        return self.posts_of(thread_id)[0]

    def reply_count(self, thread_id: int) -> int:
        return len(self.posts_of(thread_id)) - 1

    def thread_votes(self, thread_id: int) -> int:
        """A thread's votes are its opening post's votes."""
        return self.opening_post(thread_id).votes

    def last_activity(self, thread_id: int) -> datetime:
        return self.posts_of(thread_id)[-1].created

    def threads_in(self, board: str) -> list[Thread]:
        return [t for t in self.threads if t.board == board]

    def threads_by(self, username: str) -> list[Thread]:
        return [t for t in self.threads if t.author == username]

    def posts_by(self, username: str) -> list[Post]:
        return [p for p in self.posts if p.author == username]

    def tags(self) -> dict[str, int]:
        """Every tag with its number of threads, sorted by tag."""
        counts: dict[str, int] = {}
        for t in self.threads:
            for tag in t.tags:
                counts[tag] = counts.get(tag, 0) + 1
        return dict(sorted(counts.items()))


# -- generation --------------------------------------------------------------------------
def generate_forum(seed: int) -> ForumData:
    """The forum for `seed` (deterministic)."""
    rng = random.Random(seed)
    boards = tuple(Board(slug, name, desc) for slug, name, desc in corpus.BOARDS)
    users = _users(rng, [b.slug for b in boards])
    drafts = sorted((_thread_draft(rng, users, b) for b in _board_sequence(rng, boards)), key=lambda d: d[0].created)
    threads: list[Thread] = []
    raw_posts: list[Post] = []
    for tid, (thread, thread_posts) in enumerate(drafts, start=1):
        threads.append(_replace_id(thread, tid))
        raw_posts += [Post(0, tid, p.author, p.body, p.created, p.voters) for p in thread_posts]
    raw_posts.sort(key=lambda p: (p.created, p.thread_id))
    posts = tuple(
        Post(pid, p.thread_id, p.author, p.body, p.created, p.voters) for pid, p in enumerate(raw_posts, start=1)
    )
    return ForumData(users=users, boards=boards, threads=tuple(threads), posts=posts)


def _users(rng: random.Random, board_slugs: list[str]) -> tuple[User, ...]:
    names = rng.sample(corpus.FIRST_NAMES, N_USERS)
    out = []
    for name in names:
        home = rng.choice(board_slugs)
        out.append(
            User(
                username=name + rng.choice(corpus.USER_SUFFIXES),
                password=f"{rng.choice(corpus.PASSWORD_WORDS)}{rng.randint(1000, 9999)}",
                joined=(BASE_DATETIME - timedelta(days=rng.randint(USER_AGE_MIN_DAYS, USER_AGE_MAX_DAYS))).date(),
                bio=rng.choice(corpus.BIO_PATTERNS).format(b=home),
                home_board=home,
            )
        )
    return tuple(out)


def _board_sequence(rng: random.Random, boards: Iterable[Board]) -> list[str]:
    """Board of each thread: uneven sizes so boards differ in thread count."""
    slugs = [b.slug for b in boards]
    weights = [rng.uniform(0.6, 1.6) for _ in slugs]
    return rng.choices(slugs, weights=weights, k=N_THREADS)


def _thread_draft(rng: random.Random, users: tuple[User, ...], board: str) -> tuple[Thread, list[Post]]:
    locals_ = [u for u in users if u.home_board == board]
    pool = locals_ if locals_ and rng.random() < HOME_BOARD_AUTHOR_SHARE else list(users)
    author = rng.choice(pool).username
    subject = rng.choice(corpus.SUBJECTS[board])
    title = rng.choice(corpus.TITLE_PATTERNS).format(s=subject, S=subject[0].upper() + subject[1:])
    created = BASE_DATETIME - timedelta(minutes=rng.randint(2 * 24 * 60, THREAD_AGE_MAX_DAYS * 24 * 60))
    tags = tuple(sorted(rng.sample(corpus.TAGS[board], rng.randint(1, 3))))
    thread = Thread(0, board, title, author, created, tags)
    opening = " ".join(
        [
            rng.choice(corpus.OPENING_SENTENCES).format(s=subject),
            rng.choice(corpus.REPLY_SENTENCES).format(s=subject),
            "Any tips?",
        ]
    )
    posts = [Post(0, 0, author, opening, created, _voters(rng, users, author))]
    span = min(BASE_DATETIME - created, timedelta(days=REPLY_WINDOW_MAX_DAYS))
    offsets = sorted(rng.uniform(60, span.total_seconds()) for _ in range(_reply_count(rng)))
    for off in offsets:
        replier = rng.choice(users).username
        body = " ".join(rng.choice(corpus.REPLY_SENTENCES).format(s=subject) for _ in range(rng.randint(1, 2)))
        when = (created + timedelta(seconds=off)).replace(second=0, microsecond=0)
        posts.append(Post(0, 0, replier, body, when, _voters(rng, users, replier)))
    return thread, posts


def _reply_count(rng: random.Random) -> int:
    if rng.random() < LONG_THREAD_SHARE:
        return rng.randint(*LONG_THREAD_REPLIES)
    return rng.randint(0, MAX_REPLIES_PER_THREAD)


def _voters(rng: random.Random, users: tuple[User, ...], author: str) -> tuple[str, ...]:
    others = [u.username for u in users if u.username != author]
    n = min(int(rng.expovariate(1 / 3)), MAX_SEEDED_VOTES)
    return tuple(sorted(rng.sample(others, n)))


def _replace_id(thread: Thread, tid: int) -> Thread:
    return Thread(tid, thread.board, thread.title, thread.author, thread.created, thread.tags)
