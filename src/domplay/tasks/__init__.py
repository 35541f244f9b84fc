"""Tasks: the Task model, task files, proposers, WebArena import."""

from domplay.tasks.files import load_tasks, save_tasks
from domplay.tasks.model import Task

__all__ = ["Task", "load_tasks", "save_tasks"]
