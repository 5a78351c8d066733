"""Plain-language explanations of causal terms, used as tooltips and help text.

Kept in one place so the whole window speaks the same language to an engineer who has never
seen a causal graph."""

RESTORATION = (
    "Restoration: how much of the yield loss comes back if this sensor behaves as it did in "
    "the reference period (everything downstream of it recomputed by the model).\n"
    "100% = the whole loss comes back; 0% = none; negative = it would get worse."
)
RESTORATION_CI = (
    "The bar is the 90% interval: the model was refitted on resampled reference data, and 90% "
    "of those refits gave a restoration inside the bar. A long bar means: less certain."
)
RANKED_FIRST = (
    "Ranked first: in how many of the refits on resampled data this sensor came out as the top "
    "cause. Close to 100% means the ranking is stable."
)
REFERENCE = (
    "Reference period: a stretch of normal production. The model learns from it how the line "
    "behaves when all is well."
)
ANOMALY = (
    "Incident window: the stretch where the KPI dropped. Each sensor's behaviour here is compared "
    "with the reference period."
)
CONTROL_LIMITS = (
    "Centre line and 3-sigma control limits of the KPI, from the reference period (I-MR chart: "
    "sigma from the average moving range)."
)
AUTO_DETECT = (
    "Propose the incident window from the KPI alone: an EWMA of the KPI leaving its 3-sigma "
    "limit on the bad side; the longest such stretch is the incident."
)
GRAPH = (
    "The causal graph: an arrow A -> B means 'changing A changes B' (in this line, with this "
    "data). Stations run left to right as material flows; arrows never point backwards."
)
EDGE_WIDTH = (
    "Arrow width: how strongly the cause moves its effect (a one-standard-deviation change of "
    "the cause, in standard deviations of the effect). Darker arrows were found more reliably."
)
CONFIDENCE = (
    "Confidence: in how many resamples of the data discovery found this arrow. 100% = always."
)
MECHANISM = (
    "Mechanism: the fitted formula that predicts this sensor from its causes (the arrows into "
    "it). Linear = a straight-line relation; poly2 = a curve; spline = a smooth bend; "
    "hgb = a flexible tree model for thresholds."
)
OOF_R2 = (
    "Out-of-fold R²: the share of this sensor's variation its causes explain, measured on data "
    "the model did not see while fitting (1 = all of it, 0 = none)."
)
WHAT_IF = (
    "What-if: set this setpoint to a value for all incident rows (everything else as it was) "
    "and let the model recompute the KPI. This is an intervention, do(setpoint = value), not a "
    "correlation."
)
RECOMMENDED = (
    "The setting within the range seen in the reference period that the model predicts gives the "
    "best KPI during the incident."
)
EXOGENOUS = "Exogenous: nothing measured in this line causes it (raw material, ambient, a setpoint held fixed)."
CONTROLLABLE = "Controllable: a setpoint an engineer can change; it is offered in the what-if step."
CATEGORICAL = "Categorical: takes named levels (a supplier, a shift, a recipe) rather than numbers."
STATION = "Stations in process-flow order. A sensor at a later station cannot cause one at an earlier station."
REFIT = (
    "Refit: keep this graph (with your edits) and recompute the mechanisms and the ranking, "
    "without discovering the graph again."
)
REDISCOVER = (
    "Discover the graph again from the data. Arrows you forced or added are kept as required, "
    "arrows you removed stay forbidden."
)
UNEXPLAINED = (
    "The KPI itself: the part of the loss no measured upstream sensor explains (a cause at the "
    "last station, or one the data do not see)."
)

STEP_HELP = {
    "data": "Open the sensor table (CSV, Excel or Parquet): one row per time step, batch or part. "
            "Problems found in the file are listed below; click one to see the cell.",
    "incident": "Drag the green band over normal production (reference) and the red band over the "
                "yield drop (incident), or press Auto-detect. Then press Find root causes (F5).",
    "layout": "Put every sensor in its station, stations in the order material flows. Mark raw "
              "material and ambient sensors exogenous and setpoints controllable.",
    "graph": "What the data say causes what. Click a sensor to see how its causes drive it. If an "
             "arrow is physically impossible, remove it; then Refit (F5).",
    "causes": "Sensors ranked by how much of the yield loss comes back if each one behaves as in "
              "the reference period. Select one to see its trend and its path to the KPI.",
    "whatif": "Try a setpoint: move the slider and see the KPI the model predicts for the incident "
              "rows, compared with what actually happened.",
    "verify": "After a change on the line (a setpoint, a supplier, a repair), mark when it was made "
              "and what changed: the KPI after it is compared with the KPI the model predicts had it "
              "not been made, so a better lot that arrived the same week is not credited to the fix.",
    "report": "Write what was done and export the investigation as a PDF report.",
}
