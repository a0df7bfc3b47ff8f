"""Two people at once: run the same work for each user at the same moment, each in their own
unit of work, to prove that a compare-and-set lets exactly one of them win."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

from sqlalchemy import Engine
from sqlmodel import Session

from mfg.config import Settings
from mfg.db import unit_of_work
from mfg.models import User


def race(
    engine: Engine,
    settings: Settings,
    users: Sequence[User],
    work: Callable[[Session, User], object],
) -> list[object]:
    """Each outcome: "ok", or the error the user got (the loser's error is the point)."""
    barrier = threading.Barrier(len(users))
    outcomes: list[object] = []

    def run(user: User) -> None:
        barrier.wait()
        try:
            with unit_of_work(engine, settings=settings) as session:
                work(session, session.get(User, user.id))
            outcomes.append("ok")
        except Exception as error:
            outcomes.append(error)

    threads = [threading.Thread(target=run, args=(u,)) for u in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes
