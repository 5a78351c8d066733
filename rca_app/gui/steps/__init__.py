"""One page per step of an investigation (Data, Incident, Layout, Graph, Causes, What-if, Report)."""
