"""When the KPI would respond to each proposed setpoint change, as a record on the action.

Issue #14: "actions state when the KPI would respond". The response starts after the setpoint's
cumulative residence time to the KPI's station; where the model holds lagged inputs (recycles,
controllers, slow sensors) the new level is reached later, when the change propagated in time
(:func:`rca_app.core.dynamics.response_steps`) has reached 90% of it. The record goes on
``Action.response`` so the action's table row, page 1's recommendation and the What-if step say
it with the action; the same words stay among the notes.
"""
from __future__ import annotations

from rca_app.core.dynamics import duration_text, response_steps
from rca_app.core.layout.time_keys import parse_duration
from rca_app.core.records import ActionResponse


def action_responses(record, actions, target: str, scm=None, incident=None) -> list[str]:
    """Set each action's :attr:`~rca_app.core.records.Action.response` and say it in notes.

    Parameters
    ----------
    record : DynamicsRecord
        Its ``shifts`` (grid steps per sensor) and ``step``.
    actions : list of Action
        Changed in place: ``response`` set where the KPI would lag the change.
    target : str
    scm : StructuralCausalModel, optional
        The fitted model; with lagged inputs, each action's response is propagated in time.
    incident : Incident, optional
        The incident rows the actions were computed on.

    Returns
    -------
    list of str
        One note per action with a response.
    """
    if not record.step:
        return []
    step = parse_duration(record.step)
    out = []
    for a in actions:
        k = int(record.shifts.get(a.node, 0))
        settle = response_steps(scm, incident, a.node, a.recommended_value) if scm is not None else None
        if settle:
            a.response = ActionResponse(duration_text(step * k), k, duration_text(step * (k + settle)), k + settle)
            out.append(f"setting {a.node}: {target} would start to respond about {a.response.start} after the "
                       f"change (the residence time from its station) and reach 90% of its new level about "
                       f"{a.response.settle} after it (recycles, controllers and slow sensors in the model)")
        elif k:
            a.response = ActionResponse(duration_text(step * k), k)
            out.append(f"setting {a.node}: {target} would respond about {a.response.start} after the change "
                       "(the residence time from its station)")
    return out
