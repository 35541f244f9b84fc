"""Self-play without an oracle: exploration walks, hindsight goals verified by replay, and a
curriculum from the model's failures. Nothing here reads a template's reference solution.

- `walk` — `RandomWalker` (a policy that needs no model) and `record_walk`: run actions in an
  env and keep the snapshot after every step.
- `replay` — `verified_path`: a candidate goal is kept only if replaying its actions in a fresh
  env passes its checks, the empty path fails them, and every shortened or altered path fails.
- `hindsight` — relabellers that read the goal an episode achieved: `TemplateRelabeller`
  (built-in sites: each template family recognises its own goals, phrased as its tasks are)
  and `DomRelabeller` (any site: pages reached and values read, from the DOM alone).
- `explore` — `ExplorationProposer`, a `tasks.sources.Proposer` over any allowlisted site:
  a frontier of discovered pages, walks from them, every walk relabelled.
- `curriculum` — easier variants (start later on a verified path) of tasks the model fails,
  harder ones (start earlier) of tasks it solves.
"""
