"""The What-if warning judges a setting by the range the plant showed (the reference and the
incident rows, core/support.py) and by the action support rule (the KPI under the unbounded
model), and says what happens beyond it; not by the reference's min..max alone."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd

from rca_app.core.analysis import what_if
from rca_app.core.graph import CausalGraph, Edge
from rca_app.core.queries import incident_abduction
from rca_app.core.rootcause import Incident
from rca_app.core.scm import SCMSettings, StructuralCausalModel
from rca_app.core.support import SUPPORT_MARGIN, value_bounds


def _outcome():
    """s -> y (y = 2 s + noise); in the incident s ran 3 sd above its reference mean."""
    rng = np.random.default_rng(5)
    s0, s1 = rng.normal(0, 1, 600), rng.normal(3, 1, 120)
    ref = pd.DataFrame({"s": s0, "y": 2 * s0 + rng.normal(0, 0.3, 600)})
    an = pd.DataFrame({"s": s1, "y": 2 * s1 + rng.normal(0, 0.3, 120)})
    scm = StructuralCausalModel(CausalGraph(("s", "y"), (Edge("s", "y"),)),
                                settings=SCMSettings(mechanisms=("linear",))).fit(ref)
    return SimpleNamespace(scm=scm, incident=Incident("y", "minimize", ref, an), bootstrap_models=[])


def test_a_setting_the_incident_showed_is_not_called_an_extrapolation():
    out = _outcome()
    ref_max, inc_max = out.incident.reference["s"].max(), out.incident.anomaly["s"].max()
    value = (ref_max + inc_max) / 2   # beyond the reference's max, within what the plant showed
    assert ref_max < value < inc_max
    assert what_if(out, "s", value)["warning"] is None


def test_a_setting_beyond_the_plant_says_it_is_held_and_where():
    out = _outcome()
    lo = min(out.incident.reference["s"].min(), out.incident.anomaly["s"].min())
    hi = max(out.incident.reference["s"].max(), out.incident.anomaly["s"].max())
    w = what_if(out, "s", hi + 3 * (hi - lo))
    text = w["warning"]
    assert f"beyond the range the plant showed (what it took in the reference and the incident rows) for s: " \
           f"{lo:.4g} to {hi:.4g}" in text
    assert f"held within the range the plant showed widened by {100 * SUPPORT_MARGIN:.0f}%" in text
    # The unbounded model carries y far beyond anything it took: the action rule's words, and the
    # prediction shown is the bound (y held at the top of its support).
    assert "left unbounded the model would put y" in text and "never proposed as an action" in text
    top = value_bounds(out.scm, incident_abduction(out.scm, out.incident.anomaly).values, ["y"])["y"][1]
    assert np.max(w["predicted_rows"]) <= top + 1e-9
    assert np.isclose(w["predicted_mean"], top)


def test_a_setting_within_the_plant_whose_kpi_stays_within_gives_no_warning():
    out = _outcome()
    assert what_if(out, "s", float(out.incident.reference["s"].mean()))["warning"] is None
