"""Per-namespace forum state and the merged view it gives of the seeded forum.

`ForumState.to_json()` — what checks read as `snapshot.state["forum"]`:

    {
      "user": "anna_k" | null,                 # logged-in username
      "new_threads": [{"id": 151, "board": "cooking", "title": "...", "tags": ["baking"],
                       "author": "anna_k", "post_id": 704}],
      "new_posts": [{"id": 704, "thread_id": 151, "author": "anna_k", "body": "..."}],
                                               # every post written, opening posts included
      "edited_posts": {"12": "new body"},      # post id (string) -> its latest body
      "votes": [{"post_id": 12, "user": "anna_k"}]   # upvotes cast, in order
    }

The seeded `ForumData` stays shared and immutable; `ForumState.view(seeded)` returns a
`ForumData` with this namespace's threads, posts, edits and votes applied, which is what
every page shows. New items are stamped with `BASE_DATETIME` and get ids after the seeded ones.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any

from domplay.sites.forum.data import BASE_DATETIME, ForumData, Post, Thread


@dataclass(frozen=True)
class NewThread:
    id: int
    board: str
    title: str
    tags: tuple[str, ...]
    author: str
    post_id: int


@dataclass(frozen=True)
class NewPost:
    id: int
    thread_id: int
    author: str
    body: str


@dataclass(frozen=True)
class Vote:
    post_id: int
    user: str


@dataclass
class ForumState:
    user: str | None = None
    new_threads: list[NewThread] = field(default_factory=list)
    new_posts: list[NewPost] = field(default_factory=list)
    edited_posts: dict[int, str] = field(default_factory=dict)
    votes: list[Vote] = field(default_factory=list)
    _changes: int = field(default=0, repr=False, compare=False)
    _cache: tuple[int, ForumData] | None = field(default=None, repr=False, compare=False)

    def to_json(self) -> dict[str, Any]:
        return {
            "user": self.user,
            "new_threads": [{**asdict(t), "tags": list(t.tags)} for t in self.new_threads],
            "new_posts": [asdict(p) for p in self.new_posts],
            "edited_posts": {str(k): v for k, v in self.edited_posts.items()},
            "votes": [asdict(v) for v in self.votes],
        }

    # -- changes -----------------------------------------------------------------------
    def add_thread(
        self, seeded: ForumData, board: str, title: str, tags: tuple[str, ...], body: str, author: str
    ) -> NewThread:
        tid = max(t.id for t in seeded.threads) + 1 + len(self.new_threads)
        post = self.add_post(seeded, tid, body, author)
        thread = NewThread(tid, board, title.strip(), tags, author, post.id)
        self.new_threads.append(thread)
        self._changes += 1
        return thread

    def add_post(self, seeded: ForumData, thread_id: int, body: str, author: str) -> NewPost:
        pid = max(p.id for p in seeded.posts) + 1 + len(self.new_posts)
        post = NewPost(pid, thread_id, author, body.strip())
        self.new_posts.append(post)
        self._changes += 1
        return post

    def edit_post(self, post_id: int, body: str) -> None:
        self.edited_posts[post_id] = body.strip()
        self._changes += 1

    def add_vote(self, post_id: int, user: str) -> None:
        self.votes.append(Vote(post_id, user))
        self._changes += 1

    # -- merged view -------------------------------------------------------------------
    def view(self, seeded: ForumData) -> ForumData:
        """The forum as this namespace sees it (the seeded data itself when nothing changed)."""
        if self._changes == 0:
            return seeded
        if self._cache is not None and self._cache[0] == self._changes:
            return self._cache[1]
        merged = self._merge(seeded)
        self._cache = (self._changes, merged)
        return merged

    def _merge(self, seeded: ForumData) -> ForumData:
        threads = seeded.threads + tuple(
            Thread(t.id, t.board, t.title, t.author, BASE_DATETIME, t.tags) for t in self.new_threads
        )
        voters: dict[int, list[str]] = {}
        for v in self.votes:
            voters.setdefault(v.post_id, []).append(v.user)
        posts = []
        for p in seeded.posts + tuple(Post(n.id, n.thread_id, n.author, n.body, BASE_DATETIME) for n in self.new_posts):
            if p.id in self.edited_posts:
                p = replace(p, body=self.edited_posts[p.id], edited=True)
            if p.id in voters:
                p = replace(p, voters=p.voters + tuple(voters[p.id]))
            posts.append(p)
        return ForumData(users=seeded.users, boards=seeded.boards, threads=threads, posts=tuple(posts))
