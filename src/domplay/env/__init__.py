"""The envs: actions, observations, DomEnv and BrowserEnv (docs/architecture.md, "The words").

Importing this package registers `domplay/DomEnv-v0` with gymnasium; the entry point
(`env.registration.make_dom_env`) is imported only when `gym.make` builds one.
"""

import gymnasium as gym

DOM_ENV_ID = "domplay/DomEnv-v0"

if DOM_ENV_ID not in gym.registry:
    gym.register(id=DOM_ENV_ID, entry_point="domplay.env.registration:make_dom_env")
