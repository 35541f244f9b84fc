"""The `forum` site: boards, threads, posts, users, tags, search, login, posting, upvotes.

Routes (under `/forum`): `/` boards, `/b/{slug}` a board's threads, `/b/{slug}/new` new
thread form, `/t/{id}` a thread (paginated posts, reply form), `/t/{id}/reply` (POST),
`/post/{id}/edit` (author only; others get a 403 page), `/post/{id}/upvote` (POST),
`/u/{username}` profiles, `/users`, `/tags`, `/search?q=&board=&tag=&author=&sort=&page=`,
`/login`, `/logout` (POST). Posting, editing and voting need a login; without one they
redirect (303) to `/forum/login?next=...`. Page rules live in `rules.py`, state in `state.py`.
"""

from __future__ import annotations

from urllib.parse import quote, urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from domplay.sites.base import Site
from domplay.sites.forum import rules
from domplay.sites.forum.data import ForumData, generate_forum
from domplay.sites.forum.state import ForumState

SEE_OTHER = 303
LOGIN_FAILED_STATUS = 422
RECENT_THREADS_ON_HOME = 10
RECENT_POSTS_ON_PROFILE = 10


class ForumSite(Site):
    name = "forum"
    data: ForumData

    def accounts(self) -> list[tuple[str, str]]:
        return [(u.username, u.password) for u in self.data.users]

    def generate(self, seed: int) -> ForumData:
        return generate_forum(seed)

    def new_state(self) -> ForumState:
        return ForumState()

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/", self.home),
            Route("/b/{slug}", self.board),
            Route("/b/{slug}/new", self.new_thread, methods=["GET", "POST"]),
            Route("/t/{thread_id:int}", self.thread),
            Route("/t/{thread_id:int}/reply", self.reply, methods=["POST"]),
            Route("/post/{post_id:int}/edit", self.edit_post, methods=["GET", "POST"]),
            Route("/post/{post_id:int}/upvote", self.upvote, methods=["POST"]),
            Route("/u/{username}", self.profile),
            Route("/users", self.users),
            Route("/tags", self.tags),
            Route("/search", self.search),
            Route("/login", self.login, methods=["GET", "POST"]),
            Route("/logout", self.logout, methods=["POST"]),
        ]

    # -- helpers -----------------------------------------------------------------------
    def _page(self, request: Request, template: str, status_code: int = 200, **ctx) -> Response:
        st: ForumState = self.state_for(request)
        ctx.setdefault("forum", st.view(self.data))
        return self.render(template, status_code=status_code, user=st.user, rules=rules, path=request.url.path, **ctx)

    def _not_found(self, request: Request, what: str) -> Response:
        return self._page(request, "message.html", 404, heading="Not found", message=f"No such {what}.")

    def _to_login(self, next_path: str) -> RedirectResponse:
        return RedirectResponse(f"/{self.name}/login?next={quote(next_path)}", status_code=SEE_OTHER)

    def _safe_next(self, raw: str | None) -> str:
        root = f"/{self.name}/"
        return raw if raw is not None and raw.startswith(root) and "//" not in raw else root

    def _thread_url(self, forum: ForumData, post_id: int) -> str:
        post = forum.post(post_id)
        assert post is not None
        return f"/{self.name}/t/{post.thread_id}?page={rules.page_of_post(forum, post)}#post-{post_id}"

    # -- reading -----------------------------------------------------------------------
    async def home(self, request: Request) -> Response:
        forum = self.state_for(request).view(self.data)
        recent = rules.sort_threads(forum, forum.threads, "activity")[:RECENT_THREADS_ON_HOME]
        return self._page(request, "home.html", forum=forum, recent=recent)

    async def board(self, request: Request) -> Response:
        forum = self.state_for(request).view(self.data)
        board = forum.board(request.path_params["slug"])
        if board is None:
            return self._not_found(request, "board")
        sort = request.query_params.get("sort", rules.DEFAULT_SORT)
        threads = rules.search_threads(forum, rules.ThreadQuery(board=board.slug, sort=sort))
        paged = rules.paginate(threads, rules.parse_page(request.query_params.get("page")), rules.THREADS_PER_PAGE)
        return self._page(
            request, "board.html", forum=forum, board=board, paged=paged, sort=sort, base_query={"sort": sort}
        )

    async def thread(self, request: Request, errors: dict[str, str] | None = None, reply_body: str = "") -> Response:
        forum = self.state_for(request).view(self.data)
        thread = forum.thread(request.path_params["thread_id"])
        if thread is None:
            return self._not_found(request, "thread")
        paged = rules.paginate(
            forum.posts_of(thread.id), rules.parse_page(request.query_params.get("page")), rules.POSTS_PER_PAGE
        )
        return self._page(
            request,
            "thread.html",
            422 if errors else 200,
            forum=forum,
            thread=thread,
            paged=paged,
            errors=errors or {},
            reply_body=reply_body,
            base_query={},
            notice=rules.VOTE_REFUSALS.get(request.query_params.get("notice", "")),
        )

    async def profile(self, request: Request) -> Response:
        forum = self.state_for(request).view(self.data)
        member = forum.user(request.path_params["username"])
        if member is None:
            return self._not_found(request, "user")
        posts = sorted(forum.posts_by(member.username), key=lambda p: p.id, reverse=True)
        threads = rules.sort_threads(forum, forum.threads_by(member.username), "newest")
        return self._page(
            request,
            "profile.html",
            forum=forum,
            member=member,
            threads=threads,
            post_count=len(posts),
            recent_posts=posts[:RECENT_POSTS_ON_PROFILE],
        )

    async def users(self, request: Request) -> Response:
        forum = self.state_for(request).view(self.data)
        members = sorted(forum.users, key=lambda u: u.username)
        return self._page(request, "users.html", forum=forum, members=members)

    async def tags(self, request: Request) -> Response:
        return self._page(request, "tags.html")

    async def search(self, request: Request) -> Response:
        forum = self.state_for(request).view(self.data)
        qp = request.query_params
        query = rules.ThreadQuery(
            q=qp.get("q", ""),
            board=qp.get("board", ""),
            tag=qp.get("tag", ""),
            author=qp.get("author", ""),
            sort=qp.get("sort", rules.DEFAULT_SORT),
        )
        hits = rules.search_threads(forum, query)
        paged = rules.paginate(hits, rules.parse_page(qp.get("page")), rules.THREADS_PER_PAGE)
        base = {k: v for k, v in vars(query).items() if v}
        return self._page(request, "search.html", forum=forum, query=query, paged=paged, base_query=base)

    # -- login -------------------------------------------------------------------------
    async def login(self, request: Request) -> Response:
        st: ForumState = self.state_for(request)
        if request.method == "GET":
            return self._page(
                request, "login.html", next=self._safe_next(request.query_params.get("next")), username="", error=None
            )
        form = await request.form()
        username, password = str(form.get("username", "")).strip(), str(form.get("password", ""))
        member = self.data.user(username)
        nxt = self._safe_next(str(form.get("next", "")))
        if member is None or member.password != password:
            return self._page(
                request,
                "login.html",
                LOGIN_FAILED_STATUS,
                next=nxt,
                username=username,
                error="Invalid username or password.",
            )
        st.user = member.username
        return RedirectResponse(nxt, status_code=SEE_OTHER)

    async def logout(self, request: Request) -> Response:
        self.state_for(request).user = None
        return RedirectResponse(f"/{self.name}/", status_code=SEE_OTHER)

    # -- writing -----------------------------------------------------------------------
    async def new_thread(self, request: Request) -> Response:
        st: ForumState = self.state_for(request)
        forum = st.view(self.data)
        board = forum.board(request.path_params["slug"])
        if board is None:
            return self._not_found(request, "board")
        if st.user is None:
            return self._to_login(request.url.path)
        if request.method == "GET":
            return self._page(request, "new_thread.html", board=board, values={}, errors={})
        form = await request.form()
        values = {k: str(form.get(k, "")) for k in ("title", "body", "tags")}
        errors = rules.validate_thread(values["title"], values["body"], values["tags"])
        if errors:
            return self._page(request, "new_thread.html", 422, board=board, values=values, errors=errors)
        thread = st.add_thread(
            self.data, board.slug, values["title"], rules.parse_tags(values["tags"]), values["body"], st.user
        )
        return RedirectResponse(f"/{self.name}/t/{thread.id}", status_code=SEE_OTHER)

    async def reply(self, request: Request) -> Response:
        st: ForumState = self.state_for(request)
        forum = st.view(self.data)
        thread = forum.thread(request.path_params["thread_id"])
        if thread is None:
            return self._not_found(request, "thread")
        if st.user is None:
            return self._to_login(f"/{self.name}/t/{thread.id}")
        body = str((await request.form()).get("body", ""))
        error = rules.validate_body(body)
        if error is not None:
            return await self.thread(request, errors={"body": error}, reply_body=body)
        post = st.add_post(self.data, thread.id, body, st.user)
        return RedirectResponse(self._thread_url(st.view(self.data), post.id), status_code=SEE_OTHER)

    async def edit_post(self, request: Request) -> Response:
        st: ForumState = self.state_for(request)
        forum = st.view(self.data)
        post = forum.post(request.path_params["post_id"])
        if post is None:
            return self._not_found(request, "post")
        if st.user is None:
            return self._to_login(request.url.path)
        if not rules.can_edit(post, st.user):
            return self._page(
                request, "message.html", 403, heading="Forbidden", message=f"Only {post.author} can edit this post."
            )
        if request.method == "GET":
            return self._page(request, "edit_post.html", post=post, body=post.body, error=None)
        body = str((await request.form()).get("body", ""))
        error = rules.validate_body(body)
        if error is not None:
            return self._page(request, "edit_post.html", 422, post=post, body=body, error=error)
        st.edit_post(post.id, body)
        return RedirectResponse(self._thread_url(forum, post.id), status_code=SEE_OTHER)

    async def upvote(self, request: Request) -> Response:
        st: ForumState = self.state_for(request)
        forum = st.view(self.data)
        post = forum.post(request.path_params["post_id"])
        if post is None:
            return self._not_found(request, "post")
        back = self._thread_url(forum, post.id)
        if st.user is None:
            return self._to_login(back.split("#")[0])
        refusal = rules.vote_refusal(post, st.user)
        if refusal is None:
            st.add_vote(post.id, st.user)
            return RedirectResponse(back, status_code=SEE_OTHER)
        path, _, frag = back.partition("#")
        return RedirectResponse(f"{path}&{urlencode({'notice': refusal})}#{frag}", status_code=SEE_OTHER)
