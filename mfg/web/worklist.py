"""What is waiting for the person logged in: the home page's worklist.

Each domain's tasks are listed in ``mfg.worklist_tasks``: the action a person must be allowed to do,
what is waiting, the page that lists it, and how to count it. The home page shows the tasks the
person may act on that have something waiting, so each role lands on its own work.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from sqlmodel import Session

from mfg import i18n
from mfg.auth.permissions import Action, may
from mfg.models import User


@dataclass(frozen=True)
class Waiting:
    what: str  # "Lots awaiting a QA decision"
    count: int
    url: str  # the page that lists them


@dataclass(frozen=True)
class Task:
    action: Action  # who may act on it
    what: str
    url: str
    count: Callable[[Session, User], int]
    params: Mapping[str, object] = field(default_factory=dict)  # of ``what``, a message


class Worklist:
    def __init__(self, tasks: Iterable[Task] = ()) -> None:
        self._tasks: list[Task] = list(tasks)

    def register(
        self, action: Action, what: str, url: str, count: Callable[[Session, User], int]
    ) -> None:
        self._tasks.append(Task(action, what, url, count))

    def for_user(self, session: Session, user: User) -> list[Waiting]:
        """The tasks ``user`` may act on that have something waiting, in registration order."""
        waiting = []
        for task in self._tasks:
            if may(user, task.action):
                count = task.count(session, user)
                if count:
                    waiting.append(Waiting(i18n.gettext(task.what, **task.params), count, task.url))
        return waiting
