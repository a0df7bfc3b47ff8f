"""Every GMP record has the audit event of its creation: each rule of ``mfg.audit.creation`` is
exercised by the demo (made through the ``mfg demo`` command), finds nothing missing there, and
names the record once the event that created it is gone."""

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, delete
from sqlmodel import Session, col, func, select

from mfg.audit.creation import CREATION_RULES, CreationRule, records_without_creation_event
from mfg.config import Settings
from mfg.db import make_engine, unit_of_work
from mfg.models import AuditEvent, User
from mfg.qc import specs
from tests.audit.tamper import drop_append_only_triggers
from tests.conftest import TEST_SECRET
from tests.test_cli import run_mfg


@pytest.fixture(scope="module")
def demo_engine(db_factory, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    url = db_factory.empty()
    made = run_mfg("demo", env_extra={"MFG_DATABASE_URL": url}, cwd=tmp_path_factory.mktemp("demo"))
    assert made.returncode == 0, made.stderr
    engine = make_engine(url)
    settings = Settings(
        database_url=url,
        data_dir=tmp_path_factory.mktemp("var"),
        secret_key=TEST_SECRET,
        password_hashing="test",
    )
    # the demo drafts no specification: QA drafts one
    with unit_of_work(engine, settings=settings) as session:
        qa = session.exec(select(User).where(User.username == "qa")).one()
        tests = [specs.as_dict(t) for t in specs.tests_of(session, specs.in_force(session))]
        specs.create_draft(session, actor=qa, title="Next version", note="", tests=tests)
    drop_append_only_triggers(engine)
    yield engine
    engine.dispose()
    db_factory.drop(url)


def _rows(session: Session, rule: CreationRule) -> list[str]:
    query = select(rule.key).select_from(rule.model)
    if rule.join is not None:
        query = query.join(*rule.join)
    if rule.where is not None:
        query = query.where(rule.where)
    return [str(name) for name in session.exec(query.order_by(rule.key)).all()]


def test_every_gmp_record_of_the_demo_has_its_creation_event(demo_engine: Engine) -> None:
    with Session(demo_engine) as session:
        empty = [rule.table for rule in CREATION_RULES if not _rows(session, rule)]
        assert not empty, f"the demo makes no rows for the rules of {empty}"
        assert records_without_creation_event(session, limit=50) == []


@pytest.mark.parametrize(
    "rule", CREATION_RULES, ids=[f"{r.table}-{r.actions[0]}" for r in CREATION_RULES]
)
def test_a_gmp_record_without_its_creation_event_is_named(
    demo_engine: Engine, rule: CreationRule
) -> None:
    with demo_engine.connect() as conn:
        transaction = conn.begin()
        try:
            with Session(bind=conn) as session:
                name = _rows(session, rule)[0]
                kind = rule.entity_type if isinstance(rule.entity_type, str) else None
                if kind is None:  # the row says what it is about (a signature)
                    kind = session.exec(
                        select(rule.entity_type)
                        .select_from(rule.model)
                        .where(rule.key == name)
                        .limit(1)
                    ).one()
                # one event of its creation taken away, as a tamperer with database access would
                newest = session.exec(
                    select(func.max(AuditEvent.seq)).where(
                        AuditEvent.entity_type == kind,
                        AuditEvent.entity_id == name,
                        col(AuditEvent.action).in_(rule.actions),
                    )
                ).one()
                assert newest is not None
                session.execute(delete(AuditEvent).where(col(AuditEvent.seq) == newest))
                missing = records_without_creation_event(session, limit=1000)
                assert (rule.table, name) in missing
        finally:
            transaction.rollback()
