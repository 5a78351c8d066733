"""Settings a controller cancels (trial 3, #3).

A setting upstream of a loop's controlled variable (CV) - a preheat before a reactor temperature
the cooling loop holds - moves the CV only until its controller answers: in automatic the
manipulated variable moves instead and the CV returns to its setpoint, so whatever acts through
the CV is cancelled. A structural model learnt from rows in which the controller held the CV
rarely captures its integral action, and predicts the setting's effect as if nothing held the CV.
Each action is checked here against the layout's declared loops and the model's graph, and warned
about when its effect runs through a held CV.
"""
from __future__ import annotations


def held_on_the_way(graph, node: str, target: str, loops, lagged=()) -> tuple[list, bool]:
    """The declared loops whose controlled variable lies on ``node``'s paths to ``target``, and
    whether every path passes one.

    A setting upstream of a loop's controlled variable (a preheat before a temperature the reactor's
    cooling loop holds) moves that variable only until its controller answers: in automatic the
    manipulated variable moves instead and the CV returns to its setpoint, so what acts through the
    CV is cancelled. A model learnt without the controller's integral action does not show this.

    Parameters
    ----------
    graph : CausalGraph
        The model's graph (lagged columns included).
    node, target : str
    loops : list of Loop
    lagged : list of LagInput
        The model's lagged columns: a sensor reaches its lagged copy's children.

    Returns
    -------
    (list of Loop, bool)
        The loops held on the way (none when ``node`` is a loop's own CV or MV, or does not reach
        ``target``), and True when no path avoids them.
    """
    copies: dict[str, list[str]] = {}
    for li in lagged:
        copies.setdefault(li.source, []).append(li.node)
    if any(node in (lp.controlled, lp.manipulated) for lp in loops) or node not in graph.nodes:
        return [], False
    ahead = _reachable(graph, node, copies)
    if target not in ahead:
        return [], False
    held = [lp for lp in loops if lp.controlled in ahead and lp.controlled != target
            and target in _reachable(graph, lp.controlled, copies)]
    if not held:
        return [], False
    return held, target not in _reachable(graph, node, copies, {lp.controlled for lp in held})


def held_loop_warnings(graph, node: str, target: str, loops, lagged=()) -> list[str]:
    """The warning of a setting whose effect on ``target`` runs through a controlled variable its
    loop holds (:func:`held_on_the_way`): empty when none does.

    The text starts with "acts on" (every path held: the controller cancels it) or "part of"
    (some paths held), followed by the setting's name, so a reader can tell an action the
    controller cancels from the others.

    Parameters
    ----------
    graph : CausalGraph
    node, target : str
    loops : list of Loop
    lagged : list of LagInput

    Returns
    -------
    list of str
    """
    held, every = held_on_the_way(graph, node, target, loops, lagged)
    if not held:
        return []
    cvs = " and ".join(lp.controlled for lp in held)
    mvs = " and ".join(lp.manipulated for lp in held)
    at = " and ".join(f"{lp.controlled} at {lp.setpoint:g}" if isinstance(lp.setpoint, float)
                      else f"{lp.controlled} at its setpoint" + (f" {lp.setpoint}" if lp.setpoint else "")
                      for lp in held)
    holds = "its loop holds" if len(held) == 1 else "their loops hold"
    if every:
        return [f"acts on {target} only through {cvs}, which {holds} ({at}): in automatic the controller will cancel "
                f"the change ({mvs} moves instead and {cvs} returns to its setpoint), so the predicted effect on "
                f"{target} will not come. The model, learnt from rows in which the controller held {cvs}, does not "
                f"show this: do not use {node} to restore {target} unless the loop is in manual"]
    return [f"part of {node}'s effect on {target} goes through {cvs}, which {holds} ({at}): in automatic the "
            f"controller cancels that part ({mvs} moves instead), so expect less than predicted"]


def _reachable(graph, start: str, copies: dict, blocked=frozenset()) -> set:
    """Nodes ``start`` reaches in ``graph`` (through lagged copies too), never entering ``blocked``."""
    seen, todo = {start}, [start]
    while todo:
        n = todo.pop()
        for m in [*graph.children(n), *copies.get(n, [])]:
            if m not in seen and m not in blocked:
                seen.add(m)
                todo.append(m)
    return seen
