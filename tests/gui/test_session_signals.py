"""The Qt Session is only a wrapper: every field and method is the state's, every state event
becomes its signal."""
import pytest

from rca_app.app.session import EVENTS, SessionState


@pytest.fixture
def session(qtbot):
    from rca_app.gui.session import Session

    return Session()


def test_every_public_name_reaches_the_state(session):
    state = session.state
    names = [n for n in dir(state) if not n.startswith("_")]
    for name in names:
        assert getattr(session, name) == getattr(state, name), name   # not shadowed by QObject
    session.step = 3
    session.settings = {"seed": 7}
    assert state.step == 3 and state.settings == {"seed": 7} and "step" not in vars(session)


def test_every_event_is_a_signal(session, qtbot):
    from rca_app.gui.session import _SIGNAL_OF

    assert set(_SIGNAL_OF) == set(EVENTS)
    heard = []
    session.dirtyChanged.connect(lambda on: heard.append(("dirty", on)))
    session.layoutChanged.connect(lambda: heard.append(("layout", None)))
    session.windowsChanged.connect(lambda: heard.append(("windows", None)))
    session.set_dirty(True)
    session.reset()   # announces the layout and windows, and dirty back to False
    assert heard == [("dirty", True), ("layout", None), ("windows", None), ("dirty", False)]
    seen = []
    session.dirtyChanged.connect(seen.append)
    session.apply_preset("Quick (about 5 s)")
    assert seen == [True]


def test_a_session_can_wrap_an_existing_state(qtbot):
    from rca_app.gui.session import Session

    state = SessionState()
    state.set_notes({"team": "A"})
    s = Session(state=state)
    assert s.notes == {"team": "A"} and s.dirty
