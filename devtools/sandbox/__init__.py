"""A sandbox: a simulated tenant serving, on 127.0.0.1, the Partner Center, Power Automate, Dataverse and BAP
routes the live-check clients call, driven by scenario files. A test and demo tool, not a product feature.

Imports nothing of the product. Imported by the rest of `devtools` (plugin, demo, bench) and tests.
"""

from devtools.sandbox.app import HOST, base_urls, create_sandbox_app
from devtools.sandbox.scenario import Scenario, UnknownScenario, load_scenario, scenario_names

__all__ = ["HOST", "Scenario", "UnknownScenario", "base_urls", "create_sandbox_app", "load_scenario", "scenario_names"]
